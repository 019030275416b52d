//! Comms integration tests, one binary: notifications, announcements, system messages and
//! the activity feed through real HTTP on SQLite and PostgreSQL.

mod digests;
mod feed;
mod messages;
mod nodes;
mod notifications;
mod updates;

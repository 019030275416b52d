//! Work integration tests, one binary: activities, tags, projects and tasks through real
//! HTTP on SQLite and PostgreSQL.

mod activities;
mod pages;
mod project_pages;
mod projects;

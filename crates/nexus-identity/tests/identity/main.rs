//! Identity integration tests, one binary: the API on SQLite and PostgreSQL, and the pages
//! in headless Chromium.

mod api;
mod browser;
mod plant;

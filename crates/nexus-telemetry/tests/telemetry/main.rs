//! Telemetry integration tests, one binary: ingestion (HTTP and MQTT), queries, alerts and
//! the pages through real HTTP on SQLite and PostgreSQL, and the live metrics page in
//! headless Chromium.

mod alerts;
mod archive;
mod browser;
mod common;
mod home;
mod ingest;
mod mqtt;
mod pages;

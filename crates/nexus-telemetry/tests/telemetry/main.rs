//! Telemetry integration tests, one binary: ingestion, queries and alerts through real
//! HTTP on SQLite and PostgreSQL.

mod alerts;
mod ingest;

//! Telemetry integration tests, one binary: ingestion (HTTP and MQTT), queries and alerts
//! through real HTTP on SQLite and PostgreSQL.

mod alerts;
mod ingest;
mod mqtt;

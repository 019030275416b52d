//! SeaORM entities of telemetry. Samples and rollups are written and read with raw SQL
//! on the hot paths, so only the definitions have an entity.

pub mod asset_metric;

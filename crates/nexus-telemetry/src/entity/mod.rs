//! SeaORM entities of telemetry. Samples and rollups are written and read with raw SQL
//! on the hot paths, and so are alerts by the alert engine; the rest go through these.

pub mod alert_rule;
pub mod asset_metric;
pub mod meter_schedule;
pub mod metric_alert;
pub mod prediction;

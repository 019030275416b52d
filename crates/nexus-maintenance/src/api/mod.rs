//! HTTP handlers of maintenance: thin, each declaring its permission. One module per
//! area, each with its routes and its OpenAPI paths.

pub mod assets;
pub mod exchange;
pub mod inventory;
pub mod kpis;
pub mod qr;
pub mod requests;
pub mod schedules;
pub mod work_orders;

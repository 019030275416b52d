//! The web pages of maintenance, one module per area. Handlers parse the form, call the
//! same services as the JSON API and render a template.

mod asset_forms;
mod assets;
mod inventory;
mod kpis;
mod photos;
mod pick;
mod requests;
mod schedules;
mod words;
mod work_orders;

use axum::Router;
use nexus_core::AppState;

/// Every page of maintenance.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(asset_forms::router())
        .merge(assets::router())
        .merge(inventory::router())
        .merge(kpis::router())
        .merge(photos::router())
        .merge(requests::router())
        .merge(schedules::router())
        .merge(work_orders::router())
}

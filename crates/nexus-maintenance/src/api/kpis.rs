//! Handlers of maintenance KPIs.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use nexus_core::auth::Require;
use nexus_core::{ApiQuery, ApiResult, AppState, Timestamp};
use utoipa::OpenApi;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

/// MTTR, MTBF, availability, PM compliance, backlog and cost (labor + parts) of one
/// asset, of a location with everything below it, or of everything, over a period, with
/// a weekly or monthly series.
#[utoipa::path(get, path = "/api/v1/maintenance/kpis", tag = "maintenance", security(("bearer" = ["maintenance_kpis:read"])),
    params(KpiQuery), responses((status = 200, body = KpiReport), (status = 422)))]
pub async fn kpis(
    State(state): State<AppState>,
    _: Require<KpisRead>,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> ApiResult<Json<KpiReport>> {
    Ok(Json(
        service::kpis(state.db.read(), &q, Timestamp::now()).await?,
    ))
}

/// The routes of KPIs.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/maintenance/kpis", get(kpis))
}

#[derive(OpenApi)]
#[openapi(paths(kpis))]
pub struct ApiDoc;

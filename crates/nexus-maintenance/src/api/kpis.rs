//! Handlers of maintenance KPIs.

use axum::Json;
use axum::extract::State;
use nexus_core::auth::Require;
use nexus_core::{ApiQuery, ApiResult, AppState, Timestamp};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(kpis))
}

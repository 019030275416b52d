//! Liveness and readiness probes.

use axum::extract::State;
use axum::http::StatusCode;
use nexus_core::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process is up and its database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200), (status = 503, description = "Database unreachable")))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

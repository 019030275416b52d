//! TODO

use axum::Router;
use nexus_core::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
}

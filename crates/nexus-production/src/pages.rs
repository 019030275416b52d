pub fn router() -> axum::Router<nexus_core::AppState> { axum::Router::new() }

//! The hand-written stylesheet and script of the web UI, compiled into the binary.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use nexus_core::AppState;

const CSS: &str = include_str!("../static/nexus.css");
const JS: &str = include_str!("../static/nexus.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/static/nexus.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/static/nexus.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

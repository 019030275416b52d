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
        // Browsers ask for it on their own; without it every first page logs a failed load.
        .route(
            "/favicon.ico",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
}

/// The icon: an N on the header's colour.
const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#17202f"/><path d="M9 24V8h3l8 11V8h3v16h-3l-8-11v11z" fill="#fff"/></svg>"##;

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

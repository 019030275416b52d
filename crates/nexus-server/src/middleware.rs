//! Cross-cutting layers: security headers, body limit, timeout, panic catching, metrics,
//! and problem+json for unknown API routes.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use nexus_core::{ApiError, AppState};
use std::sync::atomic::{AtomicU64, Ordering};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::Instrument;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const CSP: &str = "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; \
script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("handler panicked".into()).into_response()
}

async fn not_found(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, _) = req.into_parts();
    if parts.uri.path().starts_with("/api/") {
        ApiError::not_found(format!("route {}", parts.uri.path())).into_response()
    } else {
        nexus_core::pages::not_found_page(&mut parts, &state).await
    }
}

/// Bulk uploads (CSV files) may take this long; everything else gets the configured timeout.
const BULK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Abandons a request that runs past its time with 408.
async fn deadline(req: Request, next: Next, timeout: std::time::Duration) -> Response {
    let bulk = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/csv"));
    let limit = if bulk {
        BULK_TIMEOUT.max(timeout)
    } else {
        timeout
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "request timed out").into_response(),
    }
}

/// Gives every request an id (the caller's `x-request-id`, else a new one), runs it in a
/// span carrying that id so internal errors are logged with it, and echoes it back.
async fn request_id(req: Request, next: Next) -> Response {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:x}", NEXT.fetch_add(1, Ordering::Relaxed)));
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let mut res = next.run(req).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

/// Runs the request with the plant's currency and time zone as `nexus_core::plant::current`,
/// which pages read to show times and money.
async fn plant_scope(State(state): State<AppState>, req: Request, next: Next) -> Response {
    nexus_core::plant::scope(state.plant.get(), next.run(req)).await
}

pub fn wrap(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let timeout = std::time::Duration::from_secs(state.config.request_timeout_secs);
    router
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            plant_scope,
        ))
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| deadline(req, next, timeout),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(request_id))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
}

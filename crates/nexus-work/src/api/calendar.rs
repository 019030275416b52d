//! Handlers of the calendar feed.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::{ApiResult, AppState, ClientInfo};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

/// Whether you have a calendar feed, and since when (its URL is shown only when made).
#[utoipa::path(get, path = "/api/v1/calendar-feed", tag = "work", security(("bearer" = ["activities:read"])),
    responses((status = 200, body = CalendarFeed)))]
pub async fn get_feed(
    State(state): State<AppState>,
    Require(user, _): Require<ActivitiesRead>,
) -> ApiResult<Json<CalendarFeed>> {
    Ok(Json(service::calendar_feed(state.db.read(), &user).await?))
}

/// Make your calendar feed URL, or a new one (the old one stops working): subscribe
/// your calendar app to `path` after this server's address. Guests (read-only) may not.
#[utoipa::path(post, path = "/api/v1/calendar-feed", tag = "work", security(("bearer" = ["activities:write"])),
    responses((status = 201, body = CalendarFeed)))]
pub async fn reset_feed(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ActivitiesWrite>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::reset_calendar_feed(&state, &ctx, &user).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Turn your calendar feed off.
#[utoipa::path(delete, path = "/api/v1/calendar-feed", tag = "work", security(("bearer" = ["activities:write"])),
    responses((status = 204), (status = 404)))]
pub async fn delete_feed(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ActivitiesWrite>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete_calendar_feed(&state, &ctx, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A calendar feed (iCalendar, RFC 5545): the activities and tasks of the user whose
/// secret token is in the path, 90 days back to a year ahead. No sign-in: the token is
/// the key; 404 for any other.
#[utoipa::path(get, path = "/api/v1/calendar-feeds/{token}", tag = "work", security(()),
    params(("token" = String, Path, description = "The feed's secret token, `.ics` after it or not")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404)))]
pub async fn feed(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let body = service::feed_ics(state.db.read(), &token).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    ))
}

/// The routes of the calendar feed.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_feed, reset_feed, delete_feed))
        .routes(routes!(feed))
}

//! Handlers of the activity feed.

use axum::Json;
use axum::extract::State;
use nexus_core::{ApiQuery, ApiResult, AppState, CurrentUser};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service;

/// Your activity feed, newest first: your own actions (sign-ins, records you created or
/// changed) and others' changes to what you follow (work orders and assets you are on,
/// your activities, tasks and projects). Paged by key: pass `next_after` as `after`.
#[utoipa::path(get, path = "/api/v1/feed", tag = "comms", security(("bearer" = [])),
    params(FeedQuery), responses((status = 200, body = FeedPage)))]
pub async fn feed(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> ApiResult<Json<FeedPage>> {
    Ok(Json(service::feed::page(&state, &user, &q).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(feed))
}

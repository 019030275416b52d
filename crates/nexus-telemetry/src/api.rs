//! Handlers of telemetry: metric definitions, ingestion, history, settings.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nexus_core::archive::{ArchiveQuery, ArchiveReport, ArchiveRun};
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::{
    ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, IfMatch, ListResponse, PageParams,
    Versioned,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

/// Every metric of an asset with its current value (`AssetMetrics`), by name: the
/// complete list in one page.
#[utoipa::path(get, path = "/api/v1/assets/{id}/metrics", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = ListResponse<MetricOut>), (status = 404)))]
pub async fn list_metrics(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ListResponse<MetricOut>>> {
    let all = service::list_metrics(state.db.read(), id).await?;
    Ok(Json(ListResponse::all(all)))
}

/// Define a metric of an asset: unit, kind, thresholds and hysteresis.
#[utoipa::path(post, path = "/api/v1/assets/{id}/metrics", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path)), request_body = MetricData,
    responses((status = 201, body = MetricOut), (status = 404), (status = 409), (status = 422)))]
pub async fn create_metric(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<MetricData>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_metric(&state, &client.audit(Some(user.id())), id, req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One metric of an asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}/metrics/{metric}", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(("id" = i64, Path), ("metric" = String, Path)), responses((status = 200, body = MetricOut), (status = 404)))]
pub async fn get_metric(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    Path((id, metric)): Path<(i64, String)>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_metric(state.db.read(), id, &metric).await?;
    Ok(Versioned(out.version, out))
}

/// Change a metric's unit, kind or thresholds; `null` clears a threshold.
#[utoipa::path(patch, path = "/api/v1/assets/{id}/metrics/{metric}", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path), ("metric" = String, Path)), request_body = UpdateMetric,
    responses((status = 200, body = MetricOut), (status = 404), (status = 412), (status = 422)))]
pub async fn update_metric(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    if_match: IfMatch,
    Path((id, metric)): Path<(i64, String)>,
    ApiJson(req): ApiJson<UpdateMetric>,
) -> ApiResult<impl IntoResponse> {
    let out = service::update_metric(
        &state,
        &client.audit(Some(user.id())),
        id,
        &metric,
        if_match,
        req,
    )
    .await?;
    Ok(Versioned(out.version, out))
}

/// Delete a metric with its samples, rollups, alerts and predictions.
#[utoipa::path(delete, path = "/api/v1/assets/{id}/metrics/{metric}", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path), ("metric" = String, Path)), responses((status = 204), (status = 404), (status = 412)))]
pub async fn delete_metric(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    if_match: IfMatch,
    Path((id, metric)): Path<(i64, String)>,
) -> ApiResult<StatusCode> {
    service::delete_metric(
        &state,
        &client.audit(Some(user.id())),
        id,
        &metric,
        if_match,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Push readings as JSON: `{"points": [{"asset_id", "metric", "ts", "value"}]}` or the bare
/// array of points (as MQTT payloads are), `ts` as
/// RFC 3339 or milliseconds since the epoch. All or nothing: when any point is refused
/// (unknown asset or metric, a value that is not finite or beyond ±1e15, a time more
/// than 5 minutes ahead) none is stored, and the 422 names each point at fault (`points[3].metric`).
/// At most 100,000 points per request (413 above). A point whose series already has a
/// reading at that time is left as stored and counted in `duplicates`.
#[utoipa::path(post, path = "/api/v1/telemetry", tag = "telemetry", security(("bearer" = ["telemetry:write"])),
    request_body = IngestBody,
    responses((status = 200, body = IngestOut), (status = 413), (status = 422)))]
pub async fn ingest_json(
    State(state): State<AppState>,
    _: Require<TelemetryWrite>,
    body: Bytes,
) -> ApiResult<Json<IngestOut>> {
    Ok(Json(service::ingest_json(&state, &body).await?))
}

/// Push readings in InfluxDB line protocol (Telegraf, Node-RED). The tag `asset_id` (or
/// `asset`: an id or an asset's exact name) names the asset; the field `value` is the
/// metric named by the measurement, any other field the metric of its own name.
/// Timestamps are in `precision` units (default ns); a line without one is taken now.
/// All or nothing, like the JSON form; a 422 names each line at fault (`line 7`).
#[utoipa::path(post, path = "/api/v1/telemetry/line", tag = "telemetry", security(("bearer" = ["telemetry:write"])),
    params(LineQuery), request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = IngestOut), (status = 413), (status = 422)))]
pub async fn ingest_lines(
    State(state): State<AppState>,
    _: Require<TelemetryWrite>,
    ApiQuery(q): ApiQuery<LineQuery>,
    body: Bytes,
) -> ApiResult<Json<IngestOut>> {
    Ok(Json(
        service::ingest_lines(&state, &body, q.precision.as_deref()).await?,
    ))
}

/// A metric's history in at most `buckets` buckets of min/avg/max/count, read from raw
/// samples (ranges up to 2 hours), minute rollups (up to 2 days) or hour rollups.
#[utoipa::path(get, path = "/api/v1/assets/{id}/metrics/{metric}/history", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(("id" = i64, Path), ("metric" = String, Path), HistoryQuery),
    responses((status = 200, body = HistoryOut), (status = 404), (status = 422)))]
pub async fn history(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    Path((id, metric)): Path<(i64, String)>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<HistoryOut>> {
    Ok(Json(service::history(&state, id, &metric, &q).await?))
}

/// A metric's raw readings, oldest first, paged by key like every feed
/// (`{items, next_after}`): pass `next_after` as `after` for the following page (`null`
/// on the last). Readings past the raw retention are read back from their archive files.
#[utoipa::path(get, path = "/api/v1/assets/{id}/metrics/{metric}/samples", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(("id" = i64, Path), ("metric" = String, Path), SamplesQuery),
    responses((status = 200, body = SamplesOut), (status = 404), (status = 422)))]
pub async fn samples(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    Path((id, metric)): Path<(i64, String)>,
    ApiQuery(q): ApiQuery<SamplesQuery>,
) -> ApiResult<Json<SamplesOut>> {
    Ok(Json(service::samples(&state, id, &metric, &q).await?))
}

/// Telemetry settings: `retention_days`, after which raw samples move from the database
/// into Parquet files (a calendar month at a time).
#[utoipa::path(get, path = "/api/v1/telemetry/settings", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    responses((status = 200, body = TelemetrySettings)))]
pub async fn get_settings(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
) -> ApiResult<Json<TelemetrySettings>> {
    Ok(Json(service::get_settings(&state.db).await?))
}

#[utoipa::path(put, path = "/api/v1/telemetry/settings", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    request_body = TelemetrySettings, responses((status = 200, body = TelemetrySettings), (status = 422)))]
pub async fn put_settings(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    ApiJson(req): ApiJson<TelemetrySettings>,
) -> ApiResult<Json<TelemetrySettings>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(service::set_settings(&state, &ctx, req).await?))
}

/// The MQTT subscriber: whether a broker is configured and connected, the topic and
/// format, messages and points taken, messages refused, and the latest problem.
#[utoipa::path(get, path = "/api/v1/telemetry/mqtt", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    responses((status = 200, body = MqttStatusOut)))]
pub async fn mqtt_status(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
) -> Json<MqttStatusOut> {
    Json(service::mqtt_status(&state))
}

/// Run the archiving of metric history now (it also runs on its schedule): raw samples of
/// the months wholly older than `retention_days` move into Parquet files, archive files
/// and rollups past `NEXUS_RETENTION_DAYS` (seven years) are deleted. The run goes on in
/// the background: 202 names it, and `Location` is where to follow it until it is done
/// (audited as `archive.run` with its counts) or failed. One run at a time: 409 names the
/// run under way. `dry_run=true` only counts, and answers the counts at once (200).
#[utoipa::path(post, path = "/api/v1/telemetry/archive", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(ArchiveQuery), responses((status = 200, description = "dry run: what a run would move and delete", body = ArchiveReport),
        (status = 202, description = "the run, started", body = ArchiveRun,
            headers(("Location" = String, description = "where to follow the run"))),
        (status = 403), (status = 409, description = "a run is under way"), (status = 422)))]
pub async fn run_archive(
    State(state): State<AppState>,
    Require(user, _): Require<TelemetryManage>,
    ApiQuery(q): ApiQuery<ArchiveQuery>,
) -> ApiResult<Response> {
    crate::archive::ARCHIVER.answer(&state, user.id(), q).await
}

/// An archiving run of metric history: running, done (with its counts) or failed (why).
#[utoipa::path(get, path = "/api/v1/telemetry/archive/runs/{id}", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path)), responses((status = 200, body = ArchiveRun), (status = 403), (status = 404)))]
pub async fn archive_run(
    State(state): State<AppState>,
    _: Require<TelemetryManage>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ArchiveRun>> {
    Ok(Json(
        crate::archive::ARCHIVER.get(state.db.read(), id).await?,
    ))
}

/// Alerts, newest first unless sorted, filtered by status (`active`: every unresolved
/// one) and asset, paged.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(AlertFilter, PageParams), responses((status = 200, body = ListResponse<AlertOut>), (status = 422)))]
pub async fn list_alerts(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    ApiQuery(f): ApiQuery<AlertFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<AlertOut>>> {
    Ok(Json(
        service::list_alerts(state.db.read(), &f, &page).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = AlertOut), (status = 404)))]
pub async fn get_alert(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<AlertOut>> {
    Ok(Json(service::find_alert(state.db.read(), id).await?))
}

/// Acknowledge an open alert (409 when acknowledged or resolved already).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "telemetry", security(("bearer" = ["telemetry:write"])),
    params(("id" = i64, Path)), responses((status = 200, body = AlertOut), (status = 404), (status = 409)))]
pub async fn acknowledge_alert(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryWrite>,
    Path(id): Path<i64>,
) -> ApiResult<Json<AlertOut>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(service::acknowledge(&state, &ctx, id).await?))
}

/// Resolve an alert by hand (409 when resolved already).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "telemetry", security(("bearer" = ["telemetry:write"])),
    params(("id" = i64, Path)), responses((status = 200, body = AlertOut), (status = 404), (status = 409)))]
pub async fn resolve_alert(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryWrite>,
    Path(id): Path<i64>,
) -> ApiResult<Json<AlertOut>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(service::resolve(&state, &ctx, id).await?))
}

/// The alert rules of a metric, oldest first: the complete list in one page.
#[utoipa::path(get, path = "/api/v1/assets/{id}/metrics/{metric}/rules", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(("id" = i64, Path), ("metric" = String, Path)), responses((status = 200, body = ListResponse<AlertRuleOut>), (status = 404)))]
pub async fn list_rules(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    Path((id, metric)): Path<(i64, String)>,
) -> ApiResult<Json<ListResponse<AlertRuleOut>>> {
    let all = service::list_rules(state.db.read(), id, &metric).await?;
    Ok(Json(ListResponse::all(all)))
}

/// Add a rule: once the metric has been critical for `critical_minutes`, open a work
/// order from this template; at most one open per rule and asset.
#[utoipa::path(post, path = "/api/v1/assets/{id}/metrics/{metric}/rules", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path), ("metric" = String, Path)), request_body = AlertRuleData,
    responses((status = 201, body = AlertRuleOut), (status = 404), (status = 422)))]
pub async fn create_rule(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    Path((id, metric)): Path<(i64, String)>,
    ApiJson(req): ApiJson<AlertRuleData>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::create_rule(&state, &ctx, id, &metric, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Change an alert rule. Send `If-Match` to avoid overwriting a change made meanwhile.
#[utoipa::path(patch, path = "/api/v1/assets/{id}/metrics/{metric}/rules/{rule}", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path), ("metric" = String, Path), ("rule" = i64, Path)), request_body = UpdateAlertRule,
    responses((status = 200, body = AlertRuleOut), (status = 404), (status = 412), (status = 422)))]
pub async fn update_rule(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    if_match: IfMatch,
    Path((id, metric, rule)): Path<(i64, String, i64)>,
    ApiJson(req): ApiJson<UpdateAlertRule>,
) -> ApiResult<Versioned<AlertRuleOut>> {
    let ctx = client.audit(Some(user.id()));
    let out = service::update_rule(&state, &ctx, (id, &metric, rule), if_match, req).await?;
    Ok(Versioned(out.version, out))
}

#[utoipa::path(delete, path = "/api/v1/assets/{id}/metrics/{metric}/rules/{rule}", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path), ("metric" = String, Path), ("rule" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    Path((id, metric, rule)): Path<(i64, String, i64)>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete_rule(&state, &ctx, id, &metric, rule).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The meter schedules of a counter metric, oldest first: the complete list in one page.
#[utoipa::path(get, path = "/api/v1/assets/{id}/metrics/{metric}/meter-schedules", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(("id" = i64, Path), ("metric" = String, Path)), responses((status = 200, body = ListResponse<MeterScheduleOut>), (status = 404)))]
pub async fn list_meter_schedules(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    Path((id, metric)): Path<(i64, String)>,
) -> ApiResult<Json<ListResponse<MeterScheduleOut>>> {
    let all = service::list_meter_schedules(state.db.read(), id, &metric).await?;
    Ok(Json(ListResponse::all(all)))
}

/// Add a meter schedule to a counter metric: a preventive work order every `every_units`
/// (one open per schedule); 422 on a gauge.
#[utoipa::path(post, path = "/api/v1/assets/{id}/metrics/{metric}/meter-schedules", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path), ("metric" = String, Path)), request_body = MeterScheduleData,
    responses((status = 201, body = MeterScheduleOut), (status = 404), (status = 422)))]
pub async fn create_meter_schedule(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    Path((id, metric)): Path<(i64, String)>,
    ApiJson(req): ApiJson<MeterScheduleData>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::create_meter_schedule(&state, &ctx, id, &metric, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Change a meter schedule: its interval, next mark or work order template. Send
/// `If-Match` to avoid overwriting a change made meanwhile.
#[utoipa::path(patch, path = "/api/v1/assets/{id}/metrics/{metric}/meter-schedules/{schedule}", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path), ("metric" = String, Path), ("schedule" = i64, Path)), request_body = UpdateMeterSchedule,
    responses((status = 200, body = MeterScheduleOut), (status = 404), (status = 412), (status = 422)))]
pub async fn update_meter_schedule(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    if_match: IfMatch,
    Path((id, metric, schedule)): Path<(i64, String, i64)>,
    ApiJson(req): ApiJson<UpdateMeterSchedule>,
) -> ApiResult<Versioned<MeterScheduleOut>> {
    let ctx = client.audit(Some(user.id()));
    let at = (id, metric.as_str(), schedule);
    let out = service::update_meter_schedule(&state, &ctx, at, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Delete a meter schedule; the work orders it opened stay.
#[utoipa::path(delete, path = "/api/v1/assets/{id}/metrics/{metric}/meter-schedules/{schedule}", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path), ("metric" = String, Path), ("schedule" = i64, Path)),
    responses((status = 204), (status = 404), (status = 412)))]
pub async fn delete_meter_schedule(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    if_match: IfMatch,
    Path((id, metric, schedule)): Path<(i64, String, i64)>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete_meter_schedule(&state, &ctx, (id, &metric, schedule), if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The predictions of an asset, newest first unless sorted, paged.
#[utoipa::path(get, path = "/api/v1/assets/{id}/predictions", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(("id" = i64, Path), PageParams), responses((status = 200, body = ListResponse<PredictionOut>), (status = 404), (status = 422)))]
pub async fn list_predictions(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<PredictionOut>>> {
    Ok(Json(
        service::list_predictions(state.db.read(), id, &page).await?,
    ))
}

/// Predict now: remaining useful life, failure probability within 30 days and an anomaly
/// score for each metric with a critical threshold and 8+ hours of history; updates the
/// asset's health score. (Also runs every six hours.) Answers the predictions this run
/// made, newest first, as the complete list in one page (the list shape of
/// `GET .../predictions`); none when no metric qualifies.
#[utoipa::path(post, path = "/api/v1/assets/{id}/predict", tag = "telemetry", security(("bearer" = ["telemetry:manage"])),
    params(("id" = i64, Path)), responses((status = 200, body = ListResponse<PredictionOut>), (status = 404)))]
pub async fn predict(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TelemetryManage>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ListResponse<PredictionOut>>> {
    let ctx = client.audit(Some(user.id()));
    let made = service::predict_asset(&state, &ctx, id).await?;
    Ok(Json(ListResponse::all(made)))
}

/// Assets ranked by predicted failure, each by its riskiest metric from its newest
/// predictions: likeliest to cross a critical threshold within the horizon first, then
/// the shortest remaining useful life; paged (`sort=-risk` turns the ranking around).
#[utoipa::path(get, path = "/api/v1/telemetry/risk", tag = "telemetry", security(("bearer" = ["telemetry:read"])),
    params(PageParams), responses((status = 200, body = ListResponse<AssetRisk>), (status = 422)))]
pub async fn risk_ranking(
    State(state): State<AppState>,
    _: Require<TelemetryRead>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<AssetRisk>>> {
    Ok(Json(service::risk_page(state.db.read(), &page).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_metrics, create_metric))
        .routes(routes!(get_metric, update_metric, delete_metric))
        .routes(routes!(history))
        .routes(routes!(samples))
        .routes(routes!(ingest_json))
        .routes(routes!(ingest_lines))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(run_archive))
        .routes(routes!(archive_run))
        .routes(routes!(mqtt_status))
        .routes(routes!(list_predictions))
        .routes(routes!(predict))
        .routes(routes!(risk_ranking))
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(acknowledge_alert))
        .routes(routes!(resolve_alert))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(list_meter_schedules, create_meter_schedule))
        .routes(routes!(update_rule, delete_rule))
        .routes(routes!(update_meter_schedule, delete_meter_schedule))
}

#[derive(OpenApi)]
#[openapi(tags((name = "telemetry", description = "Asset metrics, readings, history, alerts and predictions")))]
pub struct ApiDoc;

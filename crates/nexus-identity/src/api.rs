//! HTTP handlers of the identity domain: thin, each declaring its permission.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::home::{self, Count};
use nexus_core::plant::{self, PlantSettings};
use nexus_core::{
    ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, CurrentUser, IfMatch, ListResponse,
    PageParams, Versioned,
};

use crate::model::perm::*;
use crate::model::*;
use crate::service::{self, SessionKind};

/// Sign in with username (or email) and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "Wrong credentials or locked account"), (status = 429, description = "Too many attempts from this address")))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let out = service::login(&state, &client, req, SessionKind::Api).await?;
    Ok(Json(TokenResponse {
        access_token: out.access_token,
        refresh_token: out.refresh_token.unwrap_or_default(),
        token_type: "Bearer",
        expires_in: out.expires_in,
    }))
}

/// Trade a refresh token for a new pair; the old one stops working.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", security(()),
    request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "Invalid, expired or reused token")))]
pub async fn refresh(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    Ok(Json(
        service::refresh(&state, &client, &req.refresh_token).await?,
    ))
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
) -> ApiResult<StatusCode> {
    service::logout(&state, &client, &user.principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user, with role and permissions. Served from the session cache.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeOut)))]
pub async fn me(user: CurrentUser) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        user.principal.profile_json.to_string(),
    )
        .into_response()
}

/// Change your own profile (name, email, phone, avatar, preferences). Send `If-Match`
/// to avoid overwriting a change made meanwhile.
#[utoipa::path(patch, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    request_body = UpdateProfile,
    responses((status = 200, body = UserOut), (status = 409), (status = 412), (status = 422)))]
pub async fn update_me(
    State(state): State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    if_match: IfMatch,
    ApiJson(req): ApiJson<UpdateProfile>,
) -> ApiResult<Versioned<UserOut>> {
    let ctx = client.audit(Some(user.id()));
    let out = service::update_user(&state, &ctx, user.id(), if_match, req.into()).await?;
    Ok(Versioned(out.version, out))
}

/// What needs the signed-in user's attention: every count of their home page (open
/// alerts, overdue and assigned work orders, new requests, ...), as their permissions allow.
#[utoipa::path(get, path = "/api/v1/auth/me/attention", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = ListResponse<Count>)))]
pub async fn attention(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<ListResponse<Count>>> {
    Ok(Json(ListResponse::all(home::counts(&state, &user).await?)))
}

/// Change your own password; your other sessions end.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest, responses((status = 204), (status = 422)))]
pub async fn change_password(
    State(state): State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    service::change_password(&state, &client, &user.principal, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List users, filtered and paged.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = ["users:read"])),
    params(UserFilter, PageParams), responses((status = 200, body = ListResponse<UserOut>)))]
pub async fn list_users(
    State(state): State<AppState>,
    _: Require<UsersRead>,
    ApiQuery(filter): ApiQuery<UserFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<UserOut>>> {
    Ok(Json(service::list_users(&state.db, &filter, &page).await?))
}

/// Create a user account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = ["users:write"])),
    request_body = CreateUser, responses((status = 201, body = UserOut), (status = 409), (status = 422)))]
pub async fn create_user(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UsersWrite>,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_user(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = ["users:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = UserOut), (status = 404)))]
pub async fn get_user(
    State(state): State<AppState>,
    _: Require<UsersRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_user(&state.db, id).await?;
    Ok(Versioned(out.version, out))
}

/// Update a user's profile, role or active flag. Send `If-Match` to avoid overwriting
/// someone else's change.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = ["users:write"])),
    params(("id" = i64, Path)), request_body = UpdateUser,
    responses((status = 200, body = UserOut), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn update_user(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UsersWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> ApiResult<impl IntoResponse> {
    let out =
        service::update_user(&state, &client.audit(Some(user.id())), id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Set another user's password; unlocks the account and ends its sessions.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", security(("bearer" = ["users:write"])),
    params(("id" = i64, Path)), request_body = ResetPasswordRequest, responses((status = 204), (status = 404), (status = 422)))]
pub async fn reset_password(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UsersWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    service::reset_password(&state, &client.audit(Some(user.id())), id, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every permission a role can hold, by name: the complete list in one page.
#[utoipa::path(get, path = "/api/v1/permissions", tag = "roles", security(("bearer" = ["roles:read"])),
    responses((status = 200, body = ListResponse<PermissionOut>)))]
pub async fn list_permissions(
    State(state): State<AppState>,
    _: Require<RolesRead>,
) -> ApiResult<Json<ListResponse<PermissionOut>>> {
    let all = service::list_permissions(&state.db).await?;
    Ok(Json(ListResponse::all(all)))
}

/// Every role with its permissions: the complete list in one page.
#[utoipa::path(get, path = "/api/v1/roles", tag = "roles", security(("bearer" = ["roles:read"])),
    responses((status = 200, body = ListResponse<RoleOut>)))]
pub async fn list_roles(
    State(state): State<AppState>,
    _: Require<RolesRead>,
) -> ApiResult<Json<ListResponse<RoleOut>>> {
    Ok(Json(ListResponse::all(
        service::list_roles(&state.db).await?,
    )))
}

/// Create a custom role.
#[utoipa::path(post, path = "/api/v1/roles", tag = "roles", security(("bearer" = ["roles:write"])),
    request_body = CreateRole, responses((status = 201, body = RoleOut), (status = 409), (status = 422)))]
pub async fn create_role(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<RolesWrite>,
    ApiJson(req): ApiJson<CreateRole>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_role(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One role.
#[utoipa::path(get, path = "/api/v1/roles/{id}", tag = "roles", security(("bearer" = ["roles:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = RoleOut), (status = 404)))]
pub async fn get_role(
    State(state): State<AppState>,
    _: Require<RolesRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_role(&state.db, id).await?;
    Ok(Versioned(out.version, out))
}

/// Change a custom role's name, description or permissions.
#[utoipa::path(patch, path = "/api/v1/roles/{id}", tag = "roles", security(("bearer" = ["roles:write"])),
    params(("id" = i64, Path)), request_body = UpdateRole,
    responses((status = 200, body = RoleOut), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn update_role(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<RolesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateRole>,
) -> ApiResult<impl IntoResponse> {
    let out =
        service::update_role(&state, &client.audit(Some(user.id())), id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Delete a custom role that nobody holds.
#[utoipa::path(delete, path = "/api/v1/roles/{id}", tag = "roles", security(("bearer" = ["roles:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404), (status = 409), (status = 412)))]
pub async fn delete_role(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<RolesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete_role(&state, &client.audit(Some(user.id())), id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List departments.
#[utoipa::path(get, path = "/api/v1/departments", tag = "departments", security(("bearer" = ["departments:read"])),
    params(DepartmentFilter, PageParams), responses((status = 200, body = ListResponse<DepartmentOut>)))]
pub async fn list_departments(
    State(state): State<AppState>,
    _: Require<DepartmentsRead>,
    ApiQuery(filter): ApiQuery<DepartmentFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<DepartmentOut>>> {
    Ok(Json(
        service::list_departments(&state.db, &filter, &page).await?,
    ))
}

/// Create a department.
#[utoipa::path(post, path = "/api/v1/departments", tag = "departments", security(("bearer" = ["departments:write"])),
    request_body = CreateDepartment, responses((status = 201, body = DepartmentOut), (status = 409), (status = 422)))]
pub async fn create_department(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<DepartmentsWrite>,
    ApiJson(req): ApiJson<CreateDepartment>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_department(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One department.
#[utoipa::path(get, path = "/api/v1/departments/{id}", tag = "departments", security(("bearer" = ["departments:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = DepartmentOut), (status = 404)))]
pub async fn get_department(
    State(state): State<AppState>,
    _: Require<DepartmentsRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_department(&state.db, id).await?;
    Ok(Versioned(out.version, out))
}

/// Rename, describe, activate or deactivate a department.
#[utoipa::path(patch, path = "/api/v1/departments/{id}", tag = "departments", security(("bearer" = ["departments:write"])),
    params(("id" = i64, Path)), request_body = UpdateDepartment,
    responses((status = 200, body = DepartmentOut), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn update_department(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<DepartmentsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateDepartment>,
) -> ApiResult<impl IntoResponse> {
    let out = service::update_department(&state, &client.audit(Some(user.id())), id, if_match, req)
        .await?;
    Ok(Versioned(out.version, out))
}

/// Delete a department nobody belongs to.
#[utoipa::path(delete, path = "/api/v1/departments/{id}", tag = "departments", security(("bearer" = ["departments:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404), (status = 409), (status = 412)))]
pub async fn delete_department(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<DepartmentsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete_department(&state, &client.audit(Some(user.id())), id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit trail, newest first, paged by key: pass `next_after` as `after` for the
/// following page (`null` on the last). Feeds answer this `{items, next_after}` shape.
#[utoipa::path(get, path = "/api/v1/audit-logs", tag = "audit", security(("bearer" = ["audit:read"])),
    params(AuditQuery), responses((status = 200, body = AuditPage)))]
pub async fn audit_logs(
    State(state): State<AppState>,
    _: Require<AuditRead>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    Ok(Json(service::audit_page(&state.db, q).await?))
}

/// The plant's currency and time zone: pages show times in that zone and money in that
/// currency, and count days ("today", "overdue") in it. The API's times stay RFC 3339.
#[utoipa::path(get, path = "/api/v1/plant", tag = "plant", security(("bearer" = [])),
    responses((status = 200, body = PlantSettings)))]
pub async fn get_plant(State(state): State<AppState>, _: CurrentUser) -> Json<PlantSettings> {
    Json(state.plant.get().settings())
}

/// Change the plant's currency (ISO 4217, e.g. `EUR`) and time zone (IANA, e.g.
/// `Europe/Berlin`); every node uses them from then on. Production's daily report is
/// re-counted in a new time zone.
#[utoipa::path(put, path = "/api/v1/plant", tag = "plant", security(("bearer" = ["plant:configure"])),
    request_body = PlantSettings, responses((status = 200, body = PlantSettings), (status = 422)))]
pub async fn put_plant(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<PlantConfigure>,
    ApiJson(req): ApiJson<PlantSettings>,
) -> ApiResult<Json<PlantSettings>> {
    let plant = plant::update(&state, &client.audit(Some(user.id())), &req).await?;
    Ok(Json(plant.settings()))
}

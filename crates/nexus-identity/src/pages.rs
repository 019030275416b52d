//! The identity domain's web pages: sign-in and sign-out, home, profile, and the admin
//! screens for users, roles, departments and the audit trail. Handlers parse the form,
//! call the same services as the JSON API and render a template; every form carries the
//! session's CSRF token and shows field errors next to their fields.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use nexus_core::audit::AuditEntry;
use nexus_core::auth::SESSION_COOKIE;
use nexus_core::extract::Path;
use nexus_core::home::{self, Count, Widget};
use nexus_core::pages::{
    CsrfForm, Done, Errors, OrPage, Page, Posted, Shell, Web, chosen_id, cookie_header, describe,
    error_page, filled, paged_link, query_string, render,
};
use nexus_core::{ApiError, ApiResult, AppState, ClientInfo, CurrentUser, IfMatch, PageParams};
use serde::Deserialize;

use crate::model::{
    AuditQuery, ChangePasswordRequest, CreateDepartment, CreateRole, CreateUser, DepartmentOut,
    LoginRequest, PermissionOut, ResetPasswordRequest, RoleOut, UpdateDepartment, UpdateProfile,
    UpdateRole, UpdateUser, UserFilter, UserOut,
};
use crate::service::{self, SessionKind};

/// Every page of this domain.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/profile", get(profile).post(update_details))
        .route("/profile/password", post(change_password))
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/new", get(new_user))
        .route("/admin/users/{id}", get(edit_user).post(update_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/roles", get(roles).post(create_role))
        .route("/admin/roles/{id}", get(edit_role).post(update_role))
        .route("/admin/roles/{id}/delete", post(delete_role))
        .route(
            "/admin/departments",
            get(departments).post(create_department),
        )
        .route("/admin/departments/{id}", post(update_department))
        .route("/admin/departments/{id}/delete", post(delete_department))
        .route("/admin/audit", get(audit))
        .route("/admin/plant", get(plant).post(update_plant))
}

/// Users per page of the user list.
const USERS_PER_PAGE: u64 = 25;
/// Entries per page of the audit log.
const AUDIT_PER_PAGE: u64 = 50;

// ---------------------------------------------------------------- plumbing

/// Success messages of this domain's `?done=...`, besides the common ones.
const DONE: &[(&str, &str)] = &[
    (
        "password",
        "Password changed. Your other sessions were signed out.",
    ),
    (
        "reset",
        "Password set. The user's sessions were signed out and the account unlocked.",
    ),
];

/// Where to go after signing in: only a path on this site, never `//host` or `/\host`,
/// which browsers would follow elsewhere.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic());
    if local { next } else { "/" }
}

// ---------------------------------------------------------------- sign-in, home, profile

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    username: String,
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    next: String,
}

async fn login_form(user: Option<CurrentUser>, Query(form): Query<LoginForm>) -> Response {
    if user.is_some() {
        return Redirect::to(safe_next(&form.next)).into_response();
    }
    let page = LoginPage {
        shell: Shell::anonymous("Sign in"),
        username: String::new(),
        next: form.next,
    };
    render(StatusCode::OK, &page)
}

async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    Form(form): Form<LoginForm>,
) -> Response {
    let req = LoginRequest {
        username: form.username.clone(),
        password: form.password,
    };
    match service::login(&state, &client, req, SessionKind::Web).await {
        Ok(out) => {
            let cookie = cookie_header(
                SESSION_COOKIE,
                &out.access_token,
                state.config.web_session_ttl_secs,
                state.config.secure_cookies,
            );
            (
                [(header::SET_COOKIE, cookie)],
                Redirect::to(safe_next(&form.next)),
            )
                .into_response()
        }
        Err(err @ (ApiError::Unauthorized(_) | ApiError::TooManyRequests { .. })) => {
            let page = LoginPage {
                shell: Shell::anonymous("Sign in").with_error(describe(&err)),
                username: form.username,
                next: form.next,
            };
            let mut res = render(err.status(), &page);
            // Tells the browser (and scripts) when to try again, as the API does.
            if let ApiError::TooManyRequests { retry_after, .. } = err {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            res
        }
        Err(err) => error_page(Shell::anonymous, &err),
    }
}

async fn logout(web: Web, _: Posted<CsrfForm>) -> Page {
    service::logout(&web.state, &web.client, &web.user.principal)
        .await
        .or_page(&web)?;
    let cookie = cookie_header(SESSION_COOKIE, "", 0, web.state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    me: UserOut,
    /// Every panel's counts, first the ones that call for attention most.
    counts: Vec<Count>,
    widgets: Vec<Widget>,
    /// The events that redraw the page, space-separated.
    events: &'static str,
}

/// Home: what needs the user's attention, from every domain's panels.
async fn home(web: Web) -> Page {
    let me = service::get_user(&web.state.db, web.user.id())
        .await
        .or_page(&web)?;
    let widgets = home::widgets(&web.state, &web.user, home::Want::Panels)
        .await
        .or_page(&web)?;
    let mut counts: Vec<Count> = widgets.iter().flat_map(|w| w.counts.clone()).collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.tone));
    Ok(render(
        StatusCode::OK,
        &HomePage {
            shell: web.shell("Home"),
            me,
            counts,
            widgets,
            events: home::events(&web.state),
        },
    ))
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    shell: Shell,
    me: UserOut,
    /// What the user may do, in words.
    permissions: Vec<String>,
    /// The details form: as typed after a refusal, else the stored values.
    details: DetailsForm,
    errors: Errors,
}

/// The user's own details, as the profile form sends them.
#[derive(Deserialize, Default)]
#[serde(default)]
struct DetailsForm {
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    version: i32,
}

impl DetailsForm {
    fn of(me: &UserOut) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            first_name: text(&me.first_name),
            last_name: text(&me.last_name),
            email: text(&me.email),
            phone: text(&me.phone),
            version: me.version,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// The profile page; `typed` is a refused details form to show again.
async fn profile_page(
    web: &Web,
    shell: Shell,
    errors: Errors,
    status: StatusCode,
    typed: Option<DetailsForm>,
) -> Page {
    let me = service::get_user(&web.state.db, web.user.id())
        .await
        .or_page(web)?;
    let catalog = service::list_permissions(&web.state.db)
        .await
        .or_page(web)?;
    let mut permissions: Vec<String> = catalog
        .into_iter()
        .filter(|p| web.user.can(&p.name))
        .map(|p| p.description.unwrap_or(p.name))
        .collect();
    permissions.sort();
    Ok(render(
        status,
        &ProfilePage {
            shell,
            details: typed.unwrap_or_else(|| DetailsForm::of(&me)),
            me,
            permissions,
            errors,
        },
    ))
}

async fn profile(web: Web, Query(done): Query<Done>) -> Page {
    profile_page(
        &web,
        web.shell_done("Profile", done.message(DONE)),
        Errors::default(),
        StatusCode::OK,
        None,
    )
    .await
}

/// Saves the user's own details.
async fn update_details(web: Web, Posted(form): Posted<DetailsForm>) -> Page {
    let text = |v: &str| Some(filled(v));
    let req = UpdateProfile {
        first_name: text(&form.first_name),
        last_name: text(&form.last_name),
        email: text(&form.email),
        phone: text(&form.phone),
        ..UpdateProfile::default()
    };
    let version = IfMatch(Some(form.version));
    match service::update_user(&web.state, &web.audit(), web.user.id(), version, req.into()).await {
        Ok(_) => Ok(Redirect::to("/profile?done=saved").into_response()),
        Err(err) => {
            let r = web.refused("Profile", err)?;
            let typed = r.keeping(Some(form), || None);
            profile_page(&web, r.shell, r.errors, r.status, typed).await
        }
    }
}

async fn change_password(web: Web, Posted(form): Posted<PasswordForm>) -> Page {
    let result = if form.new_password == form.confirm_password {
        let req = ChangePasswordRequest {
            current_password: form.current_password,
            new_password: form.new_password,
        };
        service::change_password(&web.state, &web.client, &web.user.principal, req).await
    } else {
        Err(ApiError::invalid(
            "confirm_password",
            "does not match the new password",
        ))
    };
    match result {
        Ok(()) => Ok(Redirect::to("/profile?done=password").into_response()),
        Err(err) => {
            let r = web.refused("Profile", err)?;
            profile_page(&web, r.shell, r.errors, r.status, None).await
        }
    }
}

// ---------------------------------------------------------------- users

/// Role names and departments for the selects of the user forms.
struct Choices {
    roles: Vec<String>,
    departments: Vec<DepartmentOut>,
}

async fn choices(state: &AppState) -> ApiResult<Choices> {
    let roles = service::list_roles(&state.db)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    let departments = service::all_departments(&state.db).await?;
    Ok(Choices { roles, departments })
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    shell: Shell,
    users: Vec<UserOut>,
    roles: Vec<String>,
    filter: UsersQuery,
    total: u64,
    first: u64,
    last: u64,
    prev: Option<String>,
    next: Option<String>,
    can_write: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UsersQuery {
    q: String,
    role: String,
    /// `yes`, `no` or empty for both.
    active: String,
    offset: String,
}

impl UsersQuery {
    fn link(&self, offset: u64) -> String {
        paged_link(
            "/admin/users",
            &[
                ("q", &self.q),
                ("role", &self.role),
                ("active", &self.active),
            ],
            offset,
        )
    }
}

async fn users(web: Web, Query(filter): Query<UsersQuery>, Query(done): Query<Done>) -> Page {
    web.require("users:read")?;
    let offset = filter.offset.trim().parse().unwrap_or(0);
    let query = UserFilter {
        q: filled(&filter.q),
        role: filled(&filter.role),
        department_id: None,
        is_active: match filter.active.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
    };
    let page = PageParams {
        limit: Some(USERS_PER_PAGE),
        offset: Some(offset),
        sort: None,
    };
    let list = service::list_users(&web.state.db, &query, &page)
        .await
        .or_page(&web)?;
    let roles = service::list_roles(&web.state.db).await.or_page(&web)?;
    let shown = list.items.len() as u64;
    let page = UsersPage {
        shell: web.shell_done("Users", done.message(DONE)),
        prev: (offset > 0).then(|| filter.link(offset.saturating_sub(USERS_PER_PAGE))),
        next: (offset + shown < list.total).then(|| filter.link(offset + USERS_PER_PAGE)),
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        total: list.total,
        users: list.items,
        roles: roles.into_iter().map(|r| r.name).collect(),
        filter,
        can_write: web.user.can("users:write"),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "user_new.html")]
struct NewUserPage {
    shell: Shell,
    form: NewUserForm,
    errors: Errors,
    choices: Choices,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewUserForm {
    username: String,
    email: String,
    password: String,
    first_name: String,
    last_name: String,
    phone: String,
    department_id: String,
    position: String,
    role: String,
}

impl NewUserForm {
    fn request(&self) -> ApiResult<CreateUser> {
        Ok(CreateUser {
            username: self.username.clone(),
            password: self.password.clone(),
            email: Some(self.email.clone()),
            first_name: Some(self.first_name.clone()),
            last_name: Some(self.last_name.clone()),
            phone: Some(self.phone.clone()),
            department_id: chosen_id("department_id", &self.department_id, "department")?,
            position: Some(self.position.clone()),
            avatar_url: None,
            preferences: None,
            role: Some(self.role.clone()),
            is_active: Some(true),
        })
    }
}

async fn new_user(web: Web) -> Page {
    web.require("users:write")?;
    let page = NewUserPage {
        shell: web.shell("New user"),
        form: NewUserForm {
            role: "user".into(),
            ..NewUserForm::default()
        },
        errors: Errors::default(),
        choices: choices(&web.state).await.or_page(&web)?,
    };
    Ok(render(StatusCode::OK, &page))
}

async fn create_user(web: Web, Posted(form): Posted<NewUserForm>) -> Page {
    web.require("users:write")?;
    let created = match form.request() {
        Ok(req) => service::create_user(&web.state, &web.audit(), req).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => Ok(Redirect::to("/admin/users?done=created").into_response()),
        Err(err) => {
            let r = web.refused("New user", err)?;
            let page = NewUserPage {
                shell: r.shell,
                form: NewUserForm {
                    password: String::new(),
                    ..form
                },
                errors: r.errors,
                choices: choices(&web.state).await.or_page(&web)?,
            };
            Ok(render(r.status, &page))
        }
    }
}

#[derive(Template)]
#[template(path = "user_edit.html")]
struct EditUserPage {
    shell: Shell,
    user: UserOut,
    form: EditUserForm,
    errors: Errors,
    reset_errors: Errors,
    choices: Choices,
    can_write: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EditUserForm {
    email: String,
    first_name: String,
    last_name: String,
    phone: String,
    department_id: String,
    position: String,
    role: String,
    /// A checkbox: present when ticked.
    is_active: Option<String>,
    version: i32,
}

impl EditUserForm {
    fn of(u: &UserOut) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            email: text(&u.email),
            first_name: text(&u.first_name),
            last_name: text(&u.last_name),
            phone: text(&u.phone),
            department_id: u.department_id.map(|d| d.to_string()).unwrap_or_default(),
            position: text(&u.position),
            role: u.role.clone(),
            is_active: u.is_active.then(|| "on".into()),
            version: u.version,
        }
    }

    /// Every field is sent, so a blank one clears the value.
    fn request(&self) -> ApiResult<UpdateUser> {
        Ok(UpdateUser {
            email: Some(Some(self.email.clone())),
            first_name: Some(Some(self.first_name.clone())),
            last_name: Some(Some(self.last_name.clone())),
            phone: Some(Some(self.phone.clone())),
            department_id: Some(chosen_id(
                "department_id",
                &self.department_id,
                "department",
            )?),
            position: Some(Some(self.position.clone())),
            role: Some(self.role.clone()),
            is_active: Some(self.is_active.is_some()),
            ..UpdateUser::default()
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResetForm {
    new_password: String,
    confirm_password: String,
}

async fn edit_user_page(
    web: &Web,
    user: UserOut,
    form: EditUserForm,
    (errors, reset_errors): (Errors, Errors),
    shell: Shell,
    status: StatusCode,
) -> Page {
    let page = EditUserPage {
        shell,
        user,
        form,
        errors,
        reset_errors,
        choices: choices(&web.state).await.or_page(web)?,
        can_write: web.user.can("users:write"),
    };
    Ok(render(status, &page))
}

async fn edit_user(web: Web, Path(id): Path<i64>, Query(done): Query<Done>) -> Page {
    web.require("users:read")?;
    let user = service::get_user(&web.state.db, id).await.or_page(&web)?;
    let form = EditUserForm::of(&user);
    let shell = web.shell_done(&user.username, done.message(DONE));
    edit_user_page(&web, user, form, Default::default(), shell, StatusCode::OK).await
}

async fn update_user(web: Web, Path(id): Path<i64>, Posted(form): Posted<EditUserForm>) -> Page {
    web.require("users:write")?;
    let updated = match form.request() {
        Ok(req) => {
            let version = IfMatch(Some(form.version));
            service::update_user(&web.state, &web.audit(), id, version, req).await
        }
        Err(e) => Err(e),
    };
    let err = match updated {
        Ok(_) => return Ok(Redirect::to(&format!("/admin/users/{id}?done=saved")).into_response()),
        Err(err) => err,
    };
    let user = service::get_user(&web.state.db, id).await.or_page(&web)?;
    let r = web.refused(&user.username, err)?;
    let form = r.keeping(form, || EditUserForm::of(&user));
    edit_user_page(
        &web,
        user,
        form,
        (r.errors, Errors::default()),
        r.shell,
        r.status,
    )
    .await
}

async fn reset_password(web: Web, Path(id): Path<i64>, Posted(form): Posted<ResetForm>) -> Page {
    web.require("users:write")?;
    let result = if form.new_password == form.confirm_password {
        let req = ResetPasswordRequest {
            new_password: form.new_password,
        };
        service::reset_password(&web.state, &web.audit(), id, req).await
    } else {
        Err(ApiError::invalid(
            "confirm_password",
            "does not match the new password",
        ))
    };
    let err = match result {
        Ok(()) => return Ok(Redirect::to(&format!("/admin/users/{id}?done=reset")).into_response()),
        Err(err) => err,
    };
    let user = service::get_user(&web.state.db, id).await.or_page(&web)?;
    let r = web.refused(&user.username, err)?;
    let form = EditUserForm::of(&user);
    edit_user_page(
        &web,
        user,
        form,
        (Errors::default(), r.errors),
        r.shell,
        r.status,
    )
    .await
}

// ---------------------------------------------------------------- roles

/// A role form as posted: checkbox groups repeat the `permissions` name, which a struct
/// cannot take through `Posted`, so it is read from the name/value pairs.
#[derive(Default)]
struct RoleForm {
    name: String,
    description: String,
    permissions: Vec<String>,
    version: i32,
}

impl RoleForm {
    fn of(role: &RoleOut) -> Self {
        Self {
            name: role.name.clone(),
            description: role.description.clone().unwrap_or_default(),
            permissions: role.permissions.clone(),
            version: role.version,
        }
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "name" => form.name = value,
                "description" => form.description = value,
                "permissions" => form.permissions.push(value),
                "version" => form.version = value.parse().unwrap_or_default(),
                _ => {}
            }
        }
        form
    }

    fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

#[derive(Template)]
#[template(path = "roles.html")]
struct RolesPage {
    shell: Shell,
    roles: Vec<RoleOut>,
    permissions: Vec<PermissionOut>,
    form: RoleForm,
    errors: Errors,
    can_write: bool,
}

impl RolesPage {
    /// What the permission `name` allows, in words (its name when it has no description).
    fn describe<'a>(&'a self, name: &'a str) -> &'a str {
        self.permissions
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.description.as_deref())
            .unwrap_or(name)
    }
}

async fn roles_page(
    web: &Web,
    shell: Shell,
    form: RoleForm,
    errors: Errors,
    status: StatusCode,
) -> Page {
    let page = RolesPage {
        shell,
        roles: service::list_roles(&web.state.db).await.or_page(web)?,
        permissions: service::list_permissions(&web.state.db)
            .await
            .or_page(web)?,
        form,
        errors,
        can_write: web.user.can("roles:write"),
    };
    Ok(render(status, &page))
}

async fn roles(web: Web, Query(done): Query<Done>) -> Page {
    web.require("roles:read")?;
    roles_page(
        &web,
        web.shell_done("Roles", done.message(DONE)),
        RoleForm::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn create_role(web: Web, Posted(pairs): Posted<Vec<(String, String)>>) -> Page {
    let form = RoleForm::from_pairs(pairs);
    web.require("roles:write")?;
    let req = CreateRole {
        name: form.name.clone(),
        description: Some(form.description.clone()),
        permissions: form.permissions.clone(),
    };
    match service::create_role(&web.state, &web.audit(), req).await {
        Ok(_) => Ok(Redirect::to("/admin/roles?done=created").into_response()),
        Err(err) => {
            let r = web.refused("Roles", err)?;
            roles_page(&web, r.shell, form, r.errors, r.status).await
        }
    }
}

#[derive(Template)]
#[template(path = "role_edit.html")]
struct EditRolePage {
    shell: Shell,
    role: RoleOut,
    permissions: Vec<PermissionOut>,
    form: RoleForm,
    errors: Errors,
    editable: bool,
}

async fn edit_role_page(
    web: &Web,
    role: RoleOut,
    form: RoleForm,
    errors: Errors,
    shell: Shell,
    status: StatusCode,
) -> Page {
    let page = EditRolePage {
        shell,
        editable: web.user.can("roles:write") && !role.is_builtin,
        permissions: service::list_permissions(&web.state.db)
            .await
            .or_page(web)?,
        role,
        form,
        errors,
    };
    Ok(render(status, &page))
}

/// The role edit page again after a refused change (keeping what was typed) or
/// deletion (`form` is `None`).
async fn role_refused(web: &Web, id: i64, form: Option<RoleForm>, err: ApiError) -> Page {
    let role = service::get_role(&web.state.db, id).await.or_page(web)?;
    let r = web.refused(&role.name, err)?;
    let form = match form {
        Some(form) if !r.stale => form,
        _ => RoleForm::of(&role),
    };
    edit_role_page(web, role, form, r.errors, r.shell, r.status).await
}

async fn edit_role(web: Web, Path(id): Path<i64>, Query(done): Query<Done>) -> Page {
    web.require("roles:read")?;
    let role = service::get_role(&web.state.db, id).await.or_page(&web)?;
    let form = RoleForm::of(&role);
    let shell = web.shell_done(&role.name, done.message(DONE));
    edit_role_page(&web, role, form, Errors::default(), shell, StatusCode::OK).await
}

async fn update_role(
    web: Web,
    Path(id): Path<i64>,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Page {
    let form = RoleForm::from_pairs(pairs);
    web.require("roles:write")?;
    let req = UpdateRole {
        name: Some(form.name.clone()),
        description: Some(Some(form.description.clone())),
        permissions: Some(form.permissions.clone()),
    };
    let version = IfMatch(Some(form.version));
    match service::update_role(&web.state, &web.audit(), id, version, req).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/roles/{id}?done=saved")).into_response()),
        Err(err) => role_refused(&web, id, Some(form), err).await,
    }
}

async fn delete_role(web: Web, Path(id): Path<i64>, Posted(form): Posted<VersionForm>) -> Page {
    web.require("roles:write")?;
    let version = IfMatch(Some(form.version));
    match service::delete_role(&web.state, &web.audit(), id, version).await {
        Ok(()) => Ok(Redirect::to("/admin/roles?done=deleted").into_response()),
        Err(err) => role_refused(&web, id, None, err).await,
    }
}

/// A delete button's form: the version the page showed, so a changed record is not
/// deleted unseen.
#[derive(Deserialize, Default)]
#[serde(default)]
struct VersionForm {
    version: i32,
}

// ---------------------------------------------------------------- departments

#[derive(Deserialize, Default)]
#[serde(default)]
struct DepartmentForm {
    name: String,
    description: String,
    /// A checkbox: present when ticked.
    is_active: Option<String>,
    version: i32,
}

impl DepartmentForm {
    fn of(d: &DepartmentOut) -> Self {
        Self {
            name: d.name.clone(),
            description: d.description.clone().unwrap_or_default(),
            is_active: d.is_active.then(|| "on".into()),
            version: d.version,
        }
    }

    fn blank() -> Self {
        Self {
            is_active: Some("on".into()),
            ..Self::default()
        }
    }
}

/// One department in the list with its edit form, which keeps what was typed when a
/// change is refused.
struct DepartmentRow {
    department: DepartmentOut,
    form: DepartmentForm,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "departments.html")]
struct DepartmentsPage {
    shell: Shell,
    rows: Vec<DepartmentRow>,
    form: DepartmentForm,
    errors: Errors,
    can_write: bool,
}

/// A refused form on the departments page: the new-department form, or one row's.
enum DepartmentFailure {
    None,
    New(DepartmentForm, Errors),
    Row(i64, DepartmentForm, Errors),
}

async fn departments_page(
    web: &Web,
    shell: Shell,
    failure: DepartmentFailure,
    status: StatusCode,
) -> Page {
    let all = service::all_departments(&web.state.db).await.or_page(web)?;
    let (mut form, mut errors) = (DepartmentForm::blank(), Errors::default());
    let mut row_failure = None;
    match failure {
        DepartmentFailure::None => {}
        DepartmentFailure::New(f, e) => (form, errors) = (f, e),
        DepartmentFailure::Row(id, f, e) => row_failure = Some((id, f, e)),
    }
    let rows = all
        .into_iter()
        .map(
            |department| match row_failure.take_if(|(id, _, _)| *id == department.id) {
                Some((_, form, errors)) => DepartmentRow {
                    department,
                    form,
                    errors,
                },
                None => DepartmentRow {
                    form: DepartmentForm::of(&department),
                    department,
                    errors: Errors::default(),
                },
            },
        )
        .collect();
    let page = DepartmentsPage {
        shell,
        rows,
        form,
        errors,
        can_write: web.user.can("departments:write"),
    };
    Ok(render(status, &page))
}

async fn departments(web: Web, Query(done): Query<Done>) -> Page {
    web.require("departments:read")?;
    departments_page(
        &web,
        web.shell_done("Departments", done.message(DONE)),
        DepartmentFailure::None,
        StatusCode::OK,
    )
    .await
}

async fn create_department(web: Web, Posted(form): Posted<DepartmentForm>) -> Page {
    web.require("departments:write")?;
    let req = CreateDepartment {
        name: form.name.clone(),
        description: Some(form.description.clone()),
        is_active: Some(form.is_active.is_some()),
    };
    match service::create_department(&web.state, &web.audit(), req).await {
        Ok(_) => Ok(Redirect::to("/admin/departments?done=created").into_response()),
        Err(err) => {
            let r = web.refused("Departments", err)?;
            departments_page(
                &web,
                r.shell,
                DepartmentFailure::New(form, r.errors),
                r.status,
            )
            .await
        }
    }
}

async fn update_department(
    web: Web,
    Path(id): Path<i64>,
    Posted(form): Posted<DepartmentForm>,
) -> Page {
    web.require("departments:write")?;
    let req = UpdateDepartment {
        name: Some(form.name.clone()),
        description: Some(Some(form.description.clone())),
        is_active: Some(form.is_active.is_some()),
    };
    let version = IfMatch(Some(form.version));
    match service::update_department(&web.state, &web.audit(), id, version, req).await {
        Ok(_) => Ok(Redirect::to("/admin/departments?done=saved").into_response()),
        Err(err) => {
            let r = web.refused("Departments", err)?;
            // A stale row simply shows its current values, which the list reloads anyway.
            let failure = if r.stale {
                DepartmentFailure::None
            } else {
                DepartmentFailure::Row(id, form, r.errors)
            };
            departments_page(&web, r.shell, failure, r.status).await
        }
    }
}

async fn delete_department(
    web: Web,
    Path(id): Path<i64>,
    Posted(form): Posted<VersionForm>,
) -> Page {
    web.require("departments:write")?;
    let version = IfMatch(Some(form.version));
    match service::delete_department(&web.state, &web.audit(), id, version).await {
        Ok(()) => Ok(Redirect::to("/admin/departments?done=deleted").into_response()),
        Err(err) => {
            let r = web.refused("Departments", err)?;
            departments_page(&web, r.shell, DepartmentFailure::None, r.status).await
        }
    }
}

// ---------------------------------------------------------------- audit trail

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditFilterForm {
    entity_type: String,
    /// The acting user's username, as typed.
    actor: String,
    /// The acting user, from a link on an entry.
    actor_id: String,
    action: String,
    after: String,
}

impl AuditFilterForm {
    /// The query, the actor named by username or by a link's id; 422 on `actor` when no
    /// user has that name.
    async fn query(&mut self, db: &nexus_core::Db) -> ApiResult<AuditQuery> {
        let actor_id = match (filled(&self.actor), filled(&self.actor_id)) {
            (Some(name), _) => Some(
                service::user_id_by_username(db, &name)
                    .await?
                    .ok_or_else(|| {
                        ApiError::invalid("actor", format!("no user is called {name}"))
                    })?,
            ),
            (None, Some(id)) => {
                let id: i64 = id
                    .parse()
                    .map_err(|_| ApiError::invalid("actor", "choose a user by username"))?;
                self.actor = match service::get_user(db, id).await {
                    Ok(u) => u.username,
                    Err(ApiError::NotFound(_)) => {
                        return Err(ApiError::invalid("actor", "that user no longer exists"));
                    }
                    Err(e) => return Err(e),
                };
                Some(id)
            }
            (None, None) => None,
        };
        self.actor_id = actor_id.map(|id| id.to_string()).unwrap_or_default();
        Ok(AuditQuery {
            entity_type: filled(&self.entity_type),
            actor_id,
            action: filled(&self.action),
            after: filled(&self.after).and_then(|v| v.parse().ok()),
            limit: Some(AUDIT_PER_PAGE),
            ..AuditQuery::default()
        })
    }

    fn link(&self, after: &str) -> String {
        let query = query_string(&[
            ("entity_type", &self.entity_type),
            ("actor_id", &self.actor_id),
            ("action", &self.action),
            ("after", after),
        ]);
        format!("/admin/audit?{query}")
    }
}

/// An audit entry with its actor's username.
struct AuditRow {
    entry: AuditEntry,
    actor: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditLogPage {
    shell: Shell,
    rows: Vec<AuditRow>,
    filter: AuditFilterForm,
    errors: Errors,
    first: Option<String>,
    next: Option<String>,
}

async fn audit(web: Web, Query(mut filter): Query<AuditFilterForm>) -> Page {
    web.require("audit:read")?;
    let (page, errors, status) = match filter.query(&web.state.db).await {
        Ok(query) => (
            service::audit_page(&web.state.db, query)
                .await
                .or_page(&web)?,
            Errors::default(),
            StatusCode::OK,
        ),
        Err(err) if err.field_errors().is_empty() => return Err(web.fail(err)),
        Err(err) => {
            let empty = crate::model::AuditPage {
                items: Vec::new(),
                limit: AUDIT_PER_PAGE,
                next_after: None,
            };
            (
                empty,
                Errors(err.field_errors()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    let mut names: HashMap<i64, String> = HashMap::new();
    for id in page.items.iter().filter_map(|e| e.actor_id) {
        if let Entry::Vacant(slot) = names.entry(id) {
            slot.insert(match service::get_user(&web.state.db, id).await {
                Ok(u) => u.username,
                Err(ApiError::NotFound(_)) => format!("#{id}"),
                Err(e) => return Err(web.fail(e)),
            });
        }
    }
    let rows = page
        .items
        .into_iter()
        .map(|entry| AuditRow {
            actor: entry
                .actor_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "system".into()),
            entry,
        })
        .collect();
    let view = AuditLogPage {
        shell: web.shell("Audit log"),
        rows,
        first: filled(&filter.after).map(|_| filter.link("")),
        next: page.next_after.map(|n| filter.link(&n.to_string())),
        filter,
        errors,
    };
    Ok(render(status, &view))
}

// ---------------------------------------------------------------- plant

#[derive(Template)]
#[template(path = "plant.html")]
struct PlantPage {
    shell: Shell,
    /// The plant as it is now.
    current: nexus_core::plant::PlantSettings,
    /// The time now at the plant, and an amount in its currency.
    now: String,
    example: String,
    form: nexus_core::plant::PlantSettings,
    errors: Errors,
    zones: Vec<&'static str>,
}

fn plant_page(
    web: &Web,
    shell: Shell,
    status: StatusCode,
    form: Option<nexus_core::plant::PlantSettings>,
    errors: Errors,
) -> Response {
    let current = web.state.plant.get();
    let page = PlantPage {
        shell,
        now: current.display(nexus_core::Timestamp::now()),
        example: current.money(123_450),
        form: form.unwrap_or_else(|| current.settings()),
        current: current.settings(),
        errors,
        zones: nexus_core::plant::timezone_names().collect(),
    };
    render(status, &page)
}

async fn plant(web: Web, Query(done): Query<Done>) -> Page {
    web.require("plant:configure")?;
    let mut shell = web.shell("Plant");
    if done.done == "saved" {
        // Says what the saved settings do, from the settings themselves.
        let p = web.state.plant.get();
        shell = shell.with_flash(format!(
            "Plant settings saved. Pages now show times in {} ({}) and money in {}, like {}; \
             days such as \"today\" and \"overdue\" are counted in that time zone.",
            p.timezone.name(),
            p.local(nexus_core::Timestamp::now()).format("%Z"),
            p.currency,
            p.money(123_450),
        ));
    }
    Ok(plant_page(
        &web,
        shell,
        StatusCode::OK,
        None,
        Errors::default(),
    ))
}

async fn update_plant(web: Web, Posted(form): Posted<PlantForm>) -> Page {
    web.require("plant:configure")?;
    let req = nexus_core::plant::PlantSettings {
        currency: form.currency,
        timezone: form.timezone,
    };
    match nexus_core::plant::update(&web.state, &web.audit(), &req).await {
        Ok(_) => Ok(Redirect::to("/admin/plant?done=saved").into_response()),
        Err(err) => {
            let r = web.refused("Plant", err)?;
            Ok(plant_page(&web, r.shell, r.status, Some(req), r.errors))
        }
    }
}

/// The plant form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PlantForm {
    currency: String,
    timezone: String,
}

//! The identity domain's web pages: sign-in and sign-out, home, profile, and the admin
//! screens for users, roles, departments and the audit trail. Handlers parse the form,
//! call the same services as the JSON API and render a template; every form carries the
//! session's CSRF token and shows field errors next to their fields.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use askama::Template;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Path, Query, State};
use axum::http::{Method, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use nexus_core::audit::{AuditCtx, AuditEntry};
use nexus_core::auth::SESSION_COOKIE;
use nexus_core::pages::{Shell, error_html};
use nexus_core::{
    ApiError, ApiResult, AppState, ClientInfo, CurrentUser, FieldError, IfMatch, PageParams,
};
use serde::Deserialize;

use crate::model::{
    AuditQuery, ChangePasswordRequest, CreateDepartment, CreateRole, CreateUser, DepartmentFilter,
    DepartmentOut, LoginRequest, PermissionOut, ResetPasswordRequest, RoleOut, UpdateDepartment,
    UpdateRole, UpdateUser, UserFilter, UserOut,
};
use crate::service::{self, SessionKind};

/// Every page of this domain.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/profile", get(profile))
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
}

/// Users per page of the user list.
const USERS_PER_PAGE: u64 = 25;
/// Entries per page of the audit log.
const AUDIT_PER_PAGE: u64 = 50;
/// Shown when an optimistic-locking check fails on a form.
const STALE: &str = "Someone else changed this record after you opened the form. \
The form now shows the current values; make your change again.";

// ---------------------------------------------------------------- plumbing

/// A response that ends a handler early: an error page or a redirect to sign in. Boxed,
/// as responses are large and this rides in every `Result`.
struct Halt(Box<Response>);

impl IntoResponse for Halt {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Response> for Halt {
    fn from(response: Response) -> Self {
        Self(Box::new(response))
    }
}

/// A page handler's answer.
type Page = Result<Response, Halt>;

/// Field errors of a submitted form, looked up by field name from the templates.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// A page response; `no-store` because pages carry the session's CSRF token.
fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A service message as a sentence: capitalised, with a full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// What an error page says; internal details stay in the log.
fn describe(err: &ApiError) -> String {
    match err {
        ApiError::Internal(detail) => {
            tracing::error!(error = %detail, "page failed");
            "Something went wrong on our side. Try again in a moment.".into()
        }
        ApiError::PreconditionFailed => STALE.into(),
        other => sentence(&other.problem().detail),
    }
}

/// An error as a page in the layout, with the error's status.
fn error_page(shell: impl FnOnce(&str) -> Shell, err: &ApiError) -> Response {
    let status = err.status();
    let title = status.canonical_reason().unwrap_or("Error");
    let html = error_html(shell(title), &describe(err));
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters and `/` pass).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `a=1&b=x%20y` from pairs, leaving out empty values so links stay short.
fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `Some(text)` unless blank: form fields arrive as empty strings.
fn filled(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Where to go after signing in: only a path on this site, never `//host` or `/\host`,
/// which browsers would follow elsewhere.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic());
    if local { next } else { "/" }
}

/// The session cookie, written out because `Max-Age` would otherwise need the `time` crate.
fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}")
}

/// Success messages named by `?done=...` after a redirect; fixed texts, so nothing from
/// the address is echoed into the page.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Done {
    done: String,
}

impl Done {
    fn message(&self) -> Option<&'static str> {
        Some(match self.done.as_str() {
            "created" => "Created.",
            "saved" => "Saved.",
            "deleted" => "Deleted.",
            "password" => "Password changed. Your other sessions were signed out.",
            "reset" => {
                "Password set. The user's sessions were signed out and the account unlocked."
            }
            _ => return None,
        })
    }
}

/// A signed-in page request. Without a session the visitor is sent to sign in and then
/// brought back, so every page handler can assume a user.
struct Web {
    state: AppState,
    user: CurrentUser,
    client: ClientInfo,
    path: String,
}

impl FromRequestParts<AppState> for Web {
    type Rejection = Halt;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Halt> {
        let client = ClientInfo::from_request_parts(parts, state)
            .await
            .map_err(|e| Halt::from(e.into_response()))?;
        let user =
            <CurrentUser as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .map_err(|e| Halt::from(error_page(Shell::anonymous, &e)))?;
        let Some(user) = user else {
            // Only a page can be come back to; a form post starts over from home.
            let next = match parts.uri.path_and_query() {
                Some(p) if parts.method == Method::GET => p.as_str(),
                _ => "/",
            };
            let to = format!("/login?{}", query_string(&[("next", next)]));
            return Err(Redirect::to(&to).into_response().into());
        };
        Ok(Self {
            state: state.clone(),
            user,
            client,
            path: parts.uri.path().to_string(),
        })
    }
}

/// How a refused form is answered: the form again, with field errors (422) or a
/// message on top.
struct Refusal {
    status: StatusCode,
    shell: Shell,
    errors: Errors,
    /// The record changed underneath: show its current values.
    stale: bool,
}

impl Web {
    fn shell(&self, title: &str) -> Shell {
        Shell::new(&self.state, &self.user, title, &self.path)
    }

    /// The shell with the success message named by `?done=`, if any.
    fn shell_done(&self, title: &str, done: &Done) -> Shell {
        let shell = self.shell(title);
        match done.message() {
            Some(m) => shell.with_flash(m),
            None => shell,
        }
    }

    fn fail(&self, err: ApiError) -> Halt {
        error_page(|title| self.shell(title), &err).into()
    }

    /// 403 page unless the user holds `permission`.
    fn require(&self, permission: &str) -> Result<(), Halt> {
        self.user.require(permission).map_err(|e| self.fail(e))
    }

    /// 403 page unless `token` is this session's CSRF token.
    fn check_csrf(&self, token: &str) -> Result<(), Halt> {
        if self
            .state
            .auth
            .verify_csrf(self.user.principal.session_id, token)
        {
            Ok(())
        } else {
            Err(self.fail(ApiError::Forbidden(
                "the form has expired or did not come from this site; reload the page and try again"
                    .into(),
            )))
        }
    }

    fn audit(&self) -> AuditCtx {
        self.client.audit(Some(self.user.id()))
    }

    /// Sorts a failed form submission: field errors and conflicts go back to the form;
    /// not found, forbidden or a server error become an error page.
    fn refused(&self, title: &str, err: ApiError) -> Result<Refusal, Halt> {
        let fields = err.field_errors();
        let shell = self.shell(title);
        if !fields.is_empty() {
            return Ok(Refusal {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                shell,
                errors: Errors(fields),
                stale: false,
            });
        }
        match err {
            ApiError::Conflict { .. }
            | ApiError::PreconditionFailed
            | ApiError::BadRequest(_)
            | ApiError::TooManyRequests { .. } => Ok(Refusal {
                status: err.status(),
                shell: shell.with_error(describe(&err)),
                errors: Errors::default(),
                stale: matches!(err, ApiError::PreconditionFailed),
            }),
            other => Err(self.fail(other)),
        }
    }
}

/// `?` for service calls in page handlers: a failure becomes an error page.
trait OrPage<T> {
    fn or_page(self, web: &Web) -> Result<T, Halt>;
}

impl<T> OrPage<T> for ApiResult<T> {
    fn or_page(self, web: &Web) -> Result<T, Halt> {
        self.map_err(|e| web.fail(e))
    }
}

/// A form that carries nothing but the CSRF token (sign-out).
#[derive(Deserialize, Default)]
#[serde(default)]
struct CsrfForm {
    csrf: String,
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
            let cookie = session_cookie(
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
            render(err.status(), &page)
        }
        Err(err) => error_page(Shell::anonymous, &err),
    }
}

async fn logout(web: Web, Form(form): Form<CsrfForm>) -> Page {
    web.check_csrf(&form.csrf)?;
    service::logout(&web.state, &web.client, &web.user.principal)
        .await
        .or_page(&web)?;
    let cookie = session_cookie("", 0, web.state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    me: UserOut,
}

impl HomePage {
    /// One line on what each area of the navigation is for.
    fn about(&self, href: &str) -> &'static str {
        match href {
            "/admin/users" => "Accounts, roles and passwords of the people who use Nexus.",
            "/admin/roles" => "What each role may see and do.",
            "/admin/departments" => "The departments people belong to.",
            "/admin/audit" => "Who changed what, and when.",
            "/profile" => "Your details and your password.",
            _ => "",
        }
    }
}

async fn home(web: Web) -> Page {
    let me = service::get_user(&web.state.db, web.user.id())
        .await
        .or_page(&web)?;
    Ok(render(
        StatusCode::OK,
        &HomePage {
            shell: web.shell("Home"),
            me,
        },
    ))
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    shell: Shell,
    me: UserOut,
    permissions: Vec<String>,
    errors: Errors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

impl Web {
    async fn profile_page(&self, shell: Shell, errors: Errors, status: StatusCode) -> Page {
        let me = service::get_user(&self.state.db, self.user.id())
            .await
            .or_page(self)?;
        let mut permissions: Vec<String> =
            self.user.principal.permissions.iter().cloned().collect();
        permissions.sort();
        Ok(render(
            status,
            &ProfilePage {
                shell,
                me,
                permissions,
                errors,
            },
        ))
    }
}

async fn profile(web: Web, Query(done): Query<Done>) -> Page {
    web.profile_page(
        web.shell_done("Profile", &done),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn change_password(web: Web, Form(form): Form<PasswordForm>) -> Page {
    web.check_csrf(&form.csrf)?;
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
            web.profile_page(r.shell, r.errors, r.status).await
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
    let page = PageParams {
        limit: Some(nexus_core::paging::MAX_LIMIT),
        ..PageParams::default()
    };
    let departments = service::list_departments(&state.db, &DepartmentFilter::default(), &page)
        .await?
        .items;
    Ok(Choices { roles, departments })
}

/// The department select's value: empty for none.
fn department_id(value: &str) -> ApiResult<Option<i64>> {
    match filled(value) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid("department_id", "choose a department from the list")),
    }
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
        let offset = offset.to_string();
        let query = query_string(&[
            ("q", &self.q),
            ("role", &self.role),
            ("active", &self.active),
            ("offset", if offset == "0" { "" } else { &offset }),
        ]);
        format!("/admin/users?{query}")
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
        shell: web.shell_done("Users", &done),
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
    csrf: String,
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
            department_id: department_id(&self.department_id)?,
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

async fn create_user(web: Web, Form(form): Form<NewUserForm>) -> Page {
    web.check_csrf(&form.csrf)?;
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
    csrf: String,
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
            csrf: String::new(),
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
            department_id: Some(department_id(&self.department_id)?),
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
    csrf: String,
    new_password: String,
    confirm_password: String,
}

impl Web {
    async fn edit_user_page(
        &self,
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
            choices: choices(&self.state).await.or_page(self)?,
            can_write: self.user.can("users:write"),
        };
        Ok(render(status, &page))
    }
}

async fn edit_user(web: Web, Path(id): Path<i64>, Query(done): Query<Done>) -> Page {
    web.require("users:read")?;
    let user = service::get_user(&web.state.db, id).await.or_page(&web)?;
    let form = EditUserForm::of(&user);
    let shell = web.shell_done(&user.username, &done);
    web.edit_user_page(user, form, Default::default(), shell, StatusCode::OK)
        .await
}

async fn update_user(web: Web, Path(id): Path<i64>, Form(form): Form<EditUserForm>) -> Page {
    web.check_csrf(&form.csrf)?;
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
    let form = if r.stale {
        EditUserForm::of(&user)
    } else {
        form
    };
    web.edit_user_page(user, form, (r.errors, Errors::default()), r.shell, r.status)
        .await
}

async fn reset_password(web: Web, Path(id): Path<i64>, Form(form): Form<ResetForm>) -> Page {
    web.check_csrf(&form.csrf)?;
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
    web.edit_user_page(user, form, (Errors::default(), r.errors), r.shell, r.status)
        .await
}

// ---------------------------------------------------------------- roles

/// A role form as posted: checkbox groups repeat the `permissions` name, which a struct
/// cannot take through `Form`, so it is read from the name/value pairs.
#[derive(Default)]
struct RoleForm {
    csrf: String,
    name: String,
    description: String,
    permissions: Vec<String>,
    version: i32,
}

impl RoleForm {
    fn of(role: &RoleOut) -> Self {
        Self {
            csrf: String::new(),
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
                "csrf" => form.csrf = value,
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

impl Web {
    async fn roles_page(
        &self,
        shell: Shell,
        form: RoleForm,
        errors: Errors,
        status: StatusCode,
    ) -> Page {
        let page = RolesPage {
            shell,
            roles: service::list_roles(&self.state.db).await.or_page(self)?,
            permissions: service::list_permissions(&self.state.db)
                .await
                .or_page(self)?,
            form,
            errors,
            can_write: self.user.can("roles:write"),
        };
        Ok(render(status, &page))
    }
}

async fn roles(web: Web, Query(done): Query<Done>) -> Page {
    web.require("roles:read")?;
    web.roles_page(
        web.shell_done("Roles", &done),
        RoleForm::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn create_role(web: Web, Form(pairs): Form<Vec<(String, String)>>) -> Page {
    let form = RoleForm::from_pairs(pairs);
    web.check_csrf(&form.csrf)?;
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
            web.roles_page(r.shell, form, r.errors, r.status).await
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

impl Web {
    async fn edit_role_page(
        &self,
        role: RoleOut,
        form: RoleForm,
        errors: Errors,
        shell: Shell,
        status: StatusCode,
    ) -> Page {
        let page = EditRolePage {
            shell,
            editable: self.user.can("roles:write") && !role.is_builtin,
            permissions: service::list_permissions(&self.state.db)
                .await
                .or_page(self)?,
            role,
            form,
            errors,
        };
        Ok(render(status, &page))
    }

    /// The role edit page again after a refused change (keeping what was typed) or
    /// deletion (`form` is `None`).
    async fn role_refused(&self, id: i64, form: Option<RoleForm>, err: ApiError) -> Page {
        let role = service::get_role(&self.state.db, id).await.or_page(self)?;
        let r = self.refused(&role.name, err)?;
        let form = match form {
            Some(form) if !r.stale => form,
            _ => RoleForm::of(&role),
        };
        self.edit_role_page(role, form, r.errors, r.shell, r.status)
            .await
    }
}

async fn edit_role(web: Web, Path(id): Path<i64>, Query(done): Query<Done>) -> Page {
    web.require("roles:read")?;
    let role = service::get_role(&web.state.db, id).await.or_page(&web)?;
    let form = RoleForm::of(&role);
    let shell = web.shell_done(&role.name, &done);
    web.edit_role_page(role, form, Errors::default(), shell, StatusCode::OK)
        .await
}

async fn update_role(
    web: Web,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Page {
    let form = RoleForm::from_pairs(pairs);
    web.check_csrf(&form.csrf)?;
    web.require("roles:write")?;
    let req = UpdateRole {
        name: Some(form.name.clone()),
        description: Some(Some(form.description.clone())),
        permissions: Some(form.permissions.clone()),
    };
    let version = IfMatch(Some(form.version));
    match service::update_role(&web.state, &web.audit(), id, version, req).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/roles/{id}?done=saved")).into_response()),
        Err(err) => web.role_refused(id, Some(form), err).await,
    }
}

async fn delete_role(web: Web, Path(id): Path<i64>, Form(form): Form<VersionForm>) -> Page {
    web.check_csrf(&form.csrf)?;
    web.require("roles:write")?;
    let version = IfMatch(Some(form.version));
    match service::delete_role(&web.state, &web.audit(), id, version).await {
        Ok(()) => Ok(Redirect::to("/admin/roles?done=deleted").into_response()),
        Err(err) => web.role_refused(id, None, err).await,
    }
}

/// A delete button's form: the version the page showed, so a changed record is not
/// deleted unseen.
#[derive(Deserialize, Default)]
#[serde(default)]
struct VersionForm {
    csrf: String,
    version: i32,
}

// ---------------------------------------------------------------- departments

#[derive(Deserialize, Default)]
#[serde(default)]
struct DepartmentForm {
    csrf: String,
    name: String,
    description: String,
    /// A checkbox: present when ticked.
    is_active: Option<String>,
    version: i32,
}

impl DepartmentForm {
    fn of(d: &DepartmentOut) -> Self {
        Self {
            csrf: String::new(),
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

impl Web {
    async fn departments_page(
        &self,
        shell: Shell,
        failure: DepartmentFailure,
        status: StatusCode,
    ) -> Page {
        let page = PageParams {
            limit: Some(nexus_core::paging::MAX_LIMIT),
            ..PageParams::default()
        };
        let list = service::list_departments(&self.state.db, &DepartmentFilter::default(), &page)
            .await
            .or_page(self)?;
        let (mut form, mut errors) = (DepartmentForm::blank(), Errors::default());
        let mut row_failure = None;
        match failure {
            DepartmentFailure::None => {}
            DepartmentFailure::New(f, e) => (form, errors) = (f, e),
            DepartmentFailure::Row(id, f, e) => row_failure = Some((id, f, e)),
        }
        let rows = list
            .items
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
            can_write: self.user.can("departments:write"),
        };
        Ok(render(status, &page))
    }
}

async fn departments(web: Web, Query(done): Query<Done>) -> Page {
    web.require("departments:read")?;
    web.departments_page(
        web.shell_done("Departments", &done),
        DepartmentFailure::None,
        StatusCode::OK,
    )
    .await
}

async fn create_department(web: Web, Form(form): Form<DepartmentForm>) -> Page {
    web.check_csrf(&form.csrf)?;
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
            web.departments_page(r.shell, DepartmentFailure::New(form, r.errors), r.status)
                .await
        }
    }
}

async fn update_department(
    web: Web,
    Path(id): Path<i64>,
    Form(form): Form<DepartmentForm>,
) -> Page {
    web.check_csrf(&form.csrf)?;
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
            web.departments_page(r.shell, failure, r.status).await
        }
    }
}

async fn delete_department(web: Web, Path(id): Path<i64>, Form(form): Form<VersionForm>) -> Page {
    web.check_csrf(&form.csrf)?;
    web.require("departments:write")?;
    let version = IfMatch(Some(form.version));
    match service::delete_department(&web.state, &web.audit(), id, version).await {
        Ok(()) => Ok(Redirect::to("/admin/departments?done=deleted").into_response()),
        Err(err) => {
            let r = web.refused("Departments", err)?;
            web.departments_page(r.shell, DepartmentFailure::None, r.status)
                .await
        }
    }
}

// ---------------------------------------------------------------- audit trail

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditFilterForm {
    entity_type: String,
    actor_id: String,
    action: String,
    after: String,
}

impl AuditFilterForm {
    fn query(&self) -> ApiResult<AuditQuery> {
        let actor_id = match filled(&self.actor_id) {
            None => None,
            Some(v) => Some(
                v.parse()
                    .map_err(|_| ApiError::invalid("actor_id", "must be a user id (a number)"))?,
            ),
        };
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

async fn audit(web: Web, Query(filter): Query<AuditFilterForm>) -> Page {
    web.require("audit:read")?;
    let (page, errors, status) = match filter.query() {
        Ok(query) => (
            service::audit_page(&web.state.db, query)
                .await
                .or_page(&web)?,
            Errors::default(),
            StatusCode::OK,
        ),
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

//! The web shell shared by every domain's pages: the layout's context (title, signed-in
//! user, CSRF token, navigation, messages), the not-found and error pages, and the
//! plumbing of page handlers (the signed-in request, CSRF check, refused forms).

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Multipart, OptionalFromRequestParts, Request};
use axum::http::{HeaderMap, Method, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::audit::AuditCtx;
use crate::auth::CurrentUser;
use crate::domain::NavLink;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::ClientInfo;
use crate::state::AppState;
use crate::time::Timestamp;
use crate::validate::Validator;
use chrono::{NaiveDate, NaiveDateTime};

/// The first entry of every navigation.
const HOME: NavLink = NavLink {
    href: "/",
    label: "Home",
    permission: None,
};

#[derive(Clone, Copy)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// One domain's section of the navigation, as the signed-in user may use it.
pub struct NavGroup {
    pub title: &'static str,
    pub items: Vec<NavItem>,
}

/// What the layout (`base.html`) needs on every page.
pub struct Shell {
    pub title: String,
    /// Display name of the signed-in user; `None` on the sign-in page.
    pub user_name: Option<String>,
    pub csrf: String,
    /// Home and every link the user may use, in order.
    pub nav: Vec<NavItem>,
    /// The same links by area, for the sidebar (a drawer on a phone).
    pub sections: Vec<NavGroup>,
    /// The events that change the navigation's counts, space-separated.
    pub events: &'static str,
    /// A success message ("Saved.") shown above the content.
    pub flash: Option<String>,
    /// A failure that belongs to no single field, shown above the content.
    pub error: Option<String>,
}

impl Shell {
    /// The shell for a signed-in user on the page at `path`.
    pub fn new(state: &AppState, user: &CurrentUser, title: &str, path: &str) -> Self {
        let item = |link: &NavLink| NavItem {
            href: link.href,
            label: link.label,
            active: link.href == path || (link.href != "/" && path.starts_with(link.href)),
        };
        let may = |link: &&NavLink| link.permission.is_none_or(|p| user.can(p));
        let sections: Vec<NavGroup> = state
            .registry
            .iter()
            .flat_map(|d| d.nav)
            .map(|section| NavGroup {
                title: section.title,
                items: section.links.iter().filter(may).map(item).collect(),
            })
            .filter(|group| !group.items.is_empty())
            .collect();
        let nav = std::iter::once(item(&HOME))
            .chain(sections.iter().flat_map(|g| g.items.iter().copied()))
            .collect();
        Self {
            title: title.to_string(),
            user_name: Some(user.principal.username.clone()),
            csrf: state.auth.csrf_token(user.principal.session_id),
            nav,
            sections,
            events: crate::home::events(state),
            flash: None,
            error: None,
        }
    }

    /// The shell for a visitor who is not signed in.
    pub fn anonymous(title: &str) -> Self {
        Self {
            title: title.to_string(),
            user_name: None,
            csrf: String::new(),
            nav: Vec::new(),
            sections: Vec::new(),
            events: "",
            flash: None,
            error: None,
        }
    }

    pub fn with_flash(mut self, flash: impl Into<String>) -> Self {
        self.flash = Some(flash.into());
        self
    }

    pub fn with_error(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound {
    shell: Shell,
}

/// The HTML 404 page, inside the signed-in user's shell when there is one.
pub async fn not_found_page(parts: &mut Parts, state: &AppState) -> Response {
    let user =
        <CurrentUser as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .ok()
            .flatten();
    let shell = match &user {
        Some(user) => Shell::new(state, user, "Not found", parts.uri.path()),
        None => Shell::anonymous("Not found"),
    };
    let html = NotFound { shell }
        .render()
        .unwrap_or_else(|_| "not found".into());
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-store")],
        Html(html),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    shell: Shell,
    message: &'a str,
}

/// A page in the layout that says why a request failed (403, 404, 409, ...).
pub fn error_html(shell: Shell, message: &str) -> String {
    ErrorPage { shell, message }
        .render()
        .unwrap_or_else(|_| message.to_string())
}

// ---------------------------------------------------------------- page handlers

/// Shown when an optimistic-locking check fails on a form.
const STALE: &str = "Someone else changed this record after you opened the form. \
The form now shows the current values; make your change again.";

/// A response that ends a handler early: an error page or a redirect to sign in. Boxed,
/// as responses are large and this rides in every `Result`.
pub struct Halt(Box<Response>);

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
pub type Page = Result<Response, Halt>;

/// Field errors of a submitted form, looked up by field name from the templates.
#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// A page response; `no-store` because pages carry the session's CSRF token.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A service message as a sentence: capitalised, with a full stop.
pub fn sentence(message: &str) -> String {
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
pub fn describe(err: &ApiError) -> String {
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
pub fn error_page(shell: impl FnOnce(&str) -> Shell, err: &ApiError) -> Response {
    let status = err.status();
    let title = status.canonical_reason().unwrap_or("Error");
    let html = error_html(shell(title), &describe(err));
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters and `/` pass).
pub fn encode(value: &str) -> String {
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
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The address of a list page: `path` with `pairs` as its query and the rows from
/// `offset` (left out when 0, as are empty values).
pub fn paged_link(path: &str, pairs: &[(&str, &str)], offset: u64) -> String {
    let offset = offset.to_string();
    let mut all = pairs.to_vec();
    all.push(("offset", if offset == "0" { "" } else { &offset }));
    format!("{path}?{}", query_string(&all))
}

/// Typed text that is no date or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotATime;

/// A time typed into a page: RFC 3339 (any offset), else plant-local time
/// ([`crate::plant::current`]): a `datetime-local` value (`2026-11-23T14:05`) or a day
/// (its start). `Ok(None)` when blank, `Err(NotATime)` when it is none of these or names
/// a wall-clock time the plant skips when its clocks go forward; of a time that happens
/// twice when they go back, the earlier.
pub fn instant(text: &str) -> Result<Option<Timestamp>, NotATime> {
    let Some(text) = filled(text) else {
        return Ok(None);
    };
    if let Some(t) = Timestamp::parse(&text) {
        return Ok(Some(t));
    }
    let plant = crate::plant::current();
    if let Some(local) = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
    {
        return plant.instant_of(local).map(Some).ok_or(NotATime);
    }
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map(|d| Some(plant.day_start(d)))
        .map_err(|_| NotATime)
}

/// Minor units (hundredths) as money in the plant's currency: `€1,234.50`,
/// `1,234.50 CHF` (see [`crate::plant::format_money`]). Takes `i64` or `&i64`, as
/// templates pass either.
pub fn money(minor: impl std::borrow::Borrow<i64>) -> String {
    crate::plant::current().money(*minor.borrow())
}

/// Minor units (hundredths) as an amount to put back into a form's input: `1234.50`, no
/// currency and no grouping, so that it reads back as typed.
pub fn amount(minor: impl std::borrow::Borrow<i64>) -> String {
    let minor = *minor.borrow();
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `Some(text)` unless blank: form fields arrive as empty strings.
pub fn filled(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// A number typed into `field` (`4.5` or `4,5`); empty is `None`.
pub fn typed_decimal(v: &mut Validator, field: &str, text: &str) -> Option<f64> {
    let n = filled(text).map(|t| t.replace(',', ".").parse::<f64>());
    let ok = match &n {
        Some(Ok(x)) => x.is_finite(),
        Some(Err(_)) => false,
        None => true,
    };
    v.check(ok, field, "must be a number, like 4.5");
    n.and_then(Result::ok).filter(|x| x.is_finite())
}

/// A whole number typed into `field`; empty is `None`.
pub fn typed_whole<T: std::str::FromStr>(v: &mut Validator, field: &str, text: &str) -> Option<T> {
    let n = filled(text).map(|t| t.parse::<T>());
    v.check(
        !matches!(n, Some(Err(_))),
        field,
        "must be a whole number, like 2",
    );
    n.and_then(Result::ok)
}

/// A date typed into `field` (`2026-01-31`, as date inputs send it); empty is `None`.
pub fn typed_date(v: &mut Validator, field: &str, text: &str) -> Option<NaiveDate> {
    let d = filled(text).map(|t| t.parse::<NaiveDate>());
    v.check(
        !matches!(d, Some(Err(_))),
        field,
        "must be a date like 2026-01-31",
    );
    d.and_then(Result::ok)
}

/// Takes the field errors of `result` into `v` (then `None`), so a form reports all its
/// errors at once; a conflict or any other error passes through.
pub fn absorb<T>(v: &mut Validator, result: ApiResult<T>) -> ApiResult<Option<T>> {
    match result {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            let fields = e.field_errors();
            if fields.is_empty() || matches!(e, ApiError::Conflict { .. }) {
                return Err(e);
            }
            for f in fields {
                v.add(&f.field, f.message);
            }
            Ok(None)
        }
    }
}

/// A select's id value, empty for none; anything else is refused on `field` as not one
/// of the `what`s offered.
pub fn chosen_id(field: &str, value: &str, what: &str) -> ApiResult<Option<i64>> {
    match filled(value) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(field, format!("choose a {what} from the list"))),
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, for the whole site. Written out because
/// `Max-Age` would otherwise need the `time` crate.
pub fn cookie_header(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}")
}

/// The value of the cookie `name` sent with a request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    axum_extra::extract::cookie::CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
}

/// Success messages every domain may name with `?done=...` after a redirect.
const DONE: &[(&str, &str)] = &[
    ("created", "Created."),
    ("saved", "Saved."),
    ("deleted", "Deleted."),
];

/// The success message named by `?done=...` after a redirect; fixed texts, so nothing
/// from the address is echoed into the page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    pub done: String,
}

impl Done {
    /// The message: one of the domain's `own` (name, text) pairs, else a common one.
    pub fn message(&self, own: &[(&str, &'static str)]) -> Option<&'static str> {
        done_message(&self.done, own)
    }
}

/// The message named `done`: one of `own` (name, text) pairs, which may say more than the
/// common one of the same name ("Project created."), else a common one.
pub fn done_message(done: &str, own: &[(&str, &'static str)]) -> Option<&'static str> {
    own.iter()
        .chain(DONE)
        .find(|(name, _)| *name == done)
        .map(|(_, text)| *text)
}

/// A form that carries nothing but the CSRF token.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: String,
}

/// A signed-in page request. Without a session the visitor is sent to sign in and then
/// brought back, so every page handler can assume a user.
pub struct Web {
    pub state: AppState,
    pub user: CurrentUser,
    pub client: ClientInfo,
    pub path: String,
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

/// A form posted by a signed-in user, its CSRF token (the `csrf` field) checked: the
/// one way a page handler takes a form. Refusals are pages: 403 for a bad token, 400 for
/// a body that is not the form.
pub struct Posted<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Halt;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Halt> {
        let (mut parts, body) = req.into_parts();
        let web = Web::from_request_parts(&mut parts, state).await?;
        let bytes = crate::extract::read_body(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| web.fail(e))?;
        let token: CsrfForm = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        web.check_csrf(&token.csrf)?;
        crate::extract::check_pairs(&bytes).map_err(|e| web.fail(e))?;
        serde_urlencoded::from_bytes(&bytes)
            .map(Posted)
            .map_err(|e| {
                web.fail(ApiError::BadRequest(format!(
                    "the form is not as expected: {e}"
                )))
            })
    }
}

/// A multipart form (one that carries files) posted by a signed-in user, its CSRF token
/// checked before anything else is read: the token must be the first part, where every
/// page's form puts it. The handler reads the parts that follow. Refusals are pages: 403
/// for a missing or bad token.
pub struct PostedMultipart(pub Multipart);

/// Longest CSRF part read; a longer one is not a token.
const MAX_TOKEN: usize = 256;

impl FromRequest<AppState> for PostedMultipart {
    type Rejection = Halt;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Halt> {
        let (mut parts, body) = req.into_parts();
        let web = Web::from_request_parts(&mut parts, state).await?;
        // A body that is not multipart carries no token either.
        let mut form = Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .ok();
        let token = match form.as_mut() {
            Some(form) => first_token(form).await,
            None => None,
        };
        web.check_csrf(token.as_deref().unwrap_or(""))?;
        form.map(Self)
            .ok_or_else(|| web.fail(ApiError::BadRequest("the form is not multipart".into())))
    }
}

/// The `csrf` part's text when it comes first and is short enough to be a token.
async fn first_token(form: &mut Multipart) -> Option<String> {
    let mut field = form.next_field().await.ok()??;
    if field.name() != Some("csrf") {
        return None;
    }
    let mut token = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        token.extend_from_slice(&chunk);
        if token.len() > MAX_TOKEN {
            return None;
        }
    }
    String::from_utf8(token).ok()
}

/// How a refused form is answered: the form again, with field errors (422, or 409 for a
/// conflict on a field) or a message on top.
pub struct Refusal {
    pub status: StatusCode,
    pub shell: Shell,
    pub errors: Errors,
    /// The record changed underneath: show its current values.
    pub stale: bool,
}

impl Refusal {
    /// The refusal saying `what` ("The task was not changed") above the form when fields
    /// are marked: "The task was not changed. See the marked fields."
    pub fn saying(mut self, what: &str) -> Self {
        if !self.errors.0.is_empty() {
            self.shell = self
                .shell
                .with_error(format!("{what}. See the marked fields."));
        }
        self
    }

    /// The form to show again: what was typed, or what is stored now when the record
    /// changed underneath (`stored` is only worked out then).
    pub fn keeping<F>(&self, typed: F, stored: impl FnOnce() -> F) -> F {
        if self.stale { stored() } else { typed }
    }
}

impl Web {
    pub fn shell(&self, title: &str) -> Shell {
        Shell::new(&self.state, &self.user, title, &self.path)
    }

    /// The shell with a success message (from [`Done::message`]), if any.
    pub fn shell_done(&self, title: &str, message: Option<&str>) -> Shell {
        let shell = self.shell(title);
        match message {
            Some(m) => shell.with_flash(m),
            None => shell,
        }
    }

    pub fn fail(&self, err: ApiError) -> Halt {
        error_page(|title| self.shell(title), &err).into()
    }

    /// 403 page unless the user holds `permission`.
    pub fn require(&self, permission: &str) -> Result<(), Halt> {
        self.user.require(permission).map_err(|e| self.fail(e))
    }

    /// 403 page unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), Halt> {
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

    pub fn audit(&self) -> AuditCtx {
        self.client.audit(Some(self.user.id()))
    }

    /// Sorts a failed form submission: field errors and conflicts go back to the form;
    /// not found, forbidden or a server error become an error page.
    pub fn refused(&self, title: &str, err: ApiError) -> Result<Refusal, Halt> {
        let fields = err.field_errors();
        let shell = self.shell(title);
        if !fields.is_empty() {
            return Ok(Refusal {
                status: err.status(),
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
pub trait OrPage<T> {
    fn or_page(self, web: &Web) -> Result<T, Halt>;
}

impl<T> OrPage<T> for ApiResult<T> {
    fn or_page(self, web: &Web) -> Result<T, Halt> {
        self.map_err(|e| web.fail(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> std::sync::Arc<crate::plant::Plant> {
        std::sync::Arc::new(
            crate::plant::validate(&crate::plant::PlantSettings {
                currency: "EUR".into(),
                timezone: "Europe/Berlin".into(),
            })
            .unwrap(),
        )
    }

    #[tokio::test]
    async fn typed_times_are_plant_time() {
        let at = |s: &str| instant(s).map(|t| t.map(|t| t.to_rfc3339()));
        // Outside a request: UTC.
        assert_eq!(
            at("2026-12-07T09:05"),
            Ok(Some("2026-12-07T09:05:00.000000Z".into()))
        );
        assert_eq!(at(" "), Ok(None));
        assert_eq!(at("soon"), Err(NotATime));
        let answers = crate::plant::scope(berlin(), async move {
            [
                at("2026-12-07T09:05"),
                at("2026-07-01 09:05"),
                at("2026-12-07"),
                at("2026-12-07T09:05:00Z"),
                at("2026-03-29T02:30"),
                at("2026-10-25T02:30"),
            ]
        })
        .await;
        let ok = |s: &str| Ok(Some(s.to_string()));
        assert_eq!(answers[0], ok("2026-12-07T08:05:00.000000Z"));
        assert_eq!(answers[1], ok("2026-07-01T07:05:00.000000Z"));
        assert_eq!(answers[2], ok("2026-12-06T23:00:00.000000Z"));
        assert_eq!(
            answers[3],
            ok("2026-12-07T09:05:00.000000Z"),
            "an offset is kept"
        );
        assert_eq!(
            answers[4],
            Err(NotATime),
            "skipped when the clocks go forward"
        );
        assert_eq!(
            answers[5],
            ok("2026-10-25T00:30:00.000000Z"),
            "the earlier of two"
        );
    }

    #[tokio::test]
    async fn money_in_the_plant_currency() {
        assert_eq!(money(123_450), "$1,234.50");
        assert_eq!(money(-5), "-$0.05");
        let shown = crate::plant::scope(berlin(), async { money(123_450) }).await;
        assert_eq!(shown, "€1,234.50");
        assert_eq!(amount(123_450), "1234.50");
        assert_eq!(amount(-5), "-0.05");
    }
}

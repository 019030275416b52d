//! Request extractors whose rejections are problem+json: JSON bodies and query strings
//! that name the field at fault, client info for the audit trail, and `If-Match`.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::audit::AuditCtx;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// A JSON body; malformed JSON is 400, a wrong type or unknown field is 422 naming it.
pub struct ApiJson<T>(pub T);

/// Parses `bytes` as JSON into `T`, with errors that name the field; text holding a
/// forbidden character (see [`crate::validate::forbidden_char`]) is 422 on its field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Only an escape or these lead bytes can spell a forbidden character; the rest of
    // bodies skip the second look.
    if bytes
        .iter()
        .any(|&b| matches!(b, b'\\' | 0x7f | 0xc2 | 0xe2 | 0xef))
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some((field, c)) = crate::validate::find_forbidden(&value, "")
    {
        return Err(ApiError::invalid(
            if field.is_empty() { "body" } else { &field },
            format!("must not contain the control character U+{:04X}", c as u32),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest(format!("malformed JSON: {inner}"));
        }
        let message = inner.to_string();
        // An unknown field is already the last element of the path; a missing one is not.
        let field = match missing_field_name(&message) {
            Some(name) => join_path(&path, name),
            None if path == "." => unknown_field_name(&message).unwrap_or_default().to_string(),
            None => path,
        };
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        ApiError::Validation(vec![FieldError::new(
            if field.is_empty() {
                "body".into()
            } else {
                field
            },
            message,
        )])
    })
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn backticked<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

fn unknown_field_name(message: &str) -> Option<&str> {
    backticked(message, "unknown field ")
}

fn missing_field_name(message: &str) -> Option<&str> {
    backticked(message, "missing field ")
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let mime = ct.split(';').next().unwrap_or("").trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as application/json".into(),
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Reads a whole body within the configured limit.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(rej.body_text())
        }
    })
}

/// Query parameters; a value of the wrong type is 422 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        check_pairs(query.as_bytes())?;
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                let field = missing_field_name(&message)
                    .map(str::to_string)
                    .unwrap_or(if path == "." { "query".into() } else { path });
                ApiError::Validation(vec![FieldError::new(field, message)])
            })
    }
}

/// Path parameters. One that does not parse (`/assets/abc`) names no record: 404, as
/// problem+json under `/api/` and as the styled page elsewhere.
pub struct Path<T>(pub T);

impl<T> FromRequestParts<AppState> for Path<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(_) if parts.uri.path().starts_with("/api/") => {
                Err(ApiError::not_found("record").into_response())
            }
            Err(_) => Err(crate::pages::not_found_page(parts, state).await),
        }
    }
}

/// 422 naming the first key of a query string or form whose value holds a forbidden
/// character.
pub fn check_pairs(encoded: &[u8]) -> Result<(), ApiError> {
    for (key, value) in form_urlencoded::parse(encoded) {
        crate::validate::check_chars(&key, &value)?;
        crate::validate::check_chars("query", &key)?;
    }
    Ok(())
}

/// Client address and user agent, for the audit trail and rate limits.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    pub fn audit(&self, actor_id: Option<i64>) -> AuditCtx {
        AuditCtx {
            actor_id,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(255).collect());
        Ok(Self { ip, user_agent })
    }
}

/// The version a client last saw, from `If-Match: "N"` (or `W/"N"`); absent means
/// "overwrite whatever is there".
#[derive(Debug, Clone, Copy, Default)]
pub struct IfMatch(pub Option<i32>);

impl IfMatch {
    /// 412 when the client's version is not the current one.
    pub fn check(&self, current: i32) -> Result<(), ApiError> {
        match self.0 {
            Some(v) if v != current => Err(ApiError::PreconditionFailed),
            _ => Ok(()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let raw = value.to_str().unwrap_or("").trim();
        if raw == "*" {
            return Ok(Self(None));
        }
        let tag = raw.trim_start_matches("W/").trim_matches('"');
        tag.parse::<i32>().map(|v| Self(Some(v))).map_err(|_| {
            ApiError::invalid("If-Match", "expected the ETag of the resource, like \"3\"")
        })
    }
}

/// `ETag` header value for a version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// A JSON response carrying the entity's version as its `ETag`.
pub struct Versioned<T>(pub i32, pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Versioned<T> {
    fn into_response(self) -> axum::response::Response {
        let mut res = axum::Json(self.1).into_response();
        if let Ok(v) = header::HeaderValue::from_str(&etag(self.0)) {
            res.headers_mut().insert(header::ETAG, v);
        }
        res
    }
}

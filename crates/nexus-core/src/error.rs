//! `ApiError`: the one error type, answered as RFC 9457 `application/problem+json`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;
use utoipa::ToSchema;

/// One field at fault in a request, with a message a person can act on.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything a handler can fail with; each variant maps to one status of the API conventions.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{message}")]
    Conflict {
        message: String,
        field: Option<String>,
    },
    #[error("the resource changed since it was read (stale If-Match)")]
    PreconditionFailed,
    #[error("request body is too large")]
    PayloadTooLarge,
    /// One field of the request (an uploaded file, say) is over its size limit.
    #[error("{}: {}", .0.field, .0.message)]
    FieldTooLarge(FieldError),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// The database cannot be reached (stopped, restarting, or no connection freed in
    /// time): 503 with `Retry-After`, so clients retry instead of giving up.
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

/// Seconds a client is told to wait before retrying while the database is away.
const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// Result alias used by services and handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// Body of a problem+json response.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            field: None,
        }
    }

    pub fn conflict_on(field: &str, message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            field: Some(field.to_string()),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// A single-field validation error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge | Self::FieldTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Field errors carried by this error, for forms that show them next to the field.
    /// The same error with field `from` called `to` (a request names a field otherwise
    /// than the rule that checked it).
    pub fn renamed(self, from: &str, to: &str) -> Self {
        match self {
            Self::Validation(errors) => Self::Validation(
                errors
                    .into_iter()
                    .map(|mut e| {
                        if e.field == from {
                            e.field = to.into();
                        }
                        e
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Validation(errors) => errors.clone(),
            Self::FieldTooLarge(error) => vec![error.clone()],
            Self::Conflict {
                message,
                field: Some(f),
            } => vec![FieldError::new(f.clone(), message.clone())],
            _ => Vec::new(),
        }
    }

    /// The problem document sent to clients; internal details never leave the server.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            Self::Internal(_) => "internal server error".to_string(),
            Self::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        let title = status.canonical_reason().unwrap_or("Error").to_string();
        Problem {
            kind: format!(
                "https://nexus.dev/problems/{}",
                title.to_lowercase().replace(' ', "-")
            ),
            title,
            status: status.as_u16(),
            detail,
            errors: self.field_errors(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(msg) = &self {
            tracing::error!(error = %msg, "internal error");
        }
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut res = (self.status(), body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let retry_after = match self {
            Self::TooManyRequests { retry_after, .. } => Some(retry_after),
            Self::Unavailable => Some(UNAVAILABLE_RETRY_AFTER),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        res
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        // Updates filter on the version the client saw: no row updated means it changed.
        if matches!(err, DbErr::RecordNotUpdated) {
            return Self::PreconditionFailed;
        }
        if unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Self::Unavailable;
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self::conflict("a record with the same unique value already exists")
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                Self::conflict("the record is referenced by, or references, another record")
            }
            _ => Self::Internal(err.to_string()),
        }
    }
}

/// Whether `err` says the database could not be reached, rather than that a statement
/// failed: no connection in time, a connection refused, lost or closed, the server
/// shutting down or starting up (SQLSTATE class 08, 57P01-57P03, 53300 too many clients),
/// or SQLite still locked by another writer once the busy timeout ran out (`SQLITE_BUSY`
/// and its extended codes).
fn unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error;
    use sea_orm::sqlx::sqlite::SqliteError;
    /// SQLite's primary result code for "database is locked".
    const SQLITE_BUSY: i32 = 5;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match &**e {
                Error::Io(_)
                | Error::Tls(_)
                | Error::PoolTimedOut
                | Error::PoolClosed
                | Error::WorkerCrashed => true,
                Error::Database(db) if db.try_downcast_ref::<SqliteError>().is_some() => db
                    .code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(|code| code & 0xff == SQLITE_BUSY),
                Error::Database(db) => db.code().is_some_and(|code| {
                    code.starts_with("08")
                        || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(err: sea_orm::TransactionError<ApiError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{ConnAcquireErr, RuntimeErr};

    use super::*;

    /// A 503 problem document asking to retry in 5 s.
    fn unavailable(res: axum::response::Response) {
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "5");
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    #[test]
    fn a_database_out_of_reach_is_503_with_retry_after() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let lost = sea_orm::sqlx::Error::Io(refused);
        for err in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::Exec(RuntimeErr::SqlxError(Arc::new(lost))),
        ] {
            unavailable(ApiError::from(err).into_response());
        }
        let failed = DbErr::Exec(RuntimeErr::SqlxError(Arc::new(
            sea_orm::sqlx::Error::RowNotFound,
        )));
        assert_eq!(
            ApiError::from(failed).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    /// A write that finds SQLite locked by another connection past its busy timeout
    /// (here none) is 503 with `Retry-After`, as an unreachable PostgreSQL is.
    #[tokio::test]
    async fn sqlite_locked_past_the_busy_timeout_is_503() {
        use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        use sea_orm::{ConnectionTrait, SqlxSqliteConnector};

        let path = std::env::temp_dir().join(format!(
            "nexus-busy-{}-{}.db",
            std::process::id(),
            crate::time::Timestamp::now().0
        ));
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::ZERO);
        let pool = |options: SqliteConnectOptions| {
            SqlitePoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(options)
        };
        let holder = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool(options.clone()));
        let waiter = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool(options));
        holder
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let txn = sea_orm::TransactionTrait::begin(&holder).await.unwrap();
        txn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();

        let err = waiter
            .execute_unprepared("INSERT INTO t VALUES (2)")
            .await
            .expect_err("the database is locked by the other connection");
        assert!(err.to_string().contains("database is locked"), "{err}");
        unavailable(ApiError::from(err).into_response());

        // Other SQLite failures stay what they were.
        let err = waiter
            .execute_unprepared("INSERT INTO missing VALUES (1)")
            .await
            .unwrap_err();
        assert_eq!(
            ApiError::from(err).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        txn.rollback().await.unwrap();
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

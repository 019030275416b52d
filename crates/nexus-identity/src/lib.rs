//! The identity domain: users and profiles, roles and permissions, departments, sessions,
//! and the audit-trail reader. Also supplies the kernel's `PrincipalLoader`.

pub mod api;
pub mod entity;
pub mod model;
pub mod pages;
pub mod service;

use axum::Router;
use axum::routing::{get, post};
use nexus_core::auth::{BoxFuture, Principal, PrincipalLoader};
use nexus_core::{ApiResult, AppState, Db};
use utoipa::OpenApi;

pub use model::{PERMISSIONS, perm};

/// Loads principals from the identity tables for the kernel's token checks.
pub struct IdentityPrincipals;

impl PrincipalLoader for IdentityPrincipals {
    fn load<'a>(
        &'a self,
        db: &'a Db,
        user_id: i64,
        session_id: i64,
    ) -> BoxFuture<'a, ApiResult<Option<Principal>>> {
        Box::pin(service::load_principal(db, user_id, session_id))
    }
}

/// The JSON API of this domain, to be nested at the root.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(api::login))
        .route("/api/v1/auth/refresh", post(api::refresh))
        .route("/api/v1/auth/logout", post(api::logout))
        .route("/api/v1/auth/me", get(api::me))
        .route("/api/v1/auth/password", post(api::change_password))
        .route("/api/v1/users", get(api::list_users).post(api::create_user))
        .route(
            "/api/v1/users/{id}",
            get(api::get_user).patch(api::update_user),
        )
        .route("/api/v1/users/{id}/password", post(api::reset_password))
        .route("/api/v1/permissions", get(api::list_permissions))
        .route("/api/v1/roles", get(api::list_roles).post(api::create_role))
        .route(
            "/api/v1/roles/{id}",
            get(api::get_role)
                .patch(api::update_role)
                .delete(api::delete_role),
        )
        .route(
            "/api/v1/departments",
            get(api::list_departments).post(api::create_department),
        )
        .route(
            "/api/v1/departments/{id}",
            get(api::get_department)
                .patch(api::update_department)
                .delete(api::delete_department),
        )
        .route("/api/v1/audit-logs", get(api::audit_logs))
        .merge(pages::router())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api::login, api::refresh, api::logout, api::me, api::change_password,
        api::list_users, api::create_user, api::get_user, api::update_user, api::reset_password,
        api::list_permissions, api::list_roles, api::create_role, api::get_role, api::update_role, api::delete_role,
        api::list_departments, api::create_department, api::get_department, api::update_department, api::delete_department,
        api::audit_logs,
    ),
    tags(
        (name = "auth", description = "Sign-in, tokens, sessions"),
        (name = "users", description = "User accounts"),
        (name = "roles", description = "Roles and permissions"),
        (name = "departments", description = "Departments"),
        (name = "audit", description = "The audit trail"),
    )
)]
pub struct ApiDoc;

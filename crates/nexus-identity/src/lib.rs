//! The identity domain: users and profiles, roles and permissions, departments, sessions,
//! and the audit-trail reader. Also supplies the kernel's `PrincipalLoader`.

pub mod api;
pub mod entity;
pub mod model;
pub mod pages;
pub mod service;

use nexus_core::auth::{BoxFuture, Principal, PrincipalLoader};
use nexus_core::domain::{Domain, NavLink, NavSection, RecordPage};
use nexus_core::{ApiResult, AppState, Db};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// Identity, as the server registers it.
pub static DOMAIN: Domain = Domain {
    name: "identity",
    permissions: PERMISSIONS,
    api,
    pages: pages::router,
    nav: &[NavSection {
        title: "Administration",
        links: &[
            NavLink {
                href: "/admin/users",
                label: "Users",
                permission: Some("users:read"),
            },
            NavLink {
                href: "/admin/roles",
                label: "Roles",
                permission: Some("roles:read"),
            },
            NavLink {
                href: "/admin/departments",
                label: "Departments",
                permission: Some("departments:read"),
            },
            NavLink {
                href: "/admin/audit",
                label: "Audit log",
                permission: Some("audit:read"),
            },
            NavLink {
                href: "/admin/plant",
                label: "Plant",
                permission: Some("plant:configure"),
            },
            NavLink {
                href: "/profile",
                label: "Profile",
                permission: None,
            },
        ],
    }],
    attachables: &[],
    records: &[RecordPage {
        entity_type: "user",
        noun: "user",
        href: "/admin/users/{id}",
    }],
    home: nexus_core::home::Home::NONE,
    setup,
};

/// Keeps the principal cache in step with changes made on any node.
fn setup(state: &AppState) -> BoxFuture<'_, ApiResult<()>> {
    service::spawn_cache_invalidation(state);
    Box::pin(async { Ok(()) })
}

/// The JSON API.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::login))
        .routes(routes!(api::refresh))
        .routes(routes!(api::logout))
        .routes(routes!(api::me, api::update_me))
        .routes(routes!(api::attention))
        .routes(routes!(api::change_password))
        .routes(routes!(api::list_users, api::create_user))
        .routes(routes!(api::get_user, api::update_user))
        .routes(routes!(api::reset_password))
        .routes(routes!(api::list_permissions))
        .routes(routes!(api::list_roles, api::create_role))
        .routes(routes!(api::get_role, api::update_role, api::delete_role))
        .routes(routes!(api::list_departments, api::create_department))
        .routes(routes!(
            api::get_department,
            api::update_department,
            api::delete_department
        ))
        .routes(routes!(api::audit_logs))
        .routes(routes!(api::get_plant, api::put_plant))
}

#[derive(OpenApi)]
#[openapi(tags(
    (name = "auth", description = "Sign-in, tokens, sessions"),
    (name = "users", description = "User accounts"),
    (name = "roles", description = "Roles and permissions"),
    (name = "departments", description = "Departments"),
    (name = "audit", description = "The audit trail"),
    (name = "plant", description = "The plant's currency and time zone"),
))]
struct ApiDoc;

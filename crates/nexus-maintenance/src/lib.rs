//! Assets and maintenance (`001_fc7d4f68e8fe081f.txt`): the location tree, asset types,
//! the asset registry as a tree of machines and components, work orders, parts and
//! preventive schedules.

pub mod api;
pub mod entity;
pub mod home;
pub mod model;
pub mod pages;
pub mod service;

use nexus_core::auth::BoxFuture;
use nexus_core::domain::{Attachable, Domain, NavLink, NavSection, RecordPage};
use nexus_core::{ApiError, ApiResult, AppState};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use model::{PERMISSIONS, perm};

/// The maintenance records files can be attached to.
pub const ATTACHABLE: &[Attachable] = &[
    Attachable {
        entity_type: "asset",
        table: "assets",
        archive: None,
        read: "assets:read",
        write: "assets:write",
    },
    Attachable {
        entity_type: "work_order",
        table: "work_orders",
        archive: Some("work_orders_archive"),
        read: "work_orders:read",
        write: "work_orders:write",
    },
    Attachable {
        entity_type: "work_order_comment",
        table: "work_order_comments",
        archive: Some("work_order_comments_archive"),
        read: "work_orders:read",
        write: "work_orders:write",
    },
    Attachable {
        entity_type: "work_request",
        table: "work_requests",
        archive: None,
        read: "work_orders:read",
        write: "work_orders:manage",
    },
];

/// The attachable record kind `entity_type` of this domain.
pub fn attachable(entity_type: &str) -> ApiResult<&'static Attachable> {
    ATTACHABLE
        .iter()
        .find(|a| a.entity_type == entity_type)
        .ok_or_else(|| ApiError::internal(format!("`{entity_type}` is not attachable")))
}

/// Maintenance, as the server registers it.
pub static DOMAIN: Domain = Domain {
    name: "maintenance",
    permissions: PERMISSIONS,
    api,
    pages: pages::router,
    nav: &[NavSection {
        title: "Maintenance",
        links: &[
            NavLink {
                href: "/maintenance/work-orders",
                label: "Work orders",
                permission: Some("work_orders:read"),
            },
            NavLink {
                href: "/maintenance/requests",
                label: "Requests",
                permission: Some("work_orders:read"),
            },
            NavLink {
                href: "/maintenance/assets",
                label: "Assets",
                permission: Some("assets:read"),
            },
            NavLink {
                href: "/maintenance/parts",
                label: "Parts",
                permission: Some("parts:read"),
            },
            NavLink {
                href: "/maintenance/pm-schedules",
                label: "PM schedules",
                permission: Some("pm_schedules:read"),
            },
            NavLink {
                href: "/maintenance/kpis",
                label: "KPIs",
                permission: Some("maintenance_kpis:read"),
            },
        ],
    }],
    attachables: ATTACHABLE,
    records: &[
        RecordPage {
            entity_type: "asset",
            noun: "asset",
            href: "/maintenance/assets/{id}",
        },
        RecordPage {
            entity_type: "work_order",
            noun: "work order",
            href: "/maintenance/work-orders/{id}",
        },
        RecordPage {
            entity_type: "part",
            noun: "part",
            href: "/maintenance/parts/{id}",
        },
    ],
    home: home::HOME,
    setup,
};

/// The public request rate limiter, the background preventive maintenance generator and
/// the daily archiving of closed work orders.
fn setup(state: &AppState) -> BoxFuture<'_, ApiResult<()>> {
    state.domains.insert(service::RequestLimiter::default());
    service::spawn_pm_generator(state);
    service::archive::spawn_daily(state);
    Box::pin(async { Ok(()) })
}

/// The JSON API.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(api::assets::ApiDoc::openapi())
        .merge(api::assets::routes())
        .merge(api::exchange::routes())
        .merge(api::work_orders::routes())
        .merge(api::inventory::routes())
        .merge(api::schedules::routes())
        .merge(api::kpis::routes())
        .merge(api::qr::routes())
        .merge(api::requests::routes())
}

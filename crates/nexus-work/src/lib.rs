//! Activities, projects and tasks (`000_c229cfaa0d2d7bf6.txt`, `002_62df140f2ee747f7.txt`):
//! activities with their status and priority history and recurring series, tags, projects
//! with teams, budgets and tasks, task dependencies and worklogs.

pub mod api;
pub mod entity;
pub mod home;
pub mod model;
pub mod pages;
pub mod service;

use std::time::Duration;

use nexus_core::auth::BoxFuture;
use nexus_core::domain::{Domain, NavLink, NavSection, RecordPage};
use nexus_core::jobs::{self, Job};
use nexus_core::{ApiResult, AppState};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use model::{PERMISSIONS, perm};

/// Activities, projects and tasks, as the server registers them.
pub static DOMAIN: Domain = Domain {
    name: "work",
    permissions: PERMISSIONS,
    api,
    pages: pages::router,
    nav: &[NavSection {
        title: "Work",
        links: &[
            NavLink {
                href: "/work/my",
                label: "My work",
                permission: Some("activities:read"),
            },
            NavLink {
                href: "/work/activities",
                label: "Activities",
                permission: Some("activities:read"),
            },
            NavLink {
                href: "/work/calendar",
                label: "Calendar",
                permission: Some("activities:read"),
            },
            NavLink {
                href: "/work/projects",
                label: "Projects",
                permission: Some("projects:read"),
            },
            NavLink {
                href: "/work/tags",
                label: "Tags",
                permission: Some("tags:write"),
            },
        ],
    }],
    attachables: &[],
    records: &[
        RecordPage {
            entity_type: "activity",
            noun: "activity",
            href: "/work/activities/{id}",
        },
        RecordPage {
            entity_type: "project",
            noun: "project",
            href: "/work/projects/{id}",
        },
        RecordPage {
            entity_type: "task",
            noun: "task",
            href: "/work/tasks/{id}",
        },
    ],
    home: home::HOME,
    setup,
};

/// How often overdue activities are swept and series extended.
const TICK: Duration = Duration::from_secs(60);

/// The sample tags, and the background pass over overdue activities and series.
fn setup(state: &AppState) -> BoxFuture<'_, ApiResult<()>> {
    Box::pin(async move {
        service::ensure_sample_tags(state.db.write()).await?;
        state.domains.insert(service::MyWorkCache::default());
        let sweep = Job {
            name: "work.overdue_sweep",
            every: TICK,
            once_across_nodes: true,
            at_start: true,
        };
        jobs::every(
            state,
            sweep,
            |s| async move { service::sweep_overdue(&s).await },
        );
        let series = Job {
            name: "work.series_extension",
            ..sweep
        };
        jobs::every(state, series, |s| async move {
            service::extend_series(&s).await
        });
        Ok(())
    })
}

/// The JSON API.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::activities::routes())
        .merge(api::calendar::routes())
        .merge(api::projects::routes())
}

#[derive(OpenApi)]
#[openapi(tags((name = "work", description = "Activities, tags, projects and tasks")))]
struct ApiDoc;

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
        let ticking = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            loop {
                tick.tick().await;
                if let Err(e) = service::sweep_overdue(&ticking).await {
                    tracing::warn!(error = %e, "overdue activities not swept");
                }
                if let Err(e) = service::extend_series(&ticking).await {
                    tracing::warn!(error = %e, "recurring activities not extended");
                }
            }
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

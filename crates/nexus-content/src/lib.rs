//! Content (`002_62df140f2ee747f7.txt`): files stored once by content hash in a blob
//! store (a local folder or S3-compatible storage, through `object_store`), download counts,
//! public and private files, and attachments of files to records of any domain.

pub mod api;
pub mod entity;
pub mod model;
pub mod service;
mod store;
pub mod sweep;

use std::sync::Arc;

use nexus_core::auth::BoxFuture;
use nexus_core::domain::{Attachable, Domain, no_pages};
use nexus_core::{ApiResult, AppState};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use model::{PERMISSIONS, perm};
pub use service::{attach, attachments_of, list_attachments, store_upload};
pub use store::{ARCHIVE, Store};

/// This domain's state: the blob store and what files may be attached to.
pub struct Content {
    pub store: Store,
    pub attachables: Vec<Attachable>,
}

/// Files and attachments, as the server registers them.
pub static DOMAIN: Domain = Domain {
    name: "content",
    permissions: PERMISSIONS,
    api,
    pages: no_pages,
    nav: &[],
    attachables: &[],
    records: &[],
    home: nexus_core::home::Home::NONE,
    setup,
};

/// Opens the blob store (`NEXUS_FILES_URL`, else `<data dir>/files`), takes every domain's attachable
/// record types and starts the sweep of orphaned blobs.
fn setup(state: &AppState) -> BoxFuture<'_, ApiResult<()>> {
    sweep::spawn(state);
    Box::pin(async move {
        let store = Store::open(&state.config).await?;
        state.domains.insert(Content {
            store,
            attachables: state
                .registry
                .iter()
                .flat_map(|d| d.attachables)
                .copied()
                .collect(),
        });
        Ok(())
    })
}

pub(crate) fn content(state: &AppState) -> Arc<Content> {
    state.domains.get::<Content>()
}

/// The file store the server uses (`NEXUS_FILES_URL`, else `<data dir>/files`), for other
/// domains' files (metric archives, say).
pub fn store(state: &AppState) -> Store {
    content(state).store.clone()
}

/// The JSON API.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(api::ApiDoc::openapi()).merge(api::routes())
}

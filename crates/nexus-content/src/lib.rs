//! Content (`002_62df140f2ee747f7.txt`): files stored once by content hash in a blob
//! store (a local folder through `object_store`, S3-compatible later), download counts,
//! public and private files, and attachments of files to records of any domain.

pub mod api;
pub mod entity;
pub mod model;
pub mod service;
mod store;

use std::sync::Arc;

use axum::Router;
use nexus_core::{ApiResult, AppState};
use utoipa::OpenApi;

pub use model::{Attachable, PERMISSIONS, perm};
pub use service::{attach, attachments_of, list_attachments, store_upload};
pub use store::Store;

/// This domain's state: the blob store and what files may be attached to.
pub struct Content {
    pub store: Store,
    pub attachables: Vec<Attachable>,
}

/// Opens the blob store under `<data dir>/files` and takes every domain's list of
/// attachable record types.
pub fn setup(state: &AppState, attachables: &[&[Attachable]]) -> ApiResult<()> {
    let store = Store::local(&state.config.data_dir.join("files"))?;
    state.domains.insert(Content {
        store,
        attachables: attachables.concat(),
    });
    Ok(())
}

pub(crate) fn content(state: &AppState) -> Arc<Content> {
    state.domains.get::<Content>()
}

pub fn router() -> Router<AppState> {
    api::routes()
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    api::ApiDoc::openapi()
}

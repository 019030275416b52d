//! The sweep of orphaned blobs: bytes no `files` row names (an upload refused, failed or
//! cut off after its blob was written, since an upload writes its blob before its row).
//! A blob goes only when two passes [`EVERY`] apart both found it unnamed, so it was an
//! orphan for at least that long: an upload still on its way keeps its blob.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use nexus_core::jobs::{self, Job};
use nexus_core::{ApiResult, AppState};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entity::file;

/// Time between two passes of a node, and so the least time a blob is an orphan before
/// it goes: far longer than any upload takes from its blob to its row.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Blobs looked up in the database at once.
const BATCH: usize = 500;

/// The sweep of one node: the orphans its last pass found.
#[derive(Default)]
pub struct Sweep {
    suspects: HashSet<String>,
}

impl Sweep {
    /// Removes the blobs no file names that the previous pass found unnamed too, and
    /// remembers the others no file names for the next pass; answers how many went.
    pub async fn pass(&mut self, state: &AppState) -> ApiResult<u64> {
        let store = &crate::content(state).store;
        let conn = state.db.read();
        let mut orphans = HashSet::new();
        let mut batch = Vec::with_capacity(BATCH);
        let mut hashes = store.hashes();
        while let Some(hash) = hashes.try_next().await? {
            batch.push(hash);
            if batch.len() == BATCH {
                orphans.extend(unnamed(conn, std::mem::take(&mut batch)).await?);
            }
        }
        orphans.extend(unnamed(conn, batch).await?);
        let mut removed = 0;
        for hash in orphans.intersection(&self.suspects) {
            store.delete(hash).await?;
            removed += 1;
        }
        orphans.retain(|h| !self.suspects.contains(h));
        self.suspects = orphans;
        Ok(removed)
    }
}

/// Those of `hashes` that no file names.
async fn unnamed(conn: &impl ConnectionTrait, hashes: Vec<String>) -> ApiResult<Vec<String>> {
    if hashes.is_empty() {
        return Ok(hashes);
    }
    let named: HashSet<String> = file::Entity::find()
        .select_only()
        .column(file::Column::FileHash)
        .filter(file::Column::FileHash.is_in(hashes.iter().map(String::as_str)))
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(hashes.into_iter().filter(|h| !named.contains(h)).collect())
}

/// A pass every [`EVERY`] on wall-clock boundaries, the first at the first one after
/// start, on one node at a time; each node keeps its own suspects, so its two passes are
/// always at least [`EVERY`] apart.
pub(crate) fn spawn(state: &AppState) {
    let sweep = Arc::new(tokio::sync::Mutex::new(Sweep::default()));
    let job = Job {
        name: "content.orphan_sweep",
        every: EVERY,
        once_across_nodes: true,
        at_start: false,
    };
    jobs::every(state, job, move |state| {
        let sweep = sweep.clone();
        async move {
            let removed = sweep.lock().await.pass(&state).await?;
            if removed > 0 {
                tracing::info!(removed, "orphaned blobs removed");
            }
            ApiResult::Ok(())
        }
    });
}

//! The sweep of orphaned blobs: bytes no `files` row names (an upload refused, failed or
//! cut off after its blob was written, since an upload writes its blob before its row).
//! A blob goes only when two passes [`EVERY`] apart both found it unnamed, so it was an
//! orphan for at least that long: an upload still on its way keeps its blob. The same pass
//! detaches files from records that are gone (retention deletes archived work orders
//! in bulk, without an event per record), see [`detach_gone`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use nexus_core::db::stmt;
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

/// Deletes the attachments whose record is neither in its table nor in its archive
/// table any more; answers how many went. The files stay (other records and the
/// uploader's own list still have them).
pub async fn detach_gone(state: &AppState) -> ApiResult<u64> {
    let conn = state.db.write();
    let backend = conn.get_database_backend();
    let mut detached = 0;
    for kind in &crate::content(state).attachables {
        let mut sql = format!(
            "DELETE FROM attachments WHERE entity_type = $1 \
             AND NOT EXISTS (SELECT 1 FROM {} r WHERE r.id = attachments.entity_id)",
            kind.table
        );
        if let Some(archive) = kind.archive {
            sql.push_str(&format!(
                " AND NOT EXISTS (SELECT 1 FROM {archive} a WHERE a.id = attachments.entity_id)"
            ));
        }
        detached += conn
            .execute_raw(stmt(backend, &sql, vec![kind.entity_type.into()]))
            .await?
            .rows_affected();
    }
    Ok(detached)
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
            let detached = detach_gone(&state).await?;
            if detached > 0 {
                tracing::info!(detached, "attachments of deleted records removed");
            }
            let removed = sweep.lock().await.pass(&state).await?;
            if removed > 0 {
                tracing::info!(removed, "orphaned blobs removed");
            }
            ApiResult::Ok(())
        }
    });
}

//! `nexus backup`: a consistent, self-describing copy of the database and the file blobs,
//! taken while the server runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use chrono::{SecondsFormat, Utc};
use futures_util::{StreamExt, TryStreamExt};
use nexus_core::Config;
use sea_orm::sqlx;

use super::{
    Engine, FILES_DIR, FORMAT_VERSION, MANIFEST, Manifest, PG_DUMP_FILE, SQLITE_FILE, files_under,
    open_postgres, open_sqlite, schema_version, sha256_file, sqlite_path,
};

/// A finished backup.
pub struct Backup {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// Bytes in the backup's files.
    pub bytes: u64,
}

/// Writes a backup folder named by the UTC time into `to` (`<data dir>/backups` when
/// absent). It is built under a `.partial` name and renamed once its manifest is written,
/// so a folder without that suffix is always complete.
pub async fn backup(config: &Config, to: Option<PathBuf>) -> anyhow::Result<Backup> {
    let engine = Engine::of(config);
    let root = to.unwrap_or_else(|| config.data_dir.join("backups"));
    let now = Utc::now();
    let name = format!("nexus-{}", now.format("%Y%m%dT%H%M%S%.3fZ"));
    let path = root.join(&name);
    let partial = root.join(format!("{name}.partial"));
    if path.exists() || partial.exists() {
        bail!("{} exists already", path.display());
    }
    std::fs::create_dir_all(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let written = write(config, engine, &partial).await;
    let schema_version = match written {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    let dir = partial.clone();
    let files = tokio::task::spawn_blocking(move || checksums(&dir)).await??;
    let bytes = files_under(&partial)?
        .iter()
        .map(|rel| std::fs::metadata(partial.join(rel)).map_or(0, |m| m.len()))
        .sum();
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        backend: engine,
        schema_version,
        created_at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
        files,
    };
    std::fs::write(
        partial.join(MANIFEST),
        serde_json::to_vec_pretty(&manifest)?,
    )
    .context("writing the manifest")?;
    std::fs::rename(&partial, &path)
        .with_context(|| format!("renaming {} into place", partial.display()))?;
    Ok(Backup {
        path,
        manifest,
        bytes,
    })
}

/// Writes the database and then the blobs into `dir`; the schema version of the copy.
///
/// The blobs are copied after the database snapshot: they are stored once under their
/// content hash and never changed, so the copy holds every blob the snapshot refers to
/// (plus perhaps some newer ones nothing in it names yet). Archive files likewise: each
/// is written before the row that lists it.
async fn write(config: &Config, engine: Engine, dir: &Path) -> anyhow::Result<String> {
    let version = match engine {
        Engine::Sqlite => snapshot_sqlite(&sqlite_path(config)?, &dir.join(SQLITE_FILE)).await?,
        Engine::Postgres => {
            let url = config.database_url.clone().unwrap_or_default();
            dump_postgres(&url, &dir.join(PG_DUMP_FILE)).await?
        }
    };
    let store = nexus_content::Store::open(config)
        .await
        .map_err(|e| anyhow!("opening the file store: {e}"))?;
    copy_blobs(&store, &dir.join(FILES_DIR)).await?;
    Ok(version)
}

/// Blobs read at once: a remote store answers each after a round trip.
const BLOB_READS: usize = 8;

/// What the store holds: blobs named by their hash, and objects under [`nexus_content::ARCHIVE`]
/// named by their path (metric archives).
enum Stored {
    Blob(String),
    Object(String),
}

/// Copies every blob and archive object of `store` (local folder or object storage) into
/// `to`, laid out as the local store lays them out (`ab/cd/<hash>`, `archive/...`).
async fn copy_blobs(store: &nexus_content::Store, to: &Path) -> anyhow::Result<()> {
    let blobs = store.hashes().map_ok(Stored::Blob);
    let objects = store.objects(nexus_content::ARCHIVE).map_ok(Stored::Object);
    blobs
        .chain(objects)
        .map_err(|e| anyhow!("listing the files: {e}"))
        .try_for_each_concurrent(BLOB_READS, |stored| async move {
            let (rel, bytes) = match stored {
                Stored::Blob(hash) => {
                    let bytes = store
                        .get(&hash)
                        .await
                        .map_err(|e| anyhow!("reading blob {hash}: {e}"))?;
                    (nexus_content::Store::key(&hash)?.to_string(), bytes)
                }
                Stored::Object(path) => {
                    let bytes = store
                        .get_at(&path)
                        .await
                        .map_err(|e| anyhow!("reading {path}: {e}"))?;
                    (path, bytes)
                }
            };
            let target = to.join(rel);
            tokio::task::spawn_blocking(move || {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                std::fs::write(&target, &bytes)
                    .with_context(|| format!("writing {}", target.display()))
            })
            .await?
        })
        .await
}

/// `VACUUM INTO` writes a consistent snapshot from one read transaction: with the
/// database in WAL mode the server's writer carries on meanwhile (only checkpoints wait
/// for it to finish).
async fn snapshot_sqlite(db: &Path, into: &Path) -> anyhow::Result<String> {
    let mut conn = open_sqlite(db).await?;
    sqlx::query("VACUUM INTO ?")
        .bind(into.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await
        .with_context(|| format!("copying {} (VACUUM INTO)", db.display()))?;
    let _ = sqlx::Connection::close(conn).await;
    let mut copy = open_sqlite(into).await?;
    let version = schema_version(&mut copy).await?;
    let _ = sqlx::Connection::close(copy).await;
    Ok(version)
}

/// `pg_dump --format=custom` (one consistent snapshot, restorable with `pg_restore`). The
/// schema version is read just before the dump: migrations only move forward, so the dump
/// is never older than the manifest says, and a restore migrates forward anyway.
async fn dump_postgres(url: &str, into: &Path) -> anyhow::Result<String> {
    let mut conn = open_postgres(url).await?;
    let version = schema_version(&mut conn).await?;
    let _ = sqlx::Connection::close(conn).await;
    super::run_tool(
        "pg_dump",
        vec![
            "--format=custom".into(),
            format!("--file={}", into.display()),
            format!("--dbname={url}"),
        ],
    )
    .await?;
    Ok(version)
}

/// SHA-256 of every file under `dir`.
fn checksums(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    files_under(dir)?
        .into_iter()
        .map(|rel| Ok((rel.clone(), sha256_file(&dir.join(&rel))?)))
        .collect()
}

//! `nexus restore`: a backup into an empty data folder or database, and its blobs into the
//! file store (local or object storage), checked first, then migrated forward.

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use futures_util::TryStreamExt;
use nexus_core::Config;
use sea_orm::sqlx;

use super::{
    Engine, FILES_DIR, FORMAT_VERSION, MANIFEST, Manifest, PG_DUMP_FILE, SQLITE_FILE, copy_files,
    files_under, known_migrations, open_postgres, open_sqlite, sha256_file,
};

/// Restores the backup folder `from` into the installation `config` names. Everything
/// is checked (manifest, every checksum, schema version, engine, empty target) before
/// anything is written, so a refused restore changes nothing.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<Manifest> {
    let manifest = read_manifest(from)?;
    let database = match manifest.backend {
        Engine::Sqlite => SQLITE_FILE,
        Engine::Postgres => PG_DUMP_FILE,
    };
    if !manifest.files.contains_key(database) {
        bail!("the backup is incomplete: its manifest lists no {database}");
    }
    let dir = from.to_path_buf();
    let files = manifest.files.clone();
    tokio::task::spawn_blocking(move || verify(&dir, &files)).await??;
    check_schema(&manifest.schema_version)?;
    let engine = Engine::of(config);
    if manifest.backend != engine {
        bail!(
            "this is a backup of a {} installation and the target is {}: restore it into {} \
             and move it with `nexus copy-to`",
            manifest.backend.name(),
            engine.name(),
            manifest.backend.name()
        );
    }
    let url = config.database_url.clone().unwrap_or_default();
    match engine {
        Engine::Sqlite => refuse_used_sqlite(config).await?,
        Engine::Postgres => refuse_used_postgres(&url).await?,
    }
    // Blobs go where the server reads them: to object storage when it is configured
    // (reached before anything is written; blobs named by content merge harmlessly into
    // what is there), else into the data folder, which must be empty.
    let remote = match &config.files_url {
        Some(_) => Some(
            nexus_content::Store::open(config)
                .await
                .map_err(|e| anyhow!("opening the file store: {e}"))?,
        ),
        None => None,
    };
    let files_dir = config.data_dir.join(FILES_DIR);
    if remote.is_none() && !files_under(&files_dir)?.is_empty() {
        bail!(
            "{} is not empty: restore into an empty data folder",
            files_dir.display()
        );
    }
    match engine {
        Engine::Sqlite => restore_sqlite(config, &from.join(SQLITE_FILE))?,
        Engine::Postgres => restore_postgres(&url, &from.join(PG_DUMP_FILE)).await?,
    }
    // Only the files the manifest vouches for.
    let blobs: Vec<String> = manifest
        .files
        .keys()
        .filter(|rel| rel.starts_with(&format!("{FILES_DIR}/")))
        .cloned()
        .collect();
    match remote {
        Some(store) => put_blobs(&store, from, &blobs).await?,
        None => {
            let (source, target) = (from.to_path_buf(), config.data_dir.clone());
            tokio::task::spawn_blocking(move || copy_files(&source, &target, &blobs)).await??;
        }
    }
    let db = nexus_server::migrate(config).await?;
    db.close().await;
    Ok(manifest)
}

fn read_manifest(from: &Path) -> anyhow::Result<Manifest> {
    let path = from.join(MANIFEST);
    let text = std::fs::read(&path)
        .with_context(|| format!("{} is not a Nexus backup: no {MANIFEST}", from.display()))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).with_context(|| format!("{} is corrupt", path.display()))?;
    if manifest.format_version > FORMAT_VERSION {
        bail!(
            "the backup's format {} is newer than this nexus reads ({FORMAT_VERSION}): use a newer nexus",
            manifest.format_version
        );
    }
    Ok(manifest)
}

/// Every file the manifest lists is present with its checksum.
fn verify(dir: &Path, files: &std::collections::BTreeMap<String, String>) -> anyhow::Result<()> {
    for (rel, expected) in files {
        if rel.split('/').any(|part| part.is_empty() || part == "..") {
            bail!("the manifest names a file outside the backup: {rel}");
        }
        let path = dir.join(rel);
        if !path.is_file() {
            bail!("the backup is incomplete: {rel} is missing");
        }
        if sha256_file(&path)? != *expected {
            bail!(
                "the backup is corrupt: {rel} does not match its checksum (damaged or truncated)"
            );
        }
    }
    Ok(())
}

/// A backup from a newer schema than this binary knows would lose what it does not know.
fn check_schema(version: &str) -> anyhow::Result<()> {
    let known = known_migrations();
    if !known.iter().any(|m| m == version) {
        bail!(
            "the backup's schema version {version} is newer than this nexus knows (its newest \
             is {}): restore it with the nexus that made it or a newer one",
            known.last().map_or("none", String::as_str)
        );
    }
    Ok(())
}

/// A SQLite database with tables is in use; an empty file, as a first open leaves, is not.
async fn refuse_used_sqlite(config: &Config) -> anyhow::Result<()> {
    let target = config.data_dir.join(SQLITE_FILE);
    if !target.is_file() {
        return Ok(());
    }
    let mut conn = open_sqlite(&target).await?;
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("reading {}", target.display()))?;
    let _ = sqlx::Connection::close(conn).await;
    if tables > 0 {
        bail!(
            "{} already holds a database: restore into an empty data folder",
            target.display()
        );
    }
    Ok(())
}

/// A PostgreSQL database (created when missing) with any table is in use.
async fn refuse_used_postgres(url: &str) -> anyhow::Result<()> {
    nexus_core::Db::connect(url, 1)
        .await
        .context("connecting to PostgreSQL")?
        .close()
        .await;
    let mut conn = open_postgres(url).await?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&mut conn)
    .await
    .context("looking at the target database")?;
    let _ = sqlx::Connection::close(conn).await;
    if tables > 0 {
        bail!("the target database already has {tables} table(s): restore into an empty database");
    }
    Ok(())
}

/// Copies the database file into place under a temporary name, then renames it, so an
/// interrupted copy never looks like a database.
fn restore_sqlite(config: &Config, db: &Path) -> anyhow::Result<()> {
    let target = config.data_dir.join(SQLITE_FILE);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(config.data_dir.join(format!("{SQLITE_FILE}{suffix}")));
    }
    let staging = config.data_dir.join(format!("{SQLITE_FILE}.restoring"));
    std::fs::copy(db, &staging).with_context(|| format!("copying to {}", staging.display()))?;
    std::fs::rename(&staging, &target)
        .with_context(|| format!("moving {} into place", target.display()))?;
    Ok(())
}

/// `pg_restore` into the empty database, in one transaction so a failure leaves it empty.
async fn restore_postgres(url: &str, dump: &Path) -> anyhow::Result<()> {
    super::run_tool(
        "pg_restore",
        vec![
            "--no-owner".into(),
            "--no-privileges".into(),
            "--exit-on-error".into(),
            "--single-transaction".into(),
            format!("--dbname={url}"),
            dump.display().to_string(),
        ],
    )
    .await
}

/// Blobs written to object storage at once: each waits on a round trip.
const BLOB_WRITES: usize = 8;

/// Puts the backup's blobs (`files/ab/cd/<hash>`, relative to `from`) and archive objects
/// (`files/archive/...`) into `store`.
async fn put_blobs(
    store: &nexus_content::Store,
    from: &Path,
    blobs: &[String],
) -> anyhow::Result<()> {
    futures_util::stream::iter(blobs.iter().map(Ok))
        .try_for_each_concurrent(BLOB_WRITES, |rel| async move {
            let hash = rel.rsplit('/').next().unwrap_or_default();
            let path = from.join(rel);
            let bytes = tokio::task::spawn_blocking({
                let path = path.clone();
                move || std::fs::read(path)
            })
            .await?
            .with_context(|| format!("reading {}", path.display()))?;
            let archived = rel
                .strip_prefix(&format!("{FILES_DIR}/"))
                .filter(|p| p.starts_with(&format!("{}/", nexus_content::ARCHIVE)));
            match archived {
                Some(path) => store.put_at(path, bytes).await,
                None => store.put(hash, bytes).await,
            }
            .map_err(|e| anyhow!("storing {rel}: {e}"))
        })
        .await
}

//! Operating an installation: backups taken while it runs (on demand or on a schedule),
//! restores into an empty one, and the move from SQLite to PostgreSQL. The CLI parses arguments and calls these.

pub mod archive;
pub mod backup;
pub mod copy;
pub mod restore;
pub mod schedule;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use nexus_core::Config;
use nexus_migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::{self, Connection, PgConnection, SqliteConnection};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The layout of a backup folder; a restore refuses a layout newer than it knows.
pub const FORMAT_VERSION: u32 = 1;
/// The file in a backup that describes it.
pub const MANIFEST: &str = "manifest.json";
/// The database of a SQLite backup, and of a SQLite data folder.
const SQLITE_FILE: &str = "nexus.db";
/// The database of a PostgreSQL backup (`pg_dump --format=custom`).
const PG_DUMP_FILE: &str = "nexus.pgdump";
/// The blob folder, in a data folder and in a backup.
const FILES_DIR: &str = "files";

/// Which engine an installation runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    fn of(config: &Config) -> Self {
        match &config.database_url {
            Some(url) if is_postgres(url) => Self::Postgres,
            _ => Self::Sqlite,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// What a backup holds, written last so a folder with a manifest is complete.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub backend: Engine,
    /// The newest migration applied to the backed-up database.
    pub schema_version: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// SHA-256 (hex) of every other file in the backup, by path relative to it (`/`-separated).
    pub files: BTreeMap<String, String>,
}

/// The SQLite database of `config`, which must exist already.
fn sqlite_path(config: &Config) -> anyhow::Result<PathBuf> {
    let path = config.data_dir.join(SQLITE_FILE);
    if !path.is_file() {
        bail!("no Nexus database at {}", path.display());
    }
    Ok(path)
}

/// Opens an existing SQLite database read-only: every operation here only reads it, and a
/// read-only connection leaves the file as it was (it never checkpoints the log on close).
async fn open_sqlite(path: &Path) -> anyhow::Result<SqliteConnection> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(10));
    SqliteConnection::connect_with(&opts)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

async fn open_postgres(url: &str) -> anyhow::Result<PgConnection> {
    PgConnection::connect(url)
        .await
        .context("connecting to PostgreSQL")
}

/// The newest migration applied to a database, on either engine.
async fn schema_version<'c, DB, E>(conn: E) -> anyhow::Result<String>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB>,
    String: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let version: Option<String> =
        sqlx::query_scalar("SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1")
            .fetch_optional(conn)
            .await
            .context("reading the schema version (is this a Nexus database?)")?;
    version.context("the database has no migrations applied")
}

/// The migrations this binary knows, oldest first.
fn known_migrations() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

/// Runs a PostgreSQL client tool, naming it when it is missing or fails.
async fn run_tool(tool: &'static str, args: Vec<String>) -> anyhow::Result<()> {
    let out = tokio::task::spawn_blocking(move || Command::new(tool).args(&args).output())
        .await?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "{tool} was not found on PATH: install the PostgreSQL client tools \
                 (Debian: apt-get install postgresql-client), of the server's major version or newer"
            ),
            _ => anyhow::anyhow!("running {tool}: {e}"),
        })?;
    if !out.status.success() {
        bail!(
            "{tool} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Every file under `dir` (none when it is missing), as `/`-separated relative paths,
/// sorted. Names holding `#` are skipped: `object_store` writes a blob to `<name>#<n>`
/// and renames it into place, so such a file is an upload still in progress.
fn files_under(dir: &Path) -> anyhow::Result<Vec<String>> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> anyhow::Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            let kind = entry.file_type()?;
            if kind.is_dir() {
                walk(&entry.path(), &format!("{rel}/"), out)?;
            } else if kind.is_file() && !name.contains('#') {
                out.push(rel);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

/// Copies the files `rels` (relative paths) from `from` into `to`, keeping the layout.
fn copy_files(from: &Path, to: &Path, rels: &[String]) -> anyhow::Result<()> {
    for rel in rels {
        let target = to.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(from.join(rel), &target)
            .with_context(|| format!("copying {} to {}", rel, target.display()))?;
    }
    Ok(())
}

/// SHA-256 of a file, hex.
fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

//! `Db`: the SeaORM connections plus their backend. On SQLite one writer connection and a
//! small pool of readers (WAL lets them run beside the writer); on PostgreSQL one pool, and
//! a session of its own for advisory locks that outlive a statement ([`LockSession`]).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::sqlx::{ConnectOptions, Connection, PgConnection};
use sea_orm::{
    DatabaseBackend, DatabaseConnection, DbErr, RuntimeErr, SqlxPostgresConnector,
    SqlxSqliteConnector,
};

/// The longest a request waits for a PostgreSQL connection. When the database is down
/// every connection attempt is refused and retried until then, so this is how soon a
/// request fails with 503 instead of hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// A PostgreSQL connection idle longer than this is pinged before it is handed out. sqlx
/// already pings each connection as it is released and drops one that fails, so only a
/// connection that sat idle across a database restart can be dead; pinging every one
/// would add a round trip to every statement.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

#[derive(Clone)]
enum Pools {
    Sqlite {
        writer: sea_orm::sqlx::SqlitePool,
        readers: sea_orm::sqlx::SqlitePool,
    },
    Postgres {
        pool: sea_orm::sqlx::PgPool,
        locks: Arc<LockSession>,
    },
}

#[derive(Clone)]
pub struct Db {
    write: DatabaseConnection,
    read: DatabaseConnection,
    pools: Pools,
}

/// Pool occupancy, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

fn conn_err(e: impl std::fmt::Display) -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(e.to_string()))
}

/// A PostgreSQL session of its own, outside the pool, for session advisory locks held
/// across statements (a background job's claim on its period): a pooled connection would
/// carry them back into the pool. Its locks go with its connection; after an error the
/// next call opens a new session.
pub struct LockSession {
    options: PgConnectOptions,
    conn: tokio::sync::Mutex<Option<PgConnection>>,
}

impl LockSession {
    /// Tries the lock `(class, key)` without waiting; true when this session holds it.
    pub async fn try_lock(&self, class: i32, key: i32) -> Result<bool, DbErr> {
        self.call("SELECT pg_try_advisory_lock($1, $2)", class, key)
            .await
    }

    /// Lets go of the lock `(class, key)`; false when this session did not hold it.
    pub async fn unlock(&self, class: i32, key: i32) -> Result<bool, DbErr> {
        self.call("SELECT pg_advisory_unlock($1, $2)", class, key)
            .await
    }

    async fn call(&self, sql: &'static str, class: i32, key: i32) -> Result<bool, DbErr> {
        let sqlx_err = |e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)));
        let timed_out = |_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        let mut conn = self.conn.lock().await;
        if conn.is_none() {
            let opened = tokio::time::timeout(ACQUIRE_TIMEOUT, self.options.connect()).await;
            *conn = Some(opened.map_err(timed_out)?.map_err(sqlx_err)?);
        }
        let Some(session) = conn.as_mut() else {
            unreachable!("connected above")
        };
        let query = sea_orm::sqlx::query_scalar(sql).bind(class).bind(key);
        let answer = tokio::time::timeout(ACQUIRE_TIMEOUT, query.fetch_one(session)).await;
        let answer = answer.map_err(timed_out).and_then(|a| a.map_err(sqlx_err));
        if answer.is_err() {
            // The session may be gone, and its locks with it: start afresh next time.
            *conn = None;
        }
        answer
    }

    async fn close(&self) {
        if let Some(conn) = self.conn.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}

impl Db {
    /// Connects to `sqlite://path` or `postgres://...`; a missing SQLite file or PostgreSQL
    /// database is created.
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self, DbErr> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(url, pool_size).await
        } else {
            Self::connect_sqlite(url, pool_size).await
        }
    }

    async fn connect_sqlite(url: &str, readers: u32) -> Result<Self, DbErr> {
        let url = if url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite://{url}")
        };
        let opts = SqliteConnectOptions::from_str(&url)
            .map_err(conn_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        // The writer leaves routine checkpoints to the checkpointer below, so commits do
        // not stall copying the log back; the large limit is only a safety net.
        // A file does not hang up: no ping (a round trip to the connection's thread) before
        // each statement.
        let writer = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts.clone().pragma("wal_autocheckpoint", "20000"))
            .await
            .map_err(conn_err)?;
        spawn_checkpointer(opts.clone(), writer.clone()).await?;
        let readers = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(readers.max(1))
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts.read_only(true))
            .await
            .map_err(conn_err)?;
        Ok(Self {
            write: SqlxSqliteConnector::from_sqlx_sqlite_pool(writer.clone()),
            read: SqlxSqliteConnector::from_sqlx_sqlite_pool(readers.clone()),
            pools: Pools::Sqlite { writer, readers },
        })
    }

    async fn connect_postgres(url: &str, pool_size: u32) -> Result<Self, DbErr> {
        let opts = PgConnectOptions::from_str(url).map_err(conn_err)?;
        ensure_pg_database(&opts).await?;
        // Pinged before use when idle a while, a connection that died with a database
        // restart is replaced rather than handed out: service resumes as soon as the
        // database is back.
        let pool = PgPoolOptions::new()
            .max_connections(pool_size.max(2))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(opts.clone())
            .await
            .map_err(conn_err)?;
        let conn = SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone());
        let locks = Arc::new(LockSession {
            options: opts,
            conn: tokio::sync::Mutex::new(None),
        });
        Ok(Self {
            write: conn.clone(),
            read: conn,
            pools: Pools::Postgres { pool, locks },
        })
    }

    /// The connection for writes and transactions.
    pub fn write(&self) -> &DatabaseConnection {
        &self.write
    }

    /// The connection for reads that need not see an uncommitted write.
    pub fn read(&self) -> &DatabaseConnection {
        &self.read
    }

    pub fn backend(&self) -> DatabaseBackend {
        match self.pools {
            Pools::Sqlite { .. } => DatabaseBackend::Sqlite,
            Pools::Postgres { .. } => DatabaseBackend::Postgres,
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.read.ping().await.is_ok() && self.write.ping().await.is_ok()
    }

    /// The PostgreSQL pool, for what only PostgreSQL has (LISTEN/NOTIFY, COPY).
    pub fn pg_pool(&self) -> Option<&sea_orm::sqlx::PgPool> {
        match &self.pools {
            Pools::Postgres { pool, .. } => Some(pool),
            Pools::Sqlite { .. } => None,
        }
    }

    /// This node's advisory lock session (PostgreSQL; SQLite serves one node).
    pub fn lock_session(&self) -> Option<&LockSession> {
        match &self.pools {
            Pools::Postgres { locks, .. } => Some(locks),
            Pools::Sqlite { .. } => None,
        }
    }

    /// True once [`Db::close`] ran: background tasks stop.
    pub fn is_closed(&self) -> bool {
        match &self.pools {
            Pools::Sqlite { writer, .. } => writer.is_closed(),
            Pools::Postgres { pool, .. } => pool.is_closed(),
        }
    }

    pub fn pool_stats(&self) -> PoolStats {
        match &self.pools {
            Pools::Sqlite { writer, readers } => PoolStats {
                size: writer.size() + readers.size(),
                idle: (writer.num_idle() + readers.num_idle()) as u32,
                max: writer.options().get_max_connections()
                    + readers.options().get_max_connections(),
            },
            Pools::Postgres { pool, .. } => PoolStats {
                size: pool.size(),
                idle: pool.num_idle() as u32,
                max: pool.options().get_max_connections(),
            },
        }
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { writer, readers } => {
                readers.close().await;
                writer.close().await;
            }
            Pools::Postgres { pool, locks } => {
                locks.close().await;
                pool.close().await;
            }
        }
    }
}

/// `$first, $first+1, ...` for `n` values, for an `IN (...)` list in a [`stmt`].
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A statement written with `$1`-style placeholders, for either engine. SQLite gets
/// plain `?` with the values laid out in order of use: sqlx binds numbered SQLite
/// parameters slowly in large statements.
pub fn stmt(
    backend: sea_orm::DatabaseBackend,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> sea_orm::Statement {
    use sea_orm::{DatabaseBackend, Statement, Value};
    if backend != DatabaseBackend::Sqlite {
        return Statement::from_sql_and_values(backend, sql, values);
    }
    let mut out = String::with_capacity(sql.len());
    let mut ordered = Vec::with_capacity(values.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut n = 0usize;
        while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
            n = n * 10 + d as usize;
            chars.next();
        }
        out.push('?');
        ordered.push(
            values
                .get(n.wrapping_sub(1))
                .cloned()
                .unwrap_or(Value::Int(None)),
        );
    }
    Statement::from_sql_and_values(backend, out, ordered)
}

/// How often (in 250 ms checkpoint ticks) planner statistics are refreshed: hourly.
const OPTIMIZE_EVERY: u64 = 4 * 3600;

/// Copies the write-ahead log back into the database every 250 ms from a connection of
/// its own (PASSIVE: never blocks the writer or readers), until the writer closes. At
/// start and hourly it also runs `PRAGMA optimize`, since SQLite never gathers planner
/// statistics by itself and without them picks poor indexes on large tables.
async fn spawn_checkpointer(
    opts: SqliteConnectOptions,
    writer: sea_orm::sqlx::SqlitePool,
) -> Result<(), DbErr> {
    let mut conn = opts.connect().await.map_err(conn_err)?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let mut ticks = 0u64;
        while !writer.is_closed() {
            tick.tick().await;
            // ANALYZE writes its statistics, so it runs on the writer connection: from a
            // connection of its own it would race a write transaction that began reading
            // before it (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out).
            if ticks.is_multiple_of(OPTIMIZE_EVERY) {
                // 0x10002: analyze every table whose statistics are missing or stale.
                let sql = "PRAGMA analysis_limit=1000; PRAGMA optimize=0x10002";
                let analyzed = sea_orm::sqlx::Executor::execute(&writer, sql).await;
                if let Err(e) = analyzed
                    && !writer.is_closed()
                {
                    tracing::warn!(error = %e, "SQLite optimize failed");
                }
            }
            ticks += 1;
            if let Err(e) =
                sea_orm::sqlx::Executor::execute(&mut conn, "PRAGMA wal_checkpoint(PASSIVE)").await
            {
                tracing::warn!(error = %e, "SQLite checkpoint failed");
            }
        }
        let _ = conn.close().await;
    });
    Ok(())
}

/// Creates the PostgreSQL database named in `opts` when it does not exist yet.
async fn ensure_pg_database(opts: &PgConnectOptions) -> Result<(), DbErr> {
    match opts.connect().await {
        Ok(conn) => {
            let _ = conn.close().await;
            Ok(())
        }
        Err(sea_orm::sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {
            let name = opts.get_database().unwrap_or("nexus").to_string();
            let mut admin = opts
                .clone()
                .database("postgres")
                .connect()
                .await
                .map_err(conn_err)?;
            let stmt = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
            let res =
                sea_orm::sqlx::Executor::execute(&mut admin, sea_orm::sqlx::AssertSqlSafe(stmt))
                    .await;
            let _ = admin.close().await;
            match res {
                Ok(_) => Ok(()),
                // Another node created it first.
                Err(sea_orm::sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {
                    Ok(())
                }
                Err(e) => Err(conn_err(e)),
            }
        }
        Err(e) => Err(conn_err(e)),
    }
}

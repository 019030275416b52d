//! Test support: start the real server on an ephemeral port over a fresh SQLite or
//! PostgreSQL database, for integration tests of every domain.

use std::future::Future;
use std::path::PathBuf;

use nexus_core::{AppState, Config};
use sea_orm::sqlx::{Connection, Executor, PgConnection};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The admin password every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running test server; dropping it stops the server.
pub struct TestServer {
    pub base_url: String,
    pub state: AppState,
    pub backend: Backend,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    pg_database: Option<String>,
}

fn pg_url() -> String {
    std::env::var("NEXUS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{db}{query}")
}

fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        nexus_core::auth::random_token(6).to_lowercase().replace(['-', '_'], "x")
    )
}

impl TestServer {
    /// Starts a server on `backend`, or returns `None` when PostgreSQL is unreachable and
    /// not required (`NEXUS_REQUIRE_POSTGRES` unset); says so loudly.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let data_dir = std::env::temp_dir().join(unique_name("nexus-test"));
        let mut config = Config {
            data_dir: data_dir.clone(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            secret: Some("test-secret-test-secret-test-secret-0123".into()),
            db_pool_size: 4,
            ..Config::default()
        };
        let mut pg_database = None;
        if backend == Backend::Postgres {
            let admin_url = pg_url();
            let mut conn = match PgConnection::connect(&admin_url).await {
                Ok(c) => c,
                Err(e) => {
                    if std::env::var("NEXUS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                        panic!("PostgreSQL required but unreachable at {admin_url}: {e}");
                    }
                    eprintln!("SKIPPED (PostgreSQL unreachable at {admin_url}: {e})");
                    return None;
                }
            };
            let name = unique_name("nexus_t");
            conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
                .await
                .expect("create test database");
            let _ = conn.close().await;
            config.database_url = Some(with_database(&admin_url, &name));
            pg_database = Some(name);
        }
        tweak(&mut config);
        let prepared = crate::prepare(config).await.expect("server prepares");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let state = prepared.state.clone();
        tokio::spawn(async move {
            let _ = crate::serve(prepared.state, listener, async {
                let _ = rx.await;
            })
            .await;
        });
        Some(Self {
            base_url: format!("http://{addr}"),
            state,
            backend,
            data_dir,
            stop: Some(tx),
            pg_database,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Stops the server and drops its database.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.state.db.close().await;
        if let Some(name) = self.pg_database.take() {
            if let Ok(mut conn) = PgConnection::connect(&pg_url()).await {
                let _ = conn
                    .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                    .await;
                let _ = conn.close().await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Runs `test` against a fresh server on `backend` and cleans up after it.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(&TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(server) = TestServer::start(backend).await else {
        return;
    };
    test(&server).await;
    server.finish().await;
}

/// Declares one async test per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($srv:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($srv: &$crate::testing::TestServer) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::testing::run($crate::testing::Backend::Sqlite, |s| body(s)).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::testing::run($crate::testing::Backend::Postgres, |s| body(s)).await;
                }
            }
        )*
    };
}

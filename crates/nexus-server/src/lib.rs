//! Composes every domain into one server: router, middleware, OpenAPI and docs, health,
//! metrics, static assets; and starts it.

mod assets;
mod health;
mod live;
mod metrics;
mod middleware;
mod openapi;
#[cfg(feature = "testing")]
pub mod testing;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use nexus_core::auth::Auth;
use nexus_core::domain::PermissionDef;
use nexus_core::ratelimit::RateLimiter;
use nexus_core::{AppState, Config, Db, Domain, Domains, EventBus};
use nexus_migration::{Migrator, MigratorTrait};
use tokio::net::TcpListener;
use utoipa_axum::router::OpenApiRouter;

/// Every domain the server runs, in navigation order, and the order they are set up in:
/// content (no navigation of its own) first, as the others' jobs read and write files
/// from their start (telemetry's archive, say). Adding a domain touches its own crate,
/// this list and the migration list.
pub static DOMAINS: &[&Domain] = &[
    &nexus_content::DOMAIN,
    &nexus_production::DOMAIN,
    &nexus_maintenance::DOMAIN,
    &nexus_telemetry::DOMAIN,
    &nexus_work::DOMAIN,
    &nexus_comms::DOMAIN,
    &nexus_identity::DOMAIN,
];

/// Every domain's permission catalogue, in one list for bootstrap.
pub fn permission_catalogue() -> Vec<&'static [PermissionDef]> {
    DOMAINS.iter().map(|d| d.permissions).collect()
}

/// Connects to the database and applies every pending migration.
pub async fn migrate(config: &Config) -> anyhow::Result<Db> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
    }
    let db = Db::connect(&config.effective_database_url(), config.db_pool_size)
        .await
        .context("connecting to the database")?;
    Migrator::up(db.write(), None)
        .await
        .context("running migrations")?;
    Ok(db)
}

/// The token secret: configured, else read from (or generated once into) the data folder.
fn load_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.secret {
        anyhow::ensure!(
            secret.len() >= 32,
            "NEXUS_SECRET must be at least 32 characters"
        );
        return Ok(secret.as_bytes().to_vec());
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let path = config.data_dir.join("secret");
    if let Ok(existing) = std::fs::read_to_string(&path)
        && existing.trim().len() >= 32
    {
        return Ok(existing.trim().as_bytes().to_vec());
    }
    let secret = nexus_core::auth::random_token(48);
    write_private(&path, &secret)?;
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(content.as_bytes())?;
    Ok(())
}

/// A ready application: state plus the admin password generated on first start, if any.
pub struct Prepared {
    pub state: AppState,
    pub generated_admin_password: Option<String>,
}

/// Migrates, creates first-start defaults and builds the shared state.
pub async fn prepare(config: Config) -> anyhow::Result<Prepared> {
    let db = migrate(&config).await?;
    let secret = load_secret(&config)?;
    let generated = nexus_identity::service::bootstrap(
        &db,
        &permission_catalogue(),
        config.admin_password.as_deref(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("creating defaults: {}", e.problem().detail))?;
    let mut events = EventBus::new();
    if let Some(pool) = db.pg_pool() {
        events
            .connect_postgres(pool.clone())
            .await
            .context("listening for events of other nodes")?;
    }
    let plant = nexus_core::plant::load(db.write())
        .await
        .map_err(|e| anyhow::anyhow!("reading the plant settings: {}", e.problem().detail))?;
    let state = AppState {
        plant: Arc::new(nexus_core::plant::PlantCell::new(plant)),
        auth: Arc::new(Auth::new(
            &secret,
            Arc::new(nexus_identity::IdentityPrincipals),
        )),
        events,
        login_limiter: Arc::new(RateLimiter::new(
            config.login_rate_per_minute,
            Duration::from_secs(60),
        )),
        config: Arc::new(config),
        db,
        domains: Arc::new(Domains::default()),
        registry: DOMAINS,
    };
    nexus_core::plant::watch(&state);
    for domain in DOMAINS {
        (domain.setup)(&state)
            .await
            .map_err(|e| anyhow::anyhow!("setting up {}: {e}", domain.name))?;
    }
    Ok(Prepared {
        state,
        generated_admin_password: generated,
    })
}

/// Every documented route: the server's own and each domain's API.
fn api() -> OpenApiRouter<AppState> {
    DOMAINS
        .iter()
        .fold(openapi::operations(), |api, d| api.merge((d.api)()))
}

/// The OpenAPI document, made from the routes themselves.
pub fn document() -> utoipa::openapi::OpenApi {
    openapi::with_refusals(api().into_openapi())
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    metrics::install();
    let (api, doc) = api().split_for_parts();
    let doc = openapi::with_refusals(doc);
    let all = DOMAINS
        .iter()
        .fold(api, |all, d| all.merge((d.pages)()))
        .merge(openapi::router(doc))
        .merge(assets::router());
    middleware::wrap(all, &state).with_state(state)
}

/// Serves until `shutdown` resolves, then drains: live streams end, requests in flight
/// finish (and with them the writers' batches they wait for), then the database closes.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = state.db.clone();
    let events = state.events.clone();
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            events.close();
        })
        .await
        .context("serving HTTP")?;
    db.close().await;
    Ok(())
}

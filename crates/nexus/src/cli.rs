//! Subcommands and settings. Every setting is a flag and a `NEXUS_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use nexus_core::audit::AuditCtx;
use nexus_core::{AppState, Config};
use nexus_identity::model::{CreateUser, ResetPasswordRequest, UpdateUser, UserFilter};
use nexus_identity::service;

use crate::ops::schedule::Schedule;

#[derive(Parser)]
#[command(
    name = "nexus",
    version,
    about = "Nexus manufacturing operations platform"
)]
pub struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

/// Settings shared by every subcommand.
#[derive(Args)]
struct Settings {
    /// Folder for the SQLite database, the generated secret and files.
    #[arg(
        long,
        env = "NEXUS_DATA_DIR",
        default_value = "nexus-data",
        global = true
    )]
    data_dir: PathBuf,
    /// PostgreSQL URL (postgres://user@host/db); SQLite in the data folder when absent.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Token signing secret (32+ characters); generated once into the data folder when absent.
    #[arg(long, env = "NEXUS_SECRET", hide_env_values = true, global = true)]
    secret: Option<String>,
    /// Connections per database pool (PostgreSQL) or SQLite readers.
    #[arg(long, env = "NEXUS_DB_POOL_SIZE", default_value_t = 8, global = true)]
    db_pool_size: u32,
    /// Password for the `admin` account created on first start; random (printed once) when absent.
    #[arg(
        long,
        env = "NEXUS_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    admin_password: Option<String>,
    /// Object storage for file blobs (s3://bucket/prefix, with AWS_ENDPOINT_URL, AWS_REGION,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); the data folder's files/ when absent.
    #[arg(long, env = "NEXUS_FILES_URL", global = true)]
    files_url: Option<String>,
    #[command(flatten)]
    archive: crate::ops::archive::ArchiveSettings,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, create first-start defaults and serve HTTP.
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Import data from files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Load a generated data set (for trying Nexus out and for benchmarks).
    Seed {
        /// Production order movements to generate, spread over the last two years.
        #[arg(long, default_value_t = 0)]
        movements: u64,
        /// Assets to generate, in whole plants of 1,011 (plant > lines > machines > components).
        #[arg(long, default_value_t = 0)]
        assets: u64,
        /// Work orders to generate over those assets, spread over the last two years.
        #[arg(long, default_value_t = 0)]
        work_orders: u64,
        /// Activities to generate (with the document's two samples) over the past year
        /// and the next three months, across a crew of 200.
        #[arg(long, default_value_t = 0)]
        activities: u64,
        /// Projects to generate, 50 chained tasks each, with teams and logged time.
        #[arg(long, default_value_t = 0)]
        projects: u64,
        /// Readers to generate (`reader00001` …, spread over the departments; an admin
        /// sets a password before one signs in).
        #[arg(long, default_value_t = 0)]
        people: u64,
        /// Notifications to generate over the readers and the last 90 days.
        #[arg(long, default_value_t = 0)]
        notifications: u64,
        /// Announcements to publish to everyone, one a day up to today.
        #[arg(long, default_value_t = 0)]
        announcements: u64,
    },
    /// Back up the database and the files into a new folder, while the server runs.
    Backup {
        /// Folder to write the backup folder into; `<data dir>/backups` when absent.
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Restore a backup folder into an empty data folder (SQLite) or database (DATABASE_URL),
    /// then migrate it forward.
    Restore {
        /// The backup folder (the one holding `manifest.json`).
        backup: PathBuf,
    },
    /// Move closed work orders and old metric readings to the archive and delete archived
    /// records past the retention, printing counts per kind.
    Archive {
        /// Change nothing: print what a run would move and delete.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy this SQLite installation into an empty PostgreSQL database.
    CopyTo {
        /// The target, postgres://user@host/database (created when missing).
        target: String,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import production order movements from a CSV file: every row is checked first, and
    /// a good file lands in one transaction.
    Movements {
        file: PathBuf,
        /// The user the movements are recorded for.
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "NEXUS_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Access token lifetime in seconds.
    #[arg(long, env = "NEXUS_ACCESS_TOKEN_TTL", default_value_t = 900)]
    access_token_ttl: i64,
    /// Refresh token (API session) lifetime in seconds.
    #[arg(long, env = "NEXUS_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    refresh_token_ttl: i64,
    /// Web session lifetime in seconds.
    #[arg(long, env = "NEXUS_WEB_SESSION_TTL", default_value_t = 12 * 3600)]
    web_session_ttl: i64,
    /// Failed sign-ins in a row that lock an account.
    #[arg(long, env = "NEXUS_LOCKOUT_THRESHOLD", default_value_t = 5)]
    lockout_threshold: i32,
    /// Minutes an account stays locked.
    #[arg(long, env = "NEXUS_LOCKOUT_MINUTES", default_value_t = 15)]
    lockout_minutes: i64,
    /// Sign-in attempts allowed per client IP per minute.
    #[arg(long, env = "NEXUS_LOGIN_RATE_PER_MINUTE", default_value_t = 20)]
    login_rate_per_minute: u32,
    /// Largest request body in bytes.
    #[arg(long, env = "NEXUS_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Seconds before a request is abandoned with 408.
    #[arg(long, env = "NEXUS_REQUEST_TIMEOUT", default_value_t = 30)]
    request_timeout: u64,
    /// Mark cookies Secure (when served over HTTPS, e.g. behind a proxy).
    #[arg(long, env = "NEXUS_SECURE_COOKIES")]
    secure_cookies: bool,
    /// MQTT broker to ingest telemetry from (mqtt://user:pass@host:1883); off when absent.
    #[arg(long, env = "NEXUS_MQTT_URL", hide_env_values = true)]
    mqtt_url: Option<String>,
    /// MQTT topic filter to subscribe to (QoS 1).
    #[arg(long, env = "NEXUS_MQTT_TOPIC", default_value = "nexus/telemetry/#")]
    mqtt_topic: String,
    /// Payload format of MQTT messages: json (a point object or an array of them) or line
    /// (InfluxDB line protocol, nanosecond timestamps).
    #[arg(long, env = "NEXUS_MQTT_FORMAT", default_value = "json", value_parser = ["json", "line"])]
    mqtt_format: String,
    /// MQTT client id; stable across restarts and distinct per node.
    #[arg(long, env = "NEXUS_MQTT_CLIENT_ID", default_value = "nexus")]
    mqtt_client_id: String,
    /// When set, /metrics answers only scrapers sending it as a bearer token.
    #[arg(long, env = "NEXUS_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// SMTP server for digests of unread notifications (smtp://host:25,
    /// smtp://user:pass@host:587?tls=required, smtps://host); no email when absent.
    #[arg(long, env = "NEXUS_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Sender of the digests (nexus@plant.example or "Nexus <nexus@plant.example>").
    #[arg(long, env = "NEXUS_MAIL_FROM", default_value = "nexus@localhost")]
    mail_from: String,
    /// Least minutes between two digests to the same user.
    #[arg(long, env = "NEXUS_DIGEST_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    digest_minutes: u64,
    /// Where people reach Nexus, for the links in emails.
    #[arg(
        long,
        env = "NEXUS_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    public_url: String,
    /// Take a backup this often while serving (90s, 30m, 6h, 1d); off when absent. With
    /// several nodes on PostgreSQL, one node takes each.
    #[arg(long, env = "NEXUS_BACKUP_EVERY", value_parser = crate::ops::schedule::parse_every)]
    backup_every: Option<std::time::Duration>,
    /// Scheduled backups to keep; older ones are deleted.
    #[arg(long, env = "NEXUS_BACKUP_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..))]
    backup_keep: u64,
    /// Folder for scheduled backups; <data dir>/backups when absent.
    #[arg(long, env = "NEXUS_BACKUP_DIR")]
    backup_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user.
    Add {
        username: String,
        /// Role name (admin, manager, staff, user, guest or a custom role).
        #[arg(long, default_value = "user")]
        role: String,
        #[arg(long)]
        email: Option<String>,
        /// Password; read from NEXUS_USER_PASSWORD when absent.
        #[arg(long, env = "NEXUS_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// List users.
    List {
        /// Only users whose name or email contains this.
        #[arg(long)]
        q: Option<String>,
    },
    /// Set a user's password (unlocks the account, ends its sessions).
    SetPassword {
        username: String,
        #[arg(long, env = "NEXUS_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Give a user another role.
    SetRole { username: String, role: String },
}

impl Settings {
    fn config(&self) -> Config {
        let mut config = Config {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone().filter(|u| !u.is_empty()),
            secret: self.secret.clone(),
            db_pool_size: self.db_pool_size,
            admin_password: self.admin_password.clone(),
            files_url: self.files_url.clone().filter(|u| !u.is_empty()),
            ..Config::default()
        };
        self.archive.apply(&mut config);
        config
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = cli.settings.config();
    match cli.command {
        Command::Serve(args) => {
            let args = *args;
            config.access_token_ttl_secs = args.access_token_ttl;
            config.refresh_token_ttl_secs = args.refresh_token_ttl;
            config.web_session_ttl_secs = args.web_session_ttl;
            config.lockout_threshold = args.lockout_threshold;
            config.lockout_minutes = args.lockout_minutes;
            config.login_rate_per_minute = args.login_rate_per_minute;
            config.max_body_bytes = args.max_body_bytes;
            config.request_timeout_secs = args.request_timeout;
            config.secure_cookies = args.secure_cookies;
            config.mqtt_url = args.mqtt_url.filter(|u| !u.is_empty());
            config.mqtt_topic = args.mqtt_topic;
            config.mqtt_format = args.mqtt_format;
            config.mqtt_client_id = args.mqtt_client_id;
            config.metrics_token = args.metrics_token.filter(|t| !t.is_empty());
            config.smtp_url = args.smtp_url.filter(|u| !u.is_empty());
            config.mail_from = args.mail_from;
            config.digest_minutes = args.digest_minutes;
            config.public_url = args.public_url;
            let schedule = args.backup_every.map(|every| Schedule {
                every,
                keep: args.backup_keep as usize,
                dir: args
                    .backup_dir
                    .unwrap_or_else(|| config.data_dir.join("backups")),
            });
            serve(config, args.bind, schedule).await
        }
        Command::Migrate => {
            nexus_server::migrate(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(cmd) => user(config, cmd).await,
        Command::Import(ImportCommand::Movements { file, user }) => {
            import_movements(config, file, user).await
        }
        Command::Seed {
            movements,
            assets,
            work_orders,
            activities,
            projects,
            people,
            notifications,
            announcements,
        } => {
            seed(
                config,
                movements,
                assets,
                work_orders,
                (activities, projects),
                (people, notifications, announcements),
            )
            .await
        }
        Command::Backup { to } => {
            let started = std::time::Instant::now();
            let done = crate::ops::backup::backup(&config, to).await?;
            println!(
                "backed up {} ({} schema {}, {} file(s), {} bytes) in {:.1} s",
                done.path.display(),
                done.manifest.backend.name(),
                done.manifest.schema_version,
                done.manifest.files.len(),
                done.bytes,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { backup } => {
            let manifest = crate::ops::restore::restore(&config, &backup).await?;
            println!(
                "restored {} (taken {}, schema {}) and migrated it forward",
                backup.display(),
                manifest.created_at,
                manifest.schema_version
            );
            Ok(())
        }
        Command::Archive { dry_run } => {
            crate::ops::archive::archive(prepare(config).await?, dry_run).await
        }
        Command::CopyTo { target } => {
            let bar = progress_bar("copying");
            let copied = crate::ops::copy::copy_to(&config, &target, &bar).await?;
            println!("{:<32} {:>12}", "TABLE", "ROWS");
            for t in &copied.tables {
                println!("{:<32} {:>12}", t.table, t.rows);
            }
            let secs = copied.elapsed.as_secs_f64();
            println!(
                "copied {} row(s) in {} table(s) in {secs:.1} s ({:.0} rows/s); every count verified",
                copied.rows,
                copied.tables.len(),
                copied.rows as f64 / secs.max(1e-9)
            );
            let files = match &config.files_url {
                Some(url) => url.clone(),
                None => config.data_dir.join("files").display().to_string(),
            };
            println!(
                "the files stay in {files}: serve with DATABASE_URL set to the target and this data folder"
            );
            Ok(())
        }
    }
}

/// A one-line progress bar on stderr, redrawn in place.
fn progress_bar(label: &'static str) -> impl Fn(u64, u64) + Send + Sync {
    let last = std::sync::atomic::AtomicU64::new(u64::MAX);
    move |done, total| {
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        if last.swap(pct, std::sync::atomic::Ordering::Relaxed) != pct {
            let filled = (pct / 4) as usize;
            eprint!(
                "\r{label} [{}{}] {pct:>3}% {done}/{total}",
                "#".repeat(filled),
                " ".repeat(25 - filled)
            );
            if done >= total {
                eprintln!();
            }
        }
    }
}

async fn import_movements(config: Config, file: PathBuf, username: String) -> anyhow::Result<()> {
    let data = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let state = prepare(config).await?;
    let filter = UserFilter {
        q: Some(username.clone()),
        ..Default::default()
    };
    let users = service::list_users(&state.db, &filter, &nexus_core::PageParams::default())
        .await
        .map_err(describe)?;
    let Some(user) = users
        .items
        .into_iter()
        .find(|u| u.username == username.to_lowercase())
    else {
        bail!("no user named '{username}'");
    };
    eprintln!("checking {} ...", file.display());
    let parse_state = state.clone();
    let rows = tokio::task::spawn_blocking(move || {
        nexus_production::import::parse_csv(&parse_state, &data)
    })
    .await?
    .map_err(describe)?;
    let bar = progress_bar("importing");
    let out = nexus_production::import::import(&state, &cli_audit(), user.id, rows, &bar)
        .await
        .map_err(describe)?;
    println!("imported {} movement(s)", out.imported);
    state.db.close().await;
    Ok(())
}

async fn seed(
    config: Config,
    movements: u64,
    assets: u64,
    work_orders: u64,
    (activities, projects): (u64, u64),
    (people, notifications, announcements): (u64, u64, u64),
) -> anyhow::Result<()> {
    let state = prepare(config).await?;
    if movements > 0 {
        let started = std::time::Instant::now();
        let bar = progress_bar("seeding movements");
        let n = nexus_production::import::seed(&state, movements, &bar)
            .await
            .map_err(describe)?;
        println!(
            "seeded {n} movement(s) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    if assets > 0 || work_orders > 0 {
        let started = std::time::Instant::now();
        let bar = progress_bar("seeding maintenance");
        let n = nexus_maintenance::service::seed::seed(&state, assets, work_orders, &bar)
            .await
            .map_err(describe)?;
        println!(
            "seeded {} asset(s) and {} work order(s) in {:.1} s",
            n.assets,
            n.work_orders,
            started.elapsed().as_secs_f64()
        );
    }
    if activities > 0 || projects > 0 {
        let started = std::time::Instant::now();
        let bar = progress_bar("seeding activities and projects");
        let n = nexus_work::service::seed::seed(&state, activities, projects, &bar)
            .await
            .map_err(describe)?;
        println!(
            "seeded {} activities, {} project(s), {} task(s) and {} dependencies in {:.1} s",
            n.activities,
            n.projects,
            n.tasks,
            n.dependencies,
            started.elapsed().as_secs_f64()
        );
    }
    if people > 0 || notifications > 0 || announcements > 0 {
        let started = std::time::Instant::now();
        let bar = progress_bar("seeding notifications and announcements");
        let n =
            nexus_comms::service::seed::seed(&state, people, notifications, announcements, &bar)
                .await
                .map_err(describe)?;
        println!(
            "seeded {} reader(s), {} notification(s) and {} announcement(s) in {:.1} s",
            n.people,
            n.notifications,
            n.announcements,
            started.elapsed().as_secs_f64()
        );
    }
    state.db.close().await;
    Ok(())
}

/// Migrates and sets up, telling the operator the admin password if this was the first start.
async fn prepare(config: Config) -> anyhow::Result<AppState> {
    let prepared = nexus_server::prepare(config).await?;
    tell_password(prepared.generated_admin_password.as_deref());
    Ok(prepared.state)
}

/// The generated admin password, set apart so it is not lost among the log lines. Printed
/// once, to the terminal only: never logged.
fn tell_password(password: Option<&str>) {
    if let Some(password) = password {
        let rule = "=".repeat(72);
        println!(
            "\n{rule}\n  Created the `admin` account with password: {password}\n  Save it now; it is not shown again.\n{rule}\n"
        );
    }
}

async fn serve(config: Config, bind: SocketAddr, schedule: Option<Schedule>) -> anyhow::Result<()> {
    let prepared = nexus_server::prepare(config).await?;
    if let Some(schedule) = schedule {
        crate::ops::schedule::spawn(prepared.state.clone(), schedule);
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    // After the start-up log (migrations, defaults), just before the address to open.
    tell_password(prepared.generated_admin_password.as_deref());
    tracing::info!("Nexus listening on http://{}", listener.local_addr()?);
    nexus_server::serve(prepared.state, listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

fn cli_audit() -> AuditCtx {
    AuditCtx {
        actor_id: None,
        ip: None,
        user_agent: Some("nexus-cli".into()),
    }
}

async fn user(config: Config, cmd: UserCommand) -> anyhow::Result<()> {
    let state = prepare(config).await?;
    let find = |username: String| {
        let db = state.db.clone();
        async move {
            let filter = UserFilter {
                q: Some(username.clone()),
                ..Default::default()
            };
            let page = nexus_core::PageParams {
                limit: Some(500),
                ..Default::default()
            };
            let list = service::list_users(&db, &filter, &page).await?;
            match list
                .items
                .into_iter()
                .find(|u| u.username == username.to_lowercase())
            {
                Some(u) => Ok(u),
                None => bail!("no user named '{username}'"),
            }
        }
    };
    match cmd {
        UserCommand::Add {
            username,
            role,
            email,
            password,
        } => {
            let req = CreateUser {
                username,
                password,
                email,
                first_name: None,
                last_name: None,
                phone: None,
                department_id: None,
                position: None,
                avatar_url: None,
                preferences: None,
                role: Some(role),
                is_active: Some(true),
            };
            let out = service::create_user(&state, &cli_audit(), req)
                .await
                .map_err(describe)?;
            println!(
                "created user {} (id {}, role {})",
                out.username, out.id, out.role
            );
        }
        UserCommand::List { q } => {
            let filter = UserFilter {
                q,
                ..Default::default()
            };
            println!(
                "{:>6}  {:<24} {:<10} {:<8} EMAIL",
                "ID", "USERNAME", "ROLE", "ACTIVE"
            );
            // Every page of the list, so no user is left out past the page size.
            let mut page = nexus_core::PageParams {
                limit: Some(nexus_core::paging::MAX_LIMIT),
                ..Default::default()
            };
            loop {
                let list = service::list_users(&state.db, &filter, &page)
                    .await
                    .map_err(describe)?;
                let seen = list.offset + list.items.len() as u64;
                let last = list.items.is_empty() || seen >= list.total;
                for u in list.items {
                    println!(
                        "{:>6}  {:<24} {:<10} {:<8} {}",
                        u.id,
                        u.username,
                        u.role,
                        if u.is_active { "yes" } else { "no" },
                        u.email.unwrap_or_default()
                    );
                }
                if last {
                    println!("{} user(s)", list.total);
                    break;
                }
                page.offset = Some(seen);
            }
        }
        UserCommand::SetPassword { username, password } => {
            let u = find(username).await?;
            service::reset_password(
                &state,
                &cli_audit(),
                u.id,
                ResetPasswordRequest {
                    new_password: password,
                },
            )
            .await
            .map_err(describe)?;
            println!("password set for {}", u.username);
        }
        UserCommand::SetRole { username, role } => {
            let u = find(username).await?;
            let req = UpdateUser {
                role: Some(role),
                ..Default::default()
            };
            let out = service::update_user(&state, &cli_audit(), u.id, Default::default(), req)
                .await
                .map_err(describe)?;
            println!("{} now has role {}", out.username, out.role);
        }
    }
    state.db.close().await;
    Ok(())
}

/// Turns an API error into a message for the terminal, with its field errors.
fn describe(err: nexus_core::ApiError) -> anyhow::Error {
    let problem = err.problem();
    if !problem.errors.is_empty() {
        let lines: Vec<String> = problem
            .errors
            .iter()
            .map(|e| format!("  {}: {}", e.field, e.message))
            .collect();
        return anyhow::anyhow!("{}:\n{}", problem.title, lines.join("\n"));
    }
    anyhow::anyhow!(if problem.detail.is_empty() {
        problem.title
    } else {
        problem.detail
    })
}

//! Runtime settings shared by every domain; the binary fills them from flags and `NEXUS_*`.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    /// Folder for the SQLite database, the generated secret and stored files.
    pub data_dir: PathBuf,
    /// `postgres://...` selects PostgreSQL; `None` means `<data_dir>/nexus.db`.
    pub database_url: Option<String>,
    /// Signing secret for tokens; generated once and kept in the data folder when absent.
    pub secret: Option<String>,
    /// Password for the `admin` account created on first start; random when absent.
    pub admin_password: Option<String>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub web_session_ttl_secs: i64,
    /// Failed sign-ins in a row that lock an account.
    pub lockout_threshold: i32,
    pub lockout_minutes: i64,
    /// Sign-in attempts allowed per client IP per minute.
    pub login_rate_per_minute: u32,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// Mark cookies `Secure` (set when serving over HTTPS).
    pub secure_cookies: bool,
    /// Connections per database pool (PostgreSQL) or readers (SQLite).
    pub db_pool_size: u32,
    /// MQTT broker to take telemetry from (`mqtt://user:pass@host:1883`); off when absent.
    pub mqtt_url: Option<String>,
    /// Topic filter subscribed to.
    pub mqtt_topic: String,
    /// Payload format of MQTT messages: `json` or `line` (InfluxDB line protocol).
    pub mqtt_format: String,
    /// MQTT client id; the broker keeps this client's session (and unacknowledged
    /// messages) under it across restarts, so each node needs its own, stable one.
    pub mqtt_client_id: String,
    /// When set, `/metrics` answers only requests bearing this token.
    pub metrics_token: Option<String>,
    /// SMTP server that notification digests go through (`smtp://host:25`,
    /// `smtp://user:pass@host:587?tls=required`, `smtps://host`); no email when absent.
    pub smtp_url: Option<String>,
    /// Sender of Nexus's emails: `nexus@plant.example` or `Nexus <nexus@plant.example>`.
    pub mail_from: String,
    /// Least minutes between two digests to the same user.
    pub digest_minutes: u64,
    /// Whether the server sends due digests by itself each minute; off, only an explicit
    /// `send_due` pass sends (the digest tests, which count what each pass sent).
    pub digest_passes: bool,
    /// Where people reach Nexus, for the links in emails.
    pub public_url: String,
    /// Object storage for file blobs (`s3://bucket/prefix`, configured by the usual `AWS_*`
    /// variables); `<data_dir>/files` when absent.
    pub files_url: Option<String>,
    /// object_store settings for `files_url` (`aws_endpoint`, `aws_access_key_id`, ...)
    /// that override the `AWS_*` variables: for embedding Nexus and for tests.
    pub files_options: Vec<(String, String)>,
    /// Completed and cancelled work orders move to the archive tables this many days
    /// after they closed (`NEXUS_ARCHIVE_WORK_ORDERS_AFTER_DAYS`).
    pub archive_work_orders_after_days: u32,
    /// Archived records (work orders, metric readings in files, rollups) are deleted this
    /// many days after they closed or were taken (`NEXUS_RETENTION_DAYS`).
    pub retention_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("nexus-data"),
            database_url: None,
            secret: None,
            admin_password: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            web_session_ttl_secs: 12 * 3600,
            lockout_threshold: 5,
            lockout_minutes: 15,
            login_rate_per_minute: 20,
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 30,
            secure_cookies: false,
            db_pool_size: 8,
            mqtt_url: None,
            mqtt_topic: "nexus/telemetry/#".into(),
            mqtt_format: "json".into(),
            mqtt_client_id: "nexus".into(),
            metrics_token: None,
            smtp_url: None,
            mail_from: "nexus@localhost".into(),
            digest_minutes: 60,
            digest_passes: true,
            public_url: "http://127.0.0.1:8080".into(),
            files_url: None,
            files_options: Vec::new(),
            archive_work_orders_after_days: 365,
            retention_days: 7 * 365,
        }
    }
}

impl Config {
    /// The database URL in effect: the configured one, else SQLite in the data folder.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("nexus.db").display()),
        }
    }
}

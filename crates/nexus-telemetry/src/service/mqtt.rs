//! MQTT ingestion: a subscriber takes messages from a broker and feeds each one's points
//! through the same checks and writer as HTTP. Format `json` reads a message as
//! `POST /api/v1/telemetry` reads a point (one point object, or an array of them); a bare
//! number is a reading taken now of the asset (id or exact name) and metric named by the
//! topic's last two levels (`nexus/telemetry/{asset}/{metric}`). Format `line` reads it
//! as `POST /api/v1/telemetry/line` does, with nanosecond timestamps. A message is one
//! batch: all of its points are stored or none.
//!
//! Acknowledgement and durability: the subscription is QoS 1 with manual acks over a
//! persistent session (clean session off, a stable client id). A message is acknowledged
//! only once the writer has committed its batch, so until then the broker still holds it
//! and sends it again after a reconnect or a restart; a point sent twice is stored once.
//! A message refused for its content is acknowledged too (sending it again cannot make it
//! valid), logged and counted. A write that fails on the server side (the database is
//! down) is retried with backoff and stays unacknowledged until it commits. Messages
//! are checked and queued for the writer in arrival order, up to `WINDOW` ahead of the
//! acks, so the writer commits many in one transaction; acks go back in arrival order,
//! as MQTT asks.

use std::sync::Arc;
use std::time::Duration;

use nexus_core::{ApiError, ApiResult, AppState, Config, Timestamp};
use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS, SubscribeReasonCode,
};
use tokio::sync::mpsc;

use super::cache;
use super::ingest::{Checked, JsonShape, Submitted, check_json, check_lines, check_reading};
use crate::MAX_INGEST_BYTES;
use crate::model::{MqttErrorOut, MqttStatusOut};

/// Messages queued for the writer and not yet acknowledged; later ones wait.
const WINDOW: usize = 64;

/// Longest pause before reconnecting to the broker, or before writing a message again.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How MQTT payloads are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Line,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Line => "line",
        }
    }
}

/// The subscriber's settings, checked at start from the kernel's `Config`.
#[derive(Debug, Clone)]
pub struct Settings {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
    topic: String,
    format: Format,
    client_id: String,
}

impl Settings {
    /// `None` when no broker is configured; an error names the bad setting.
    pub fn from_config(config: &Config) -> ApiResult<Option<Self>> {
        let Some(raw) = config.mqtt_url.as_deref() else {
            return Ok(None);
        };
        let bad =
            |setting: &str, message: String| ApiError::BadRequest(format!("{setting}: {message}"));
        let url_err = |m: String| bad("NEXUS_MQTT_URL", m);
        let url = url::Url::parse(raw).map_err(|e| url_err(e.to_string()))?;
        if !matches!(url.scheme(), "mqtt" | "tcp") {
            return Err(url_err(format!(
                "the scheme `{}` is not supported; use mqtt://",
                url.scheme()
            )));
        }
        let host = match url.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => return Err(url_err("names no host".into())),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|e| url_err(e.to_string()))
        };
        let credentials = match url.username() {
            "" => None,
            user => Some((decode(user)?, decode(url.password().unwrap_or(""))?)),
        };
        let format = match config.mqtt_format.as_str() {
            "json" => Format::Json,
            "line" => Format::Line,
            other => {
                return Err(bad(
                    "NEXUS_MQTT_FORMAT",
                    format!("`{other}` is neither json nor line"),
                ));
            }
        };
        if !rumqttc::valid_filter(&config.mqtt_topic) {
            return Err(bad(
                "NEXUS_MQTT_TOPIC",
                format!("`{}` is no MQTT topic filter", config.mqtt_topic),
            ));
        }
        if config.mqtt_client_id.is_empty() {
            return Err(bad("NEXUS_MQTT_CLIENT_ID", "must not be empty".into()));
        }
        Ok(Some(Self {
            host,
            port: url.port().unwrap_or(1883),
            credentials,
            topic: config.mqtt_topic.clone(),
            format,
            client_id: config.mqtt_client_id.clone(),
        }))
    }

    /// The broker, without credentials.
    fn broker(&self) -> String {
        format!("mqtt://{}:{}", self.host, self.port)
    }

    /// The state before the first connection.
    pub fn status(settings: Option<&Self>) -> MqttStatusOut {
        match settings {
            None => MqttStatusOut::default(),
            Some(s) => MqttStatusOut {
                enabled: true,
                broker: Some(s.broker()),
                topic: Some(s.topic.clone()),
                format: Some(s.format.name().into()),
                client_id: Some(s.client_id.clone()),
                ..MqttStatusOut::default()
            },
        }
    }
}

/// The subscriber's state now.
pub fn mqtt_status(state: &AppState) -> MqttStatusOut {
    let cache = cache(state);
    let status = cache.mqtt.lock().unwrap_or_else(|e| e.into_inner());
    status.clone()
}

fn update(state: &AppState, f: impl FnOnce(&mut MqttStatusOut)) {
    let cache = cache(state);
    let mut status = cache.mqtt.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut status);
}

fn problem(topic: Option<&str>, message: String) -> Option<MqttErrorOut> {
    Some(MqttErrorOut {
        at: Timestamp::now(),
        topic: topic.map(str::to_string),
        message,
    })
}

/// Starts the subscriber: one task keeps the connection, one checks messages and queues
/// them for the writer, one acknowledges them once written.
pub fn start(state: &AppState, settings: Settings) {
    let mut options = MqttOptions::new(&settings.client_id, &settings.host, settings.port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_max_packet_size(MAX_INGEST_BYTES, 64 * 1024);
    if let Some((user, password)) = &settings.credentials {
        options.set_credentials(user, password);
    }
    let (client, eventloop) = AsyncClient::new(options, 2 * WINDOW);
    // Unbounded, so the connection task never waits on storing (the broker's in-flight
    // window bounds unacknowledged QoS 1 messages).
    let (messages, incoming) = mpsc::unbounded_channel();
    let (steps, queued) = mpsc::channel(WINDOW);
    let settings = Arc::new(settings);
    tokio::spawn(connect(
        state.clone(),
        settings.clone(),
        client.clone(),
        eventloop,
        messages,
    ));
    tokio::spawn(dispatch(state.clone(), settings, incoming, steps));
    tokio::spawn(acknowledge(state.clone(), client, queued));
}

/// Keeps the connection: subscribes on every connect, passes messages on, and after a
/// failure waits (1 s doubling to 30 s) before reconnecting.
async fn connect(
    state: AppState,
    settings: Arc<Settings>,
    client: AsyncClient,
    mut eventloop: EventLoop,
    messages: mpsc::UnboundedSender<Publish>,
) {
    let broker = settings.broker();
    let mut backoff = Duration::from_secs(1);
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                // Not awaited here: only this loop drains the client's queue.
                let (client, topic) = (client.clone(), settings.topic.clone());
                tokio::spawn(async move { client.subscribe(topic, QoS::AtLeastOnce).await });
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if ack
                    .return_codes
                    .iter()
                    .all(|c| matches!(c, SubscribeReasonCode::Success(_)))
                {
                    tracing::info!(%broker, topic = %settings.topic, "MQTT subscribed");
                    backoff = Duration::from_secs(1);
                    update(&state, |s| s.connected = true);
                } else {
                    let message =
                        format!("the broker refused the subscription to {}", settings.topic);
                    tracing::warn!(%broker, "{message}");
                    update(&state, |s| {
                        s.connected = false;
                        s.last_error = problem(None, message);
                    });
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                if messages.send(p).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(%broker, error = %e, retry_in = ?backoff, "MQTT connection failed");
                update(&state, |s| {
                    s.connected = false;
                    s.last_error = problem(None, format!("{broker}: {e}"));
                });
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// What became of a message so far.
enum Step {
    /// Refused for its content.
    Refused(ApiError),
    /// Queued for the writer; kept to be written again should the write fail.
    Writing(Checked, ApiResult<Submitted>),
}

/// Checks each message and queues its points for the writer, in arrival order (so of
/// two readings with one key, the first to arrive is kept), at most `WINDOW` ahead of
/// the acknowledgements.
async fn dispatch(
    state: AppState,
    settings: Arc<Settings>,
    mut incoming: mpsc::UnboundedReceiver<Publish>,
    steps: mpsc::Sender<(Publish, Step)>,
) {
    while let Some(p) = incoming.recv().await {
        let mut backoff = Duration::from_secs(1);
        let step = loop {
            match check_message(&state, settings.format, &p.topic, &p.payload).await {
                Ok(checked) => {
                    let submitted = checked.clone().submit(&state).await;
                    break Step::Writing(checked, submitted);
                }
                Err(e) if e.status().is_server_error() => {
                    server_error(&state, &p.topic, &e, backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(e) => break Step::Refused(e),
            }
        };
        if steps.send((p, step)).await.is_err() {
            return;
        }
    }
}

/// Waits for each message's write, in arrival order, writing it again after a
/// server-side failure until it commits; then counts it and acknowledges it.
async fn acknowledge(
    state: AppState,
    client: AsyncClient,
    mut steps: mpsc::Receiver<(Publish, Step)>,
) {
    while let Some((p, step)) = steps.recv().await {
        let outcome = match step {
            Step::Refused(e) => Err(e),
            Step::Writing(checked, submitted) => {
                let mut outcome = match submitted {
                    Ok(s) => s.outcome().await,
                    Err(e) => Err(e),
                };
                let mut backoff = Duration::from_secs(1);
                while let Err(e) = &outcome
                    && e.status().is_server_error()
                {
                    server_error(&state, &p.topic, e, backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    outcome = checked.clone().store(&state).await;
                }
                outcome
            }
        };
        match outcome {
            Ok(out) => update(&state, |s| {
                s.messages += 1;
                s.points += out.stored;
            }),
            Err(e) => {
                let message = e.problem().detail;
                tracing::warn!(topic = %p.topic, status = e.status().as_u16(), error = %message, "MQTT message refused");
                update(&state, |s| {
                    s.messages += 1;
                    s.rejected_messages += 1;
                    s.last_error = problem(Some(&p.topic), message);
                });
            }
        }
        if client.ack(&p).await.is_err() {
            return;
        }
    }
}

/// Logs and reports a failure on the server's side, then waits `backoff`.
async fn server_error(state: &AppState, topic: &str, e: &ApiError, backoff: Duration) {
    tracing::warn!(%topic, error = %e, retry_in = ?backoff, "MQTT message not stored yet");
    update(state, |s| {
        s.last_error = problem(Some(topic), e.problem().detail)
    });
    tokio::time::sleep(backoff).await;
}

/// Checks the points of one message as the HTTP ingest endpoints do.
async fn check_message(
    state: &AppState,
    format: Format,
    topic: &str,
    payload: &[u8],
) -> ApiResult<Checked> {
    if format == Format::Line {
        return check_lines(state, payload, None).await;
    }
    match payload.trim_ascii_start().first() {
        Some(b'[') => check_json(state, payload, JsonShape::Array).await,
        Some(b'{') => check_json(state, payload, JsonShape::One).await,
        _ => {
            let value = std::str::from_utf8(payload)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "the payload is no JSON point, array of points or number".into(),
                    )
                })?;
            let mut levels = topic.rsplit('/');
            match (levels.next(), levels.next()) {
                (Some(metric), Some(asset)) if !metric.is_empty() && !asset.is_empty() => {
                    check_reading(state, asset, metric, value).await
                }
                _ => Err(ApiError::BadRequest(format!(
                    "a bare number needs a topic ending in /{{asset}}/{{metric}}, not {topic}"
                ))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, f: impl FnOnce(&mut Config)) -> ApiResult<Option<Settings>> {
        let mut config = Config {
            mqtt_url: Some(url.into()),
            ..Config::default()
        };
        f(&mut config);
        Settings::from_config(&config)
    }

    #[test]
    fn reads_the_broker_url() {
        assert!(Settings::from_config(&Config::default()).unwrap().is_none());
        let s = settings("mqtt://ingest:p%40ss@broker.local", |_| {})
            .unwrap()
            .unwrap();
        assert_eq!((s.host.as_str(), s.port), ("broker.local", 1883));
        assert_eq!(s.credentials, Some(("ingest".into(), "p@ss".into())));
        assert_eq!(
            (s.topic.as_str(), s.format),
            ("nexus/telemetry/#", Format::Json)
        );
        let status = Settings::status(Some(&s));
        assert_eq!(status.broker.as_deref(), Some("mqtt://broker.local:1883"));
        let s = settings("tcp://[::1]:1884", |c| c.mqtt_format = "line".into())
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.format),
            ("::1", 1884, Format::Line)
        );
        assert_eq!(s.credentials, None);
    }

    #[test]
    fn refuses_bad_settings() {
        let err = |r: ApiResult<Option<Settings>>| r.unwrap_err().to_string();
        assert!(err(settings("mqtts://broker", |_| {})).starts_with("NEXUS_MQTT_URL:"));
        assert!(err(settings("broker:1883", |_| {})).starts_with("NEXUS_MQTT_URL:"));
        assert!(
            err(settings("mqtt://b", |c| c.mqtt_format = "csv".into()))
                .starts_with("NEXUS_MQTT_FORMAT:")
        );
        assert!(
            err(settings("mqtt://b", |c| c.mqtt_topic = "a/#/b".into()))
                .starts_with("NEXUS_MQTT_TOPIC:")
        );
        assert!(
            err(settings("mqtt://b", |c| c.mqtt_client_id.clear()))
                .starts_with("NEXUS_MQTT_CLIENT_ID:")
        );
    }
}

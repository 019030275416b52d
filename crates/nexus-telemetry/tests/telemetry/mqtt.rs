//! MQTT ingestion through the real broker (Mosquitto at 127.0.0.1:1883, which `.ci/run`
//! starts), on SQLite and on PostgreSQL. Each test subscribes under its own topic prefix,
//! so tests run in parallel.

use std::time::{Duration, Instant};

use nexus_server::testing::{Backend, TestServer};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};

use crate::common::{asset_with_metric, now_ms, rfc};

const BROKER: (&str, u16) = ("127.0.0.1", 1883);

/// A topic prefix no other test uses.
fn prefix() -> String {
    format!(
        "nexus-test/{}-{}",
        std::process::id(),
        nexus_core::auth::random_token(6)
    )
}

/// A server subscribed to `<prefix>/#` in `format`; fails when the broker is unreachable.
async fn server(backend: Backend, prefix: &str, format: &str) -> Option<TestServer> {
    if let Err(e) = tokio::net::TcpStream::connect(BROKER).await {
        panic!(
            "an MQTT broker must listen at {}:{} (`.ci/run` starts Mosquitto): {e}",
            BROKER.0, BROKER.1
        );
    }
    let srv = TestServer::start_with(backend, |c| {
        c.mqtt_url = Some(format!("mqtt://{}:{}", BROKER.0, BROKER.1));
        c.mqtt_topic = format!("{prefix}/#");
        c.mqtt_format = format.into();
        c.mqtt_client_id = format!("{prefix}-nexus");
    })
    .await?;
    let admin = srv.admin_token().await;
    wait_for(&srv, &admin, "the subscription", |s| s["connected"] == true).await;
    Some(srv)
}

/// Polls the subscriber's state until `done` holds (or fails after 20 s); returns it.
async fn wait_for(
    srv: &TestServer,
    token: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = srv.get("/api/v1/telemetry/mqtt", token).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        if done(&res.json) {
            return res.json;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {}",
            res.json
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A publishing client (QoS 1), its connection driven by a task of its own.
async fn publisher(prefix: &str) -> AsyncClient {
    let options = MqttOptions::new(format!("{prefix}-pub"), BROKER.0, BROKER.1);
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    client
}

async fn publish(client: &AsyncClient, topic: String, payload: impl Into<Vec<u8>>) {
    client
        .publish(topic, QoS::AtLeastOnce, false, payload)
        .await
        .expect("publish");
}

/// An asset with a `temperature` metric; its id.
async fn machine(srv: &TestServer, token: &str, name: &str) -> i64 {
    let metric = json!({"metric_name": "temperature", "unit": "°C"});
    asset_with_metric(srv, token, name, metric).await
}

/// A whole minute an hour back, in milliseconds since the epoch.
fn start_ms() -> i64 {
    (now_ms() / 60_000 - 60) * 60_000
}

/// Count, min and max of the temperature samples of `asset` from `from` for a minute.
async fn minute(srv: &TestServer, token: &str, asset: i64, from: i64) -> (i64, f64, f64) {
    let path = format!(
        "/api/v1/assets/{asset}/metrics/temperature/history?from={}&to={}&buckets=1",
        rfc(from),
        rfc(from + 60_000)
    );
    let res = srv.get(&path, token).await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    let b = &res.json["buckets"][0];
    (
        b["count"].as_i64().unwrap_or(0),
        b["min"].as_f64().unwrap_or(f64::NAN),
        b["max"].as_f64().unwrap_or(f64::NAN),
    )
}

/// Declares a test per backend over a server subscribed in `format` under a fresh prefix.
macro_rules! mqtt_tests {
    ($(async fn $name:ident($srv:ident, $prefix:ident, $format:literal) $body:block)*) => {
        $(
            mod $name {
                use super::*;

                async fn body($srv: &TestServer, $prefix: &str) $body

                async fn run(backend: Backend) {
                    let prefix = prefix();
                    if let Some(srv) = server(backend, &prefix, $format).await {
                        body(&srv, &prefix).await;
                        srv.finish().await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run(Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run(Backend::Postgres).await;
                }
            }
        )*
    };
}

mqtt_tests! {
    async fn json_messages(srv, prefix, "json") {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Press 7").await;
        let t0 = start_ms();
        let mqtt = publisher(prefix).await;
        let point = |ts: i64, value: f64| json!({"asset_id": id, "metric": "temperature", "ts": ts, "value": value});

        // One point, an array (repeating the first point, late), and a bare number on a
        // topic naming the asset and the metric.
        let first = point(t0 + 1_000, 70.0).to_string();
        publish(&mqtt, format!("{prefix}/press"), first.clone()).await;
        let batch = json!([point(t0 + 3_000, 72.0), point(t0 + 2_000, 71.0), point(t0 + 1_000, 99.0)]);
        publish(&mqtt, format!("{prefix}/press"), batch.to_string()).await;
        publish(&mqtt, format!("{prefix}/{id}/temperature"), "73.5").await;
        let s = wait_for(srv, &admin, "three messages", |s| s["messages"] == 3).await;
        assert_eq!((s["points"].as_u64(), s["rejected_messages"].as_u64()), (Some(4), Some(0)));
        assert_eq!(minute(srv, &admin, id, t0).await, (3, 70.0, 72.0));
        let m = srv.get(&format!("/api/v1/assets/{id}/metrics/temperature"), &admin).await;
        assert_eq!(m.json["metric_value"], 73.5);

        // A message naming an unknown asset is refused, all of it, and counted.
        let bad = json!([point(t0 + 4_000, 1.0), {"asset_id": 999_999, "metric": "temperature", "ts": t0, "value": 1.0}]);
        publish(&mqtt, format!("{prefix}/bad"), bad.to_string()).await;
        let s = wait_for(srv, &admin, "the refusal", |s| s["rejected_messages"] == 1).await;
        assert_eq!(s["last_error"]["topic"], format!("{prefix}/bad"));
        assert_eq!(s["last_error"]["message"], "[1].asset_id: no asset has id 999999");

        // The subscriber goes on: malformed JSON is refused, the next good message and a
        // repeat of the first land, the repeat stored once.
        publish(&mqtt, format!("{prefix}/press"), "{\"asset_id\": ").await;
        publish(&mqtt, format!("{prefix}/press"), point(t0 + 5_000, 75.0).to_string()).await;
        publish(&mqtt, format!("{prefix}/press"), first).await;
        let s = wait_for(srv, &admin, "seven messages", |s| s["messages"] == 7).await;
        assert_eq!((s["points"].as_u64(), s["rejected_messages"].as_u64()), (Some(5), Some(2)));
        assert_eq!(s["connected"], true);
        assert_eq!(minute(srv, &admin, id, t0).await, (4, 70.0, 75.0));
    }

    async fn line_messages(srv, prefix, "line") {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Compressor B").await;
        let t0 = start_ms();
        let ns = |ms: i64| ms * 1_000_000;
        let mqtt = publisher(prefix).await;

        let body = format!(
            "temperature,asset_id={id} value=70.5 {}\nmachine,asset=Compressor\\ B temperature=71.5 {}\n",
            ns(t0 + 1_000), ns(t0 + 2_000)
        );
        publish(&mqtt, format!("{prefix}/plant/b"), body).await;
        let s = wait_for(srv, &admin, "the first message", |s| s["messages"] == 1).await;
        assert_eq!(s["points"], 2);
        assert_eq!(s["format"], "line");

        // A malformed line and an unknown metric each refuse their whole message.
        let bad = format!("temperature,asset_id={id} value=1 {}\ntemperature,asset_id={id} value=\"hot\"", ns(t0));
        publish(&mqtt, format!("{prefix}/plant/b"), bad).await;
        let s = wait_for(srv, &admin, "the first refusal", |s| s["rejected_messages"] == 1).await;
        assert!(s["last_error"]["message"].as_str().unwrap().starts_with("line 2: "), "{s}");
        publish(&mqtt, format!("{prefix}/plant/b"), format!("humidity,asset_id={id} value=3 {}", ns(t0))).await;
        let s = wait_for(srv, &admin, "the second refusal", |s| s["rejected_messages"] == 2).await;
        assert_eq!(s["last_error"]["message"], format!("line 1: asset {id} has no metric 'humidity'"));

        // Later messages still land; a repeated line is stored once.
        let body = format!(
            "temperature,asset_id={id} value=70.5 {}\ntemperature,asset_id={id} value=69 {}",
            ns(t0 + 1_000), ns(t0 + 3_000)
        );
        publish(&mqtt, format!("{prefix}/plant/b"), body).await;
        let s = wait_for(srv, &admin, "four messages", |s| s["messages"] == 4).await;
        assert_eq!(s["points"], 3);
        assert_eq!(minute(srv, &admin, id, t0).await, (3, 69.0, 71.5));
    }

    async fn reconnects(srv, prefix, "json") {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Kiln").await;
        let t0 = start_ms();
        // Another client taking the server's client id pushes it off the broker; it
        // leaves at once, keeping the session, which holds what is published meanwhile.
        let mut options = MqttOptions::new(format!("{prefix}-nexus"), BROKER.0, BROKER.1);
        options.set_clean_session(false);
        let (_rogue, mut eventloop) = AsyncClient::new(options, 8);
        while !matches!(eventloop.poll().await.expect("takeover"), Event::Incoming(Packet::ConnAck(_))) {}
        drop(eventloop);
        let mqtt = publisher(prefix).await;
        let point = json!({"asset_id": id, "metric": "temperature", "ts": t0 + 1_000, "value": 60.0});
        publish(&mqtt, format!("{prefix}/kiln"), point.to_string()).await;

        let s = wait_for(srv, &admin, "the message after reconnecting", |s| s["messages"] == 1).await;
        assert_eq!(s["points"], 1);
        assert_eq!(s["last_error"]["topic"], Value::Null, "{s}");
        assert!(s["last_error"]["message"].as_str().unwrap().starts_with("mqtt://127.0.0.1:1883: "));
        wait_for(srv, &admin, "the subscription", |s| s["connected"] == true).await;
        assert_eq!(minute(srv, &admin, id, t0).await, (1, 60.0, 60.0));
    }
}

/// Without a broker the state says so; the endpoint needs `telemetry:read`.
async fn status_without_broker(backend: Backend) {
    let Some(srv) = TestServer::start(backend).await else {
        return;
    };
    let admin = srv.admin_token().await;
    let res = srv.get("/api/v1/telemetry/mqtt", &admin).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json["enabled"], false);
    assert_eq!(res.json["connected"], false);
    let guest = srv.user_token(&admin, "visitor", "guest").await;
    assert_eq!(srv.get("/api/v1/telemetry/mqtt", &guest).await.status, 200);
    let anonymous = srv.call("GET", "/api/v1/telemetry/mqtt", None, None).await;
    assert_eq!(anonymous.status, 401);
    srv.finish().await;
}

/// An unreachable broker is retried and reported; the server serves on.
async fn unreachable_broker(backend: Backend) {
    let Some(srv) = TestServer::start_with(backend, |c| {
        c.mqtt_url = Some("mqtt://127.0.0.1:1".into());
        c.mqtt_client_id = format!("{}-nexus", prefix());
    })
    .await
    else {
        return;
    };
    let admin = srv.admin_token().await;
    let s = wait_for(&srv, &admin, "the connection error", |s| {
        !s["last_error"].is_null()
    })
    .await;
    assert_eq!(s["enabled"], true);
    assert_eq!(s["connected"], false);
    assert_eq!(s["broker"], "mqtt://127.0.0.1:1");
    assert_eq!(s["last_error"]["topic"], Value::Null);
    assert!(machine(&srv, &admin, "Lathe").await > 0);
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_without_broker_sqlite() {
    status_without_broker(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_without_broker_postgres() {
    status_without_broker(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_sqlite() {
    unreachable_broker(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_postgres() {
    unreachable_broker(Backend::Postgres).await;
}

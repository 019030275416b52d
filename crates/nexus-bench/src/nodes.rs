//! Two nodes on one PostgreSQL database (issue 16): work orders created on node A, each
//! timed from sending the POST to its `work_order.created` event's arrival on an event
//! stream on node B (across LISTEN/NOTIFY) and on one on node A (same node), in the same
//! run; then one event larger than NOTIFY's 8,000-byte payload.

use std::time::{Duration, Instant};

use anyhow::bail;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::load::{Request, open_stream};
use crate::server::{self, Nexus};
use crate::work::{create, p99};

/// Writes timed, one at a time: each waits for its event on both streams, then a pause.
const EVENTS: usize = 500;
const PAUSE: Duration = Duration::from_millis(20);
/// An event not on a stream by then counts as missing.
const PATIENCE: Duration = Duration::from_secs(10);

/// An event as a stream client received it.
struct Arrival {
    id: i64,
    at: Instant,
    /// Bytes of the event's JSON.
    bytes: usize,
    /// Whether the event came with its `data`.
    with_data: bool,
}

/// What the stream clients on node A and node B received of one write: (microseconds
/// from the POST's start, bytes, with its data), or `None` when missing.
type Seen = Option<(u64, usize, bool)>;

/// The stream clients on node A and node B.
struct Streams {
    a: mpsc::UnboundedReceiver<Arrival>,
    b: mpsc::UnboundedReceiver<Arrival>,
}

impl Streams {
    /// Creates a work order on `node` and waits for its event on both streams.
    async fn write(
        &mut self,
        node: &Nexus,
        token: &str,
        body: Value,
    ) -> anyhow::Result<(Seen, Seen)> {
        let sent = Instant::now();
        let id = create(node, token, "/api/v1/work-orders", body).await?;
        let deadline = sent + PATIENCE;
        Ok((
            arrival(&mut self.a, id, sent, deadline).await,
            arrival(&mut self.b, id, sent, deadline).await,
        ))
    }
}

pub async fn run(binary: &str, database_url: Option<&str>) -> anyhow::Result<()> {
    let Some(url) = database_url else {
        bail!("the nodes scenario needs PostgreSQL: pass --database-url postgres://...");
    };
    let dir = server::fresh_dir()?;
    let mut a = Nexus::start_in(binary, Some(url), &dir).await?;
    let mut b = Nexus::start_in(binary, Some(url), &dir).await?;
    let token = a.login("admin", server::ADMIN_PASSWORD).await?;
    let mut streams = Streams {
        a: subscribe(&a, &token).await?,
        b: subscribe(&b, &token).await?,
    };
    println!(
        "nodes (PostgreSQL): two nodes on one database; {EVENTS} work orders created on node A, one at a time ({} ms apart); load average {}",
        PAUSE.as_millis(),
        server::load_average()
    );

    // A few unmeasured writes first, so both streams and the NOTIFY path are warm.
    for i in 0..10 {
        let body = json!({"title": format!("Warm-up {i}")});
        streams.write(&a, &token, body).await?;
    }
    let (mut same, mut cross, mut later) = (Vec::new(), Vec::new(), Vec::new());
    let mut missing = (0, 0);
    for i in 0..EVENTS {
        let body = json!({"title": format!("Node event {i}")});
        let (to_a, to_b) = streams.write(&a, &token, body).await?;
        if let (Some(on_a), Some(on_b)) = (to_a, to_b) {
            later.push(on_b.0.saturating_sub(on_a.0));
        }
        match to_a {
            Some(got) => same.push(got.0),
            None => missing.0 += 1,
        }
        match to_b {
            Some(got) => cross.push(got.0),
            None => missing.1 += 1,
        }
        tokio::time::sleep(PAUSE).await;
    }
    for (name, lat, missing) in [
        ("stream on node A (same node)", same, missing.0),
        ("stream on node B (other node)", cross, missing.1),
    ] {
        println!(
            "  POST on A to the event on a {name}: {}; {missing} missing after {} s",
            figures(lat),
            PATIENCE.as_secs()
        );
    }
    println!(
        "  arrival on B after arrival on A, same event: {}",
        figures(later)
    );

    // One event over NOTIFY's limit: a work order with a long description.
    let description = "Bearing noise on the drive end; replace and realign. ".repeat(200);
    let body = json!({"title": "Large event", "description": description});
    let (to_a, to_b) = streams.write(&a, &token, body).await?;
    let seen = |got: Seen| match got {
        Some((micros, bytes, with_data)) => format!(
            "arrived after {:.1} ms, {bytes} bytes, {}",
            micros as f64 / 1000.0,
            if with_data {
                "with its data"
            } else {
                "without its data"
            }
        ),
        None => format!("missing after {} s", PATIENCE.as_secs()),
    };
    println!(
        "  event over 8,000 bytes: on node A {}; on node B {}",
        seen(to_a),
        seen(to_b)
    );
    a.halt().await;
    b.halt().await;
    server::remove_data(&dir).await;
    Ok(())
}

/// Waits for the event of record `id` (earlier ones, of writes that timed out, are
/// skipped).
async fn arrival(
    rx: &mut mpsc::UnboundedReceiver<Arrival>,
    id: i64,
    sent: Instant,
    deadline: Instant,
) -> Seen {
    loop {
        let got = tokio::time::timeout_at(deadline.into(), rx.recv())
            .await
            .ok()??;
        if got.id == id {
            let micros = got.at.duration_since(sent).as_micros() as u64;
            return Some((micros, got.bytes, got.with_data));
        }
    }
}

/// Opens an event stream of `work_order.created` on `node`; its events arrive on the
/// channel, stamped when their last byte was read.
async fn subscribe(node: &Nexus, token: &str) -> anyhow::Result<mpsc::UnboundedReceiver<Arrival>> {
    let req = Request::get("/api/v1/events/stream?topics=work_order.created").bearer(token);
    let (status, mut body) = open_stream(node.addr, &req).await?;
    anyhow::ensure!(status == 200, "the event stream answered {status}");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buf: Vec<u8> = Vec::new();
        while let Some(Ok(frame)) = body.frame().await {
            let Ok(bytes) = frame.into_data() else {
                continue;
            };
            let at = Instant::now();
            buf.extend_from_slice(&bytes);
            while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
                let message: Vec<u8> = buf.drain(..end + 2).collect();
                let data: String = String::from_utf8_lossy(&message)
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|l| l.strip_prefix(' ').unwrap_or(l))
                    .collect::<Vec<_>>()
                    .join("\n");
                let Ok(event) = serde_json::from_str::<Value>(&data) else {
                    continue;
                };
                let Some(id) = event["id"].as_i64() else {
                    continue;
                };
                let arrival = Arrival {
                    id,
                    at,
                    bytes: data.len(),
                    with_data: !event["data"].is_null(),
                };
                if tx.send(arrival).is_err() {
                    return;
                }
            }
        }
    });
    Ok(rx)
}

/// p50, p99 and max of latencies in microseconds, in milliseconds.
fn figures(mut micros: Vec<u64>) -> String {
    micros.sort_unstable();
    let ms = |v: Option<&u64>| v.copied().unwrap_or(0) as f64 / 1000.0;
    format!(
        "{} events, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        micros.len(),
        ms(micros.get(micros.len() / 2)),
        p99(micros.clone()),
        ms(micros.last())
    )
}

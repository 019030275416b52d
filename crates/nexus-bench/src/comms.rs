//! Notifications and announcements at plant scale (`nexus seed --people --notifications
//! --announcements`): a reader's unread count and first page over 1,000,000 stored
//! notifications; an announcement published to every one of 10,000 readers while readers
//! read their feeds; and a broadcast reaching thousands of open event streams.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::load::{Request, run_load_with};
use crate::server::{self, Nexus};
use crate::work::{call, create, p99};

/// Connections of the read phases: each reader's requests, a few at a time (the figures
/// are per-request latencies, not the server's throughput).
const CONNS: usize = 4;
/// Readers who sign in and read.
const READERS: usize = 16;

/// Seeds, then measures the notification reads, publishing, and live delivery.
pub async fn run(
    binary: &str,
    database_url: Option<&str>,
    (people, notifications): (u64, u64),
    streams: usize,
    secs: u64,
) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let flags = [
        ("--people", people),
        ("--notifications", notifications),
        ("--announcements", 20),
    ];
    let seeded = server::seed(binary, database_url, &dir, &flags).await?;
    let nexus = Nexus::start_in(binary, database_url, &dir).await?;
    let backend = nexus.backend();
    println!(
        "comms ({backend}): {people} readers, {notifications} notifications and 20 announcements seeded in {:.1} s",
        seeded.as_secs_f64()
    );
    let admin = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let readers = sign_in_readers(&nexus, &admin).await?;
    let phase = Duration::from_secs(secs);

    let (_, count) = call(
        &nexus,
        Request::get("/api/v1/notifications/unread-count").bearer(&readers[0]),
    )
    .await?;
    for (name, path) in [
        ("unread count", "/api/v1/notifications/unread-count"),
        ("first page", "/api/v1/notifications?limit=50"),
    ] {
        let tokens = readers.clone();
        let stats = run_load_with(
            nexus.addr,
            CONNS,
            phase / 2,
            Arc::new(move |c, i| Request::get(path).bearer(&tokens[reader(c, i)])),
        )
        .await?;
        println!(
            "  notifications, {name:<12} ({} unread for reader 1) {CONNS} conns: {}",
            count["unread"],
            stats.summary()
        );
    }

    publish(&nexus, &admin, &readers, phase).await?;
    if streams > 0 {
        live(&nexus, &admin, &readers[0], streams).await?;
    }
    nexus.stop().await;
    server::remove_data(&dir).await;
    Ok(())
}

/// The reader the `i`-th request of connection `c` is made for: every reader in turn.
fn reader(c: usize, i: u64) -> usize {
    (c + i as usize) % READERS
}

/// Sets the passwords of the first readers and signs them in.
async fn sign_in_readers(nexus: &Nexus, admin: &str) -> anyhow::Result<Vec<String>> {
    let password = "Reader-bench-password-1";
    let mut tokens = Vec::new();
    for n in 1..=READERS {
        let name = format!("reader{n:05}");
        let (_, users) = call(
            nexus,
            Request::get(&format!("/api/v1/users?q={name}")).bearer(admin),
        )
        .await?;
        let id = users["items"][0]["id"]
            .as_i64()
            .context("a seeded reader")?;
        let (status, out) = call(
            nexus,
            Request::post_json(
                &format!("/api/v1/users/{id}/password"),
                &json!({"new_password": password}).to_string(),
            )
            .bearer(admin),
        )
        .await?;
        anyhow::ensure!(status < 300, "setting {name}'s password: {status} {out}");
        tokens.push(nexus.login(&name, password).await?);
    }
    Ok(tokens)
}

/// Announcements to everyone, each timed, while the readers read their feed and unread
/// count.
async fn publish(
    nexus: &Nexus,
    admin: &str,
    readers: &[String],
    phase: Duration,
) -> anyhow::Result<()> {
    let tokens = readers.to_vec();
    let reading = run_load_with(
        nexus.addr,
        CONNS,
        phase,
        Arc::new(move |c, i| {
            let path = if i % 2 == 0 {
                "/api/v1/updates?limit=20"
            } else {
                "/api/v1/updates/unread-count"
            };
            Request::get(path).bearer(&tokens[reader(c, i)])
        }),
    );
    let publishing = async {
        let mut times = Vec::new();
        let mut recipients = 0;
        let started = Instant::now();
        while started.elapsed() < phase.saturating_sub(Duration::from_secs(1)) {
            let body = json!({
                "title": format!("Shift notice {}", times.len() + 1),
                "content": "Line 3 stops at **14:00** for a changeover.",
                "type": "announcement",
                "target_all": true,
                "ack_required": true,
                "status": "published",
            });
            let t = Instant::now();
            let id = create(nexus, admin, "/api/v1/updates", body).await?;
            times.push(t.elapsed().as_micros() as u64);
            let (_, receipts) = call(
                nexus,
                Request::get(&format!("/api/v1/updates/{id}/receipts?limit=1")).bearer(admin),
            )
            .await?;
            recipients = receipts["recipients"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        anyhow::Ok((times, recipients))
    };
    let (reading, published) = tokio::join!(reading, publishing);
    let (reading, (times, recipients)) = (reading?, published?);
    let slowest = times.iter().max().copied().unwrap_or(0) as f64 / 1000.0;
    let each: Vec<String> = times
        .iter()
        .map(|t| format!("{:.0}", *t as f64 / 1000.0))
        .collect();
    println!(
        "  {} announcements to {recipients} readers each: slowest publish {slowest:.1} ms (each: {} ms)",
        times.len(),
        each.join(", "),
    );
    println!(
        "  readers' feed and unread count meanwhile, {CONNS} conns: {}",
        reading.summary()
    );
    Ok(())
}

/// Opens `streams` event streams of one reader, reports the server's memory per idle
/// stream, then times broadcast system messages from the POST to each stream's receipt.
async fn live(nexus: &Nexus, admin: &str, reader: &str, streams: usize) -> anyhow::Result<()> {
    let before = nexus.rss_kib().unwrap_or(0);
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    let request = format!(
        "GET /api/v1/events/stream?topics=system_message HTTP/1.1\r\nHost: bench\r\n\
         Authorization: Bearer {reader}\r\nAccept: text/event-stream\r\n\r\n"
    );
    let mut open = 0;
    for chunk in (0..streams).collect::<Vec<_>>().chunks(200) {
        let mut opening = Vec::new();
        for &client in chunk {
            let (addr, request, tx) = (nexus.addr, request.clone(), tx.clone());
            opening.push(tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await?;
                stream.write_all(request.as_bytes()).await?;
                let mut buf = vec![0u8; 4096];
                let n = stream.read(&mut buf).await?;
                anyhow::ensure!(
                    buf[..n].starts_with(b"HTTP/1.1 200"),
                    "stream refused: {}",
                    String::from_utf8_lossy(&buf[..n.min(80)])
                );
                tokio::spawn(async move {
                    let mut seen = 0;
                    let mut carry = String::new();
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        carry.push_str(&String::from_utf8_lossy(&buf[..n]));
                        let now = Instant::now();
                        let count = carry.matches("system_message.created").count();
                        for _ in seen..count {
                            let _ = tx.send((client, now));
                        }
                        seen = count;
                        if carry.len() > 65_536 {
                            carry.clear();
                            seen = 0;
                        }
                    }
                });
                anyhow::Ok(())
            }));
        }
        for o in opening {
            if o.await?.is_ok() {
                open += 1;
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = nexus.rss_kib().unwrap_or(0);
    println!(
        "  {open} of {streams} event streams open; server RSS {before} KiB -> {after} KiB, {:.1} KiB per idle stream",
        after.saturating_sub(before) as f64 / open.max(1) as f64
    );
    let mut all = Vec::new();
    let mut starved = 0;
    for round in 0..5 {
        let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        let body = json!({
            "title": format!("Fire drill {round}"),
            "content": "Assemble at point B.",
            "message_type": "warning",
            "is_broadcast": true,
            "expires_at": expires,
        });
        let sent = Instant::now();
        create(nexus, admin, "/api/v1/system-messages", body).await?;
        let mut got = vec![false; streams];
        let mut received = 0;
        let deadline = sent + Duration::from_secs(10);
        while received < open {
            match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
                Ok(Some((client, at))) => {
                    if !got[client] {
                        got[client] = true;
                        received += 1;
                        all.push(at.duration_since(sent).as_micros() as u64);
                    }
                }
                _ => break,
            }
        }
        starved += open - received;
    }
    all.sort_unstable();
    println!(
        "  5 broadcasts to {open} streams: event to client p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {starved} deliveries missing after 10 s",
        all.get(all.len() / 2).copied().unwrap_or(0) as f64 / 1000.0,
        p99(all.clone()),
        all.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    Ok(())
}

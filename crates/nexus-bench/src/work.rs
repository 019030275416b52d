//! Activities and projects at plant scale (`nexus seed --activities --projects`): every
//! list filter the document indexes at 16 connections, "my work" of a crew member with
//! 5,000 items, the Gantt chart of a 2,000-task project with 3,000 dependencies and the
//! cycle-checked insert of each dependency, and the overdue sweep against concurrent writes.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use nexus_core::seeding::Rng;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::load::{Request, Stats, run_load_with, send_once};
use crate::server::{self, Nexus};

/// Connections of the list phases, as the issue names.
const CONNS: usize = 16;

/// Sends one JSON request and returns its status and body.
pub(crate) async fn call(nexus: &Nexus, req: Request) -> anyhow::Result<(u16, Value)> {
    let (status, body) = send_once(nexus.addr, &req).await?;
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// Creates a JSON record and returns its id.
pub(crate) async fn create(
    nexus: &Nexus,
    token: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<i64> {
    let (status, out) = call(
        nexus,
        Request::post_json(path, &body.to_string()).bearer(token),
    )
    .await?;
    anyhow::ensure!(status == 201, "POST {path}: {status} {out}");
    out["id"].as_i64().context("an id")
}

pub(crate) fn p99(mut micros: Vec<u64>) -> f64 {
    micros.sort_unstable();
    let at = (micros.len() * 99 / 100).min(micros.len().saturating_sub(1));
    micros.get(at).copied().unwrap_or(0) as f64 / 1000.0
}

/// Seeds, then measures lists, my work, the Gantt chart and the overdue sweep.
pub async fn run(
    binary: &str,
    database_url: Option<&str>,
    activities: u64,
    projects: u64,
    secs: u64,
) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let flags = [("--activities", activities), ("--projects", projects)];
    let seeded = server::seed(binary, database_url, &dir, &flags).await?;
    let nexus = Nexus::start_in(binary, database_url, &dir).await?;
    let backend = nexus.backend();
    println!(
        "work ({backend}): {activities} activities and {projects} projects ({} tasks) seeded in {:.1} s",
        projects * 50,
        seeded.as_secs_f64()
    );
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let (_, users) = call(
        &nexus,
        Request::get("/api/v1/users?q=crew&limit=500").bearer(&token),
    )
    .await?;
    let crew: Vec<i64> = users["items"]
        .as_array()
        .context("users")?
        .iter()
        .filter_map(|u| u["id"].as_i64())
        .collect();
    anyhow::ensure!(!crew.is_empty(), "the seed made no crew");
    let (_, tags) = call(&nexus, Request::get("/api/v1/tags?q=kaizen").bearer(&token)).await?;
    let kaizen = tags["items"][0]["id"].as_i64().context("the Kaizen tag")?;
    let phase = Duration::from_secs(secs);

    let week_ago = (chrono::Utc::now() - chrono::Duration::days(7)).to_rfc3339();
    let now = chrono::Utc::now().to_rfc3339();
    let week = format!(
        "start_from={}&start_to={}",
        urlencode(&week_ago),
        urlencode(&now)
    );
    let who = crew[0];
    let named: Vec<(&str, String)> = vec![
        ("none", String::new()),
        ("status=planned", "status=planned".into()),
        ("type=Quality", "type=Quality".into()),
        ("assigned_to_id", format!("assigned_to_id={who}")),
        ("start time (a week)", week),
        ("priority=urgent", "priority=urgent".into()),
        ("created_by_id", format!("created_by_id={who}")),
        ("status+priority", "status=overdue&priority=high".into()),
        ("type+status", "type=Maintenance&status=completed".into()),
        ("tag_id=Kaizen", format!("tag_id={kaizen}")),
    ];
    for (name, q) in named {
        let t = token.clone();
        let stats = run_load_with(
            nexus.addr,
            CONNS,
            phase / 2,
            Arc::new(move |_, _| {
                Request::get(&format!("/api/v1/activities?limit=50&{q}")).bearer(&t)
            }),
        )
        .await?;
        println!(
            "  activities, {name:<22} {CONNS} conns: {}",
            stats.summary()
        );
    }

    // My work of a crew member (1/200 of every activity is theirs).
    let crew_password = "Crew-bench-password-1";
    let (status, out) = call(
        &nexus,
        Request::post_json(
            &format!("/api/v1/users/{who}/password"),
            &json!({"new_password": crew_password}).to_string(),
        )
        .bearer(&token),
    )
    .await?;
    anyhow::ensure!(status < 300, "setting crew001's password: {status} {out}");
    let crew_token = nexus.login("crew001", crew_password).await?;
    let (_, mine) = call(
        &nexus,
        // Far past the end, so the count (which stops 1,000 past the page) is exact.
        Request::get(&format!(
            "/api/v1/activities?assigned_to_id={who}&limit=1&offset=1000000"
        ))
        .bearer(&token),
    )
    .await?;
    let my_work = || {
        let t = crew_token.clone();
        run_load_with(
            nexus.addr,
            CONNS,
            phase / 2,
            Arc::new(move |_, _| Request::get("/api/v1/my-work").bearer(&t)),
        )
    };
    let stats = my_work().await?;
    println!(
        "  my work of a user with {} activities, {CONNS} conns: {}",
        mine["total"],
        stats.summary()
    );
    // The same while the plant changes: an activity planned every 100 ms for someone
    // else, then for them.
    for (whose, assignee) in [("others'", crew[crew.len() - 1]), ("their own", who)] {
        let (stats, planned) = while_planning(&nexus, &token, assignee, my_work()).await?;
        println!(
            "  my work, {whose} activity planned every 100 ms ({planned}), {CONNS} conns: {}",
            stats.summary()
        );
    }

    gantt(&nexus, &token, &crew, phase).await?;
    sweep(nexus, binary, &dir, database_url, phase).await?;
    server::remove_data(&dir).await;
    Ok(())
}

/// Runs `load` while an activity assigned to `assignee` is planned every 100 ms; its
/// figures and how many were planned.
async fn while_planning(
    nexus: &Nexus,
    token: &str,
    assignee: i64,
    load: impl std::future::Future<Output = anyhow::Result<Stats>>,
) -> anyhow::Result<(Stats, u64)> {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let planner = {
        let (addr, token, stop) = (nexus.addr, token.to_string(), stop.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let mut planned = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tick.tick().await;
                let start = chrono::Utc::now() + chrono::Duration::hours(2);
                let body = json!({"title": format!("Changeover {planned} (bench)"), "type": "Production",
                    "assigned_to_id": assignee, "start_time": start, "end_time": start + chrono::Duration::hours(1)});
                let req =
                    Request::post_json("/api/v1/activities", &body.to_string()).bearer(&token);
                let (status, _) = send_once(addr, &req).await?;
                anyhow::ensure!(status == 201, "planning an activity: {status}");
                planned += 1;
            }
            anyhow::Ok(planned)
        })
    };
    let stats = load.await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let planned = planner.await??;
    Ok((stats?, planned))
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// A 2,000-task project with 3,000 dependencies built through the API (each dependency
/// insert timed with its cycle check), then its Gantt chart.
async fn gantt(nexus: &Nexus, token: &str, crew: &[i64], phase: Duration) -> anyhow::Result<()> {
    let today = chrono::Utc::now().date_naive();
    let project = create(
        nexus,
        token,
        "/api/v1/projects",
        json!({"name": "Plant expansion (bench)", "start_date": today, "end_date": today + chrono::Duration::days(3650)}),
    )
    .await?;
    for &m in &crew[..10.min(crew.len())] {
        let (status, out) = call(
            nexus,
            Request::post_json(
                &format!("/api/v1/projects/{project}/team"),
                &json!({"user_id": m}).to_string(),
            )
            .bearer(token),
        )
        .await?;
        anyhow::ensure!(status == 201 || status == 200, "team: {status} {out}");
    }
    // Twenty tasks a layer, a layer every ten days, each task at most five days long; a
    // dependency goes from a task to one of a later layer, so none closes a cycle or
    // pushes a task, and every insert is the whole check and nothing else.
    let mut tasks = Vec::with_capacity(2000);
    let mut rng = Rng(99);
    for k in 0..2000i64 {
        let start = today + chrono::Duration::days(10 * (k / 20));
        let id = create(
            nexus,
            token,
            &format!("/api/v1/projects/{project}/tasks"),
            json!({"title": format!("Task {k}"), "start_date": start,
                   "due_date": start + chrono::Duration::days(rng.below(5) as i64),
                   "estimated_hours": 4 + rng.below(20)}),
        )
        .await?;
        tasks.push(id);
    }
    let mut inserts = Vec::with_capacity(3000);
    let mut pairs = std::collections::HashSet::new();
    while inserts.len() < 3000 {
        let a = rng.below(1960) as usize;
        let b = (a / 20 + 1) * 20 + rng.below(40) as usize;
        if b >= 2000 || !pairs.insert((a, b)) {
            continue;
        }
        let body = json!({"predecessor_id": tasks[a], "successor_id": tasks[b], "kind": "finish-to-start"});
        let t = Instant::now();
        let (status, out) = call(
            nexus,
            Request::post_json(
                &format!("/api/v1/projects/{project}/dependencies"),
                &body.to_string(),
            )
            .bearer(token),
        )
        .await?;
        anyhow::ensure!(status == 201, "dependency: {status} {out}");
        anyhow::ensure!(
            out["moved"].as_array().is_some_and(|m| m.is_empty()),
            "a dependency moved tasks: {out}"
        );
        inserts.push(t.elapsed().as_micros() as u64);
    }
    println!(
        "  dependency insert with its cycle check (2,000 tasks, up to 3,000 dependencies), 1 conn: p99 {:.2} ms, median {:.2} ms",
        p99(inserts.clone()),
        {
            let mut m = inserts;
            m.sort_unstable();
            m[m.len() / 2] as f64 / 1000.0
        }
    );
    for (name, path) in [
        ("Gantt SVG", format!("/api/v1/projects/{project}/gantt")),
        (
            "schedule JSON",
            format!("/api/v1/projects/{project}/schedule"),
        ),
    ] {
        let t = token.to_string();
        let stats = run_load_with(
            nexus.addr,
            1,
            phase / 2,
            Arc::new(move |_, _| Request::get(&path).bearer(&t)),
        )
        .await?;
        println!(
            "  {name} of 2,000 tasks / 3,000 dependencies with the critical path, 1 conn: {}",
            stats.summary()
        );
    }
    Ok(())
}

/// Activities written at 4 connections, as planners would.
async fn writes(nexus: &Nexus, token: &str, duration: Duration) -> anyhow::Result<Stats> {
    let t = token.to_string();
    let start = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let end =
        (chrono::Utc::now() + chrono::Duration::days(30) + chrono::Duration::hours(2)).to_rfc3339();
    run_load_with(
        nexus.addr,
        4,
        duration,
        Arc::new(move |c, i| {
            let body = json!({"title": format!("Planned {c}-{i}"), "type": "Production",
                              "start_time": start, "end_time": end});
            Request::post_json("/api/v1/activities", &body.to_string()).bearer(&t)
        }),
    )
    .await
}

/// Half the finished activities are put back to "planned" (their end has passed) while
/// the server is stopped; started again, its sweep makes them overdue at once, while
/// activities are written in windows of a second until none is left late. Reports the
/// sweep's duration and the writes' p99 over it against before it.
async fn sweep(
    nexus: Nexus,
    binary: &str,
    dir: &Path,
    database_url: Option<&str>,
    phase: Duration,
) -> anyhow::Result<()> {
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let before = writes(&nexus, &token, phase / 2).await?;
    nexus.stop().await;
    let url = match server::database_url_for(dir, database_url)? {
        Some(url) => url,
        None => format!("sqlite://{}", dir.join("nexus.db").display()),
    };
    let db = Database::connect(url.clone()).await?;
    let late = db
        .execute_unprepared(
            "UPDATE activities SET status = 'planned' WHERE status = 'completed' AND id % 2 = 0",
        )
        .await?
        .rows_affected();
    // Closed before the server starts; the counts below read through a read-only one, so
    // the bench never holds a write lock or changes how the server's database runs.
    db.close().await?;
    let db = match database_url {
        Some(_) => Database::connect(url).await?,
        None => Database::connect(format!("{url}?mode=ro")).await?,
    };
    let nexus = Nexus::start_in(binary, database_url, dir).await?;
    let started = Instant::now();
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let count = "SELECT COUNT(*) AS n FROM activities WHERE status = 'planned' AND end_time < ";
    let (mut worst, mut windows, mut written) = (0f64, 0, 0);
    loop {
        let w = writes(&nexus, &token, Duration::from_secs(1)).await?;
        worst = worst.max(w.p99_ms());
        windows += 1;
        written += w.ok;
        let now = chrono::Utc::now().timestamp_micros();
        let sql = format!("{count}{now}");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await?
            .context("a count")?;
        let n: i64 = row.try_get("", "n")?;
        if n == 0 || windows > 600 {
            break;
        }
    }
    println!(
        "  overdue sweep of {late} late activities: {:.1} s from the server's start",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  activity writes, 4 conns, before the sweep: {}",
        before.summary()
    );
    println!(
        "  activity writes, 4 conns, during the sweep: {written} written, worst p99 of {windows} one-second windows {worst:.2} ms (ratio to before {:.2})",
        worst / before.p99_ms().max(0.001)
    );
    nexus.stop().await;
    Ok(())
}

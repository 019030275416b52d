//! Background jobs and what `/metrics` shows an operator: a job meant for one node runs
//! once per period across two nodes on one PostgreSQL database (one meant for every node
//! runs on both); runs and failures are counted; writer queues and batches, event fan-out
//! lag and backups are there after some writes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexus_core::jobs::{self, Job};
use nexus_core::{AppState, Timestamp};
use nexus_server::backend_tests;
use nexus_server::testing::{Backend, TestServer};
use serde_json::json;

/// Polls `check` until it answers, for at most 30 s.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Which node ran a pass, and when.
type Runs = Arc<Mutex<Vec<(&'static str, Timestamp)>>>;

/// Starts `job` on `srv`, recording each pass in `runs` as `node`'s.
fn record(srv: &TestServer, job: Job, node: &'static str, runs: &Runs) {
    let runs = runs.clone();
    jobs::every(&srv.state, job, move |_: AppState| {
        let runs = runs.clone();
        async move {
            runs.lock().unwrap().push((node, Timestamp::now()));
            Ok::<_, String>(())
        }
    });
}

const PERIOD: Duration = Duration::from_secs(2);

/// The period a pass fell in (passes start just after their period's boundary).
fn slot(at: Timestamp) -> i64 {
    at.0.div_euclid(PERIOD.as_micros() as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_once_per_period_across_two_nodes() {
    let Some(a) = TestServer::start(Backend::Postgres).await else {
        return;
    };
    let b = a.second_node().await;
    let once = Job {
        name: "test.once_across_nodes",
        every: PERIOD,
        once_across_nodes: true,
        at_start: false,
    };
    let each = Job {
        name: "test.on_every_node",
        once_across_nodes: false,
        ..once
    };
    let (once_runs, each_runs) = (Runs::default(), Runs::default());
    for (srv, node) in [(&a, "a"), (&b, "b")] {
        record(srv, once, node, &once_runs);
        record(srv, each, node, &each_runs);
    }
    until("four periods", || async {
        (once_runs.lock().unwrap().len() >= 4).then_some(())
    })
    .await;

    let runs = once_runs.lock().unwrap().clone();
    let mut slots: Vec<i64> = runs.iter().map(|(_, at)| slot(*at)).collect();
    slots.sort();
    let ran = slots.len();
    slots.dedup();
    assert_eq!(
        slots.len(),
        ran,
        "one pass per period across the nodes: {runs:?}"
    );
    let each = each_runs.lock().unwrap().clone();
    let on = |node| each.iter().filter(|(n, _)| *n == node).count();
    assert!(
        on("a") >= 2 && on("b") >= 2,
        "each node runs its own: {each:?}"
    );

    b.finish().await;
    a.finish().await;
}

/// The value of the sample `name` (with its labels, as exposed) in a scrape.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.parse().ok())
}

async fn scrape(srv: &TestServer) -> String {
    let res = srv.client().get(srv.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

backend_tests! {
    async fn metrics_show_jobs_writers_events_and_backups(srv) {
        let admin = srv.admin_token().await;
        let mut stream = srv
            .client()
            .get(srv.url("/api/v1/events/stream?topics=production_order"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        let movement = json!({"production_order": "M-1", "workcenter_id": 1, "quantity": 3, "order_type": "IN"});
        srv.create("/api/v1/production-orders", &admin, movement).await;
        let mut seen = String::new();
        tokio::time::timeout(Duration::from_secs(10), async {
            while !seen.contains("production_order.created") {
                let chunk = stream.chunk().await.unwrap().expect("the stream goes on");
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("the movement reaches the live stream");

        let asset = srv.create("/api/v1/assets", &admin, json!({"name": "Press 7"})).await;
        let metric = json!({"metric_name": "temperature"});
        srv.create(&format!("/api/v1/assets/{asset}/metrics"), &admin, metric).await;
        let now = Timestamp::now().0 / 1000;
        let points: Vec<_> = (0..5)
            .map(|i| json!({"asset_id": asset, "metric": "temperature", "ts": now - i * 1000, "value": 20.0}))
            .collect();
        let res = srv.post("/api/v1/telemetry", &admin, json!({"points": points})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);

        let failing = Job {
            name: "test.failing",
            every: Duration::from_secs(1),
            once_across_nodes: true,
            at_start: true,
        };
        jobs::every(&srv.state, failing, |_| async { Err::<(), _>("the disk is full") });

        let text = until("a failed pass and the overdue sweep's first run", || async {
            let text = scrape(srv).await;
            let failed = sample(&text, "job_failures_total{job=\"test.failing\"}");
            let swept = sample(&text, "job_runs_total{job=\"work.overdue_sweep\"}");
            (failed.is_some_and(|n| n >= 1.0) && swept.is_some_and(|n| n >= 1.0)).then_some(text)
        })
        .await;
        let runs = sample(&text, "job_runs_total{job=\"test.failing\"}").unwrap();
        assert!(runs >= 1.0, "a failed pass is a run too");
        assert_eq!(sample(&text, "job_failures_total{job=\"work.overdue_sweep\"}"), Some(0.0));
        for wanted in [
            "job_duration_seconds_bucket{job=\"work.overdue_sweep\",le=",
            "writer_queue_depth{writer=\"production\"} ",
            "writer_batch_size_bucket{writer=\"production\",le=",
            "writer_queue_depth{writer=\"telemetry\"} ",
            "writer_batch_size_bucket{writer=\"telemetry\",le=",
            "events_published_total{origin=\"local\"} ",
            "event_fanout_lag_seconds_bucket{to=\"reaction\",le=",
            "event_fanout_lag_seconds_bucket{to=\"stream\",le=",
            "backup_runs_total ",
            "backup_failures_total ",
            "http_requests_in_flight ",
            "# HELP job_runs_total ",
            "# HELP writer_batch_size ",
            "# HELP event_fanout_lag_seconds ",
        ] {
            assert!(text.contains(wanted), "{wanted} is missing from:\n{text}");
        }
        let batched = sample(&text, "writer_batch_size_sum{writer=\"telemetry\"}").unwrap();
        assert!(batched >= 5.0, "the five readings were written: {batched}");
    }
}

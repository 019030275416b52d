//! Archiving and retention of work orders, on SQLite and on PostgreSQL: closed work orders
//! old enough move (with their checklist, labor and comments) to the archive, stay
//! readable by id, in `?archived=true`, on their page and in the KPIs, refuse changes with
//! 409, and go for good past the retention. Ages are set by writing the closing instants
//! straight into the database.

use nexus_core::Timestamp;
use nexus_core::db::stmt;
use nexus_maintenance::service::archive;
use nexus_server::backend_tests;
use nexus_server::testing::{Resp, TestServer};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const DAY_US: i64 = 86_400_000_000;
const ARCHIVE: &str = "/api/v1/maintenance/archive";

/// What a finished run moved and deleted of `kind`.
fn moved(run: &Value, kind: &str) -> (u64, u64) {
    assert_eq!(run["status"], "done", "{run:?}");
    let counts = run["report"]["counts"].as_array().expect("counts");
    let c = counts.iter().find(|c| c["kind"] == kind).expect("the kind");
    (
        c["archived"].as_u64().unwrap(),
        c["deleted"].as_u64().unwrap(),
    )
}

async fn sql(srv: &TestServer, sql: &str, values: Vec<sea_orm::Value>) {
    let db = srv.state.db.write();
    db.execute_raw(stmt(db.get_database_backend(), sql, values))
        .await
        .unwrap();
}

/// Makes work order `id` (or archived `id`, in `table`) look closed `days` ago.
async fn closed_days_ago(srv: &TestServer, table: &str, id: i64, days: i64) {
    let at = Timestamp::now().0 - days * DAY_US;
    let q = format!(
        "UPDATE {table} SET updated_at = $1, completed_at = CASE WHEN completed_at IS NULL \
         THEN NULL ELSE $1 END, created_at = $1 - 3600000000 WHERE id = $2"
    );
    sql(srv, &q, vec![at.into(), id.into()]).await;
}

async fn new_order(srv: &TestServer, token: &str, body: Value) -> i64 {
    let res = srv.post("/api/v1/work-orders", token, body).await;
    assert_eq!(res.status, 201, "{:?}", res.json);
    res.json["id"].as_i64().unwrap()
}

async fn status(srv: &TestServer, token: &str, id: i64, to: &str) -> Resp {
    let path = format!("/api/v1/work-orders/{id}/status");
    srv.post(&path, token, json!({"status": to})).await
}

fn numbers(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["number"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

async fn count(srv: &TestServer, table: &str) -> i64 {
    let db = srv.state.db.read();
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            &format!("SELECT COUNT(*) AS n FROM {table}"),
            vec![],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn kpis(srv: &TestServer, token: &str) -> Value {
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(800);
    let res = srv
        .get(
            &format!("/api/v1/maintenance/kpis?from={from}&to={today}&bucket=month"),
            token,
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    res.json
}

backend_tests! {
    async fn archive_moves_old_closed_orders_and_keeps_them_readable(srv) {
        let admin = srv.admin_token().await;
        let site = srv.create("/api/v1/locations", &admin, json!({"name": "Plant"})).await;
        let pump = srv.create("/api/v1/assets", &admin, json!({"name": "Pump", "location_id": site})).await;
        let seal = srv.create("/api/v1/parts", &admin, json!({"sku": "SEAL-1", "name": "Seal", "unit_cost_cents": 2500})).await;
        let got = srv.post(&format!("/api/v1/parts/{seal}/receive"), &admin, json!({"location_id": site, "quantity": 5})).await;
        assert_eq!(got.status, 201, "{:?}", got.json);

        // Completed long ago, with a checklist, labor and a comment.
        let done = new_order(srv, &admin, json!({"title": "Replace seal", "asset_id": pump,
            "type": "corrective", "checklist": [{"task": "Lock out"}]})).await;
        let labor = srv.post(&format!("/api/v1/work-orders/{done}/labor"), &admin, json!({
            "started_at": "2025-01-01T08:00:00Z", "ended_at": "2025-01-01T09:30:00Z",
            "hourly_rate_cents": 6000})).await;
        assert_eq!(labor.status, 201, "{:?}", labor.json);
        let used = srv.post(&format!("/api/v1/work-orders/{done}/parts"), &admin,
            json!({"part_id": seal, "location_id": site, "quantity": 2})).await;
        assert_eq!(used.status, 201, "{:?}", used.json);
        let down = srv.post(&format!("/api/v1/assets/{pump}/downtime"), &admin, json!({
            "started_at": "2025-01-01T07:00:00Z", "ended_at": "2025-01-01T10:00:00Z",
            "work_order_id": done})).await;
        assert_eq!(down.status, 201, "{:?}", down.json);
        let comment = srv.post(&format!("/api/v1/work-orders/{done}/comments"), &admin,
            json!({"content": "Seal was cracked"})).await;
        assert_eq!(comment.status, 201);
        assert_eq!(status(srv, &admin, done, "completed").await.status, 200);
        // Cancelled long ago.
        let cancelled = new_order(srv, &admin, json!({"title": "Paint rail"})).await;
        assert_eq!(status(srv, &admin, cancelled, "cancelled").await.status, 200);
        // Completed recently, still open, and one followed up by a live order: all stay.
        let recent = new_order(srv, &admin, json!({"title": "Grease"})).await;
        assert_eq!(status(srv, &admin, recent, "completed").await.status, 200);
        let open = new_order(srv, &admin, json!({"title": "Check belts"})).await;
        let parent = new_order(srv, &admin, json!({"title": "Inspect"})).await;
        assert_eq!(status(srv, &admin, parent, "completed").await.status, 200);
        new_order(srv, &admin, json!({"title": "Fix leak", "parent_work_order_id": parent})).await;
        for id in [done, cancelled, open, parent] {
            closed_days_ago(srv, "work_orders", id, 400).await;
        }
        closed_days_ago(srv, "work_orders", recent, 30).await;
        let kpis_before = kpis(srv, &admin).await;
        assert_eq!(kpis_before["completed_work_orders"], 3);
        let labor_cost = kpis_before["labor_cost_cents"].clone();
        assert_eq!(labor_cost, 9000);

        // A dry run counts and changes nothing.
        let dry = archive::run(&srv.state, true).await.unwrap();
        assert!(dry.dry_run);
        assert_eq!(dry.of("work_orders").archived, 2, "{dry:?}");
        assert_eq!(dry.of("work_order_steps").archived, 1);
        assert_eq!(dry.of("work_order_labor").archived, 1);
        assert_eq!(dry.of("work_order_comments").archived, 1);
        assert_eq!(count(srv, "work_orders_archive").await, 0);
        assert_eq!(srv.get("/api/v1/work-orders", &admin).await.json["total"], 6);
        let audit = srv.get("/api/v1/audit-logs?entity_type=archive", &admin).await;
        assert_eq!(audit.json["items"].as_array().map(Vec::len), Some(0), "{:?}", audit.json);

        // The run moves exactly the two, with what belongs to them.
        let run = srv.archive_run(ARCHIVE, &admin).await;
        assert_eq!(moved(&run, "work_orders"), (2, 0));
        assert_eq!(moved(&run, "work_order_labor"), (1, 0));
        assert!(run["finished_at"].is_string() && run["seconds"].as_f64().unwrap() >= 0.0, "{run:?}");
        assert_eq!((count(srv, "work_orders").await, count(srv, "work_orders_archive").await), (4, 2));
        assert_eq!(count(srv, "work_order_comments_archive").await, 1);
        let again = srv.archive_run(ARCHIVE, &admin).await;
        assert_eq!(moved(&again, "work_orders"), (0, 0));

        // Audited with its counts, under the run's id, by whoever asked.
        let audit = srv.get("/api/v1/audit-logs?entity_type=archive&action=archive.run", &admin).await;
        let rows = audit.json["items"].as_array().unwrap().clone();
        assert_eq!(rows.len(), 2, "{rows:?}");
        let first = rows.iter().find(|r| r["new_state"]["counts"][0]["archived"] == 2).expect("the run with counts");
        assert_eq!(first["new_state"]["domain"], "maintenance");
        assert_eq!(first["new_state"]["counts"][0]["kind"], "work_orders");
        assert_eq!(first["entity_id"], run["id"]);
        assert_eq!(first["actor_id"], run["started_by"]);
        assert!(run["started_by"].is_i64());

        // Readable: by id, in the archived list with its filters, with labor, comments, history.
        let live = srv.get("/api/v1/work-orders", &admin).await.json;
        assert_eq!(live["total"], 4);
        let archived = srv.get("/api/v1/work-orders?archived=true", &admin).await;
        assert_eq!(archived.status, 200, "{:?}", archived.json);
        assert_eq!(numbers(&archived.json), ["WO-000001", "WO-000002"]);
        assert_eq!(archived.json["total"], 2);
        assert!(archived.json["items"][0]["archived_at"].is_string());
        let only = srv.get("/api/v1/work-orders?archived=true&status=cancelled", &admin).await.json;
        assert_eq!(numbers(&only), ["WO-000002"]);
        let by_asset = srv.get(&format!("/api/v1/work-orders?archived=true&asset_id={pump}&q=seal&sort=-criticality"), &admin).await;
        assert_eq!(numbers(&by_asset.json), ["WO-000001"], "{:?}", by_asset.json);
        assert_eq!(srv.get("/api/v1/work-orders?archived=true&status=lost", &admin).await.error_fields(), ["status"]);
        let one = srv.get(&format!("/api/v1/work-orders/{done}"), &admin).await;
        assert_eq!(one.status, 200);
        assert_eq!(one.json["status"], "completed");
        assert_eq!(one.json["checklist"][0]["task"], "Lock out");
        assert!(one.json["archived_at"].is_string());
        let labor = srv.get(&format!("/api/v1/work-orders/{done}/labor"), &admin).await;
        assert_eq!((labor.status, labor.json["items"][0]["minutes"].as_i64()), (200, Some(90)));
        let comments = srv.get(&format!("/api/v1/work-orders/{done}/comments"), &admin).await;
        assert_eq!(comments.json["items"][0]["content"], "Seal was cracked");
        let history = srv.get(&format!("/api/v1/work-orders/{done}/history"), &admin).await;
        assert_eq!(history.status, 200);
        assert!(history.json["total"].as_u64().unwrap() >= 4, "{:?}", history.json);
        // The ledger and the downtime stay where they are and still name it.
        let parts = srv.get(&format!("/api/v1/work-orders/{done}/parts"), &admin).await;
        assert_eq!((parts.status, parts.json["total_cost_cents"].as_i64()), (200, Some(5000)), "{:?}", parts.json);
        let downtime = srv.get(&format!("/api/v1/assets/{pump}/downtime"), &admin).await;
        assert_eq!(downtime.json["items"][0]["work_order_id"], done);
        assert_eq!(srv.get("/api/v1/work-orders/999999", &admin).await.status, 404);

        // The KPIs over the same range count them as before.
        let kpis_after = kpis(srv, &admin).await;
        assert_eq!(kpis_after["completed_work_orders"], 3);
        assert_eq!(kpis_after["labor_cost_cents"], labor_cost);
        assert_eq!(kpis_after["parts_cost_cents"], kpis_before["parts_cost_cents"]);
        assert_eq!(kpis_after["series"], kpis_before["series"]);

        // Read-only: every change is 409, saying why.
        let patch = srv.patch(&format!("/api/v1/work-orders/{done}"), &admin, json!({"title": "New"})).await;
        assert_eq!(patch.status, 409, "{:?}", patch.json);
        assert!(patch.json["detail"].as_str().unwrap().contains("archived"), "{:?}", patch.json);
        assert_eq!(status(srv, &admin, cancelled, "open").await.status, 409);
        for (path, body) in [
            (format!("/api/v1/work-orders/{done}/comments"), json!({"content": "late"})),
            (format!("/api/v1/work-orders/{done}/labor/start"), json!({})),
            (format!("/api/v1/work-orders/{done}/parts"), json!({"part_id": 1, "location_id": 1, "quantity": 1})),
        ] {
            let res = srv.post(&path, &admin, body).await;
            assert_eq!(res.status, 409, "POST {path}: {:?}", res.json);
        }
        let step = one.json["checklist"][0]["id"].as_i64().unwrap();
        let answer = srv.call("PUT", &format!("/api/v1/work-orders/{done}/checklist/{step}"), Some(&admin),
            Some(json!({"checked": true}))).await;
        assert_eq!(answer.status, 409);
        assert_eq!(count(srv, "work_order_comments").await, 0);

        // The same rules of who may see and do what as for live orders.
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        assert_eq!(srv.get(&format!("/api/v1/work-orders/{done}"), &guest).await.status, 200);
        assert_eq!(srv.get("/api/v1/work-orders?archived=true", &guest).await.json["total"], 2);
        let refused = srv.patch(&format!("/api/v1/work-orders/{done}"), &guest, json!({"title": "x"})).await;
        assert_eq!(refused.status, 403);
        assert_eq!(srv.post(&format!("/api/v1/work-orders/{done}/comments"), &guest, json!({"content": "x"})).await.status, 403);
        let nobody = srv.call("GET", &format!("/api/v1/work-orders/{done}"), None, None).await;
        assert_eq!(nobody.status, 401);

        // The pages: the order says it is archived and offers no change; the list has
        // an Archived choice.
        let (code, html) = srv.page(&format!("/maintenance/work-orders/{done}"), &admin).await;
        assert_eq!(code, 200);
        assert!(html.contains("id=\"wo-archived\"") && html.contains("Archived on"), "{html}");
        assert!(html.contains("Replace seal") && html.contains("Seal was cracked") && html.contains("SEAL-1"));
        for action in ["edit-work-order", "add-comment", "timer-start", "to-in_progress", "add-photo"] {
            assert!(!html.contains(action), "offers {action}");
        }
        let (code, html) = srv.page("/maintenance/work-orders?status=archived", &admin).await;
        assert_eq!(code, 200);
        assert!(html.contains("value=\"archived\" selected"));
        assert!(html.contains("WO-000001") && html.contains("WO-000002") && !html.contains("WO-000003"));
        let (_, live_page) = srv.page(&format!("/maintenance/work-orders/{open}"), &admin).await;
        assert!(!live_page.contains("wo-archived"));

        // Past the retention (seven years), gone for good with what was archived with it.
        closed_days_ago(srv, "work_orders_archive", cancelled, 7 * 365 + 2).await;
        let dry = archive::run(&srv.state, true).await.unwrap();
        assert_eq!(dry.of("work_orders").deleted, 1);
        let run = srv.archive_run(ARCHIVE, &admin).await;
        assert_eq!(moved(&run, "work_orders"), (0, 1));
        assert_eq!(srv.get(&format!("/api/v1/work-orders/{cancelled}"), &admin).await.status, 404);
        assert_eq!(srv.get(&format!("/api/v1/work-orders/{done}"), &admin).await.status, 200);
    }

    async fn an_order_and_its_follow_up_go_together(srv) {
        let admin = srv.admin_token().await;
        // A failed step opens a follow-up whose parent is the order: each refers to the
        // other, so they move in one batch or not at all.
        let first = new_order(srv, &admin, json!({"title": "Inspect pump", "checklist": [
            {"task": "Seal tight", "kind": "pass_fail", "create_follow_up": true}]})).await;
        let wo = srv.get(&format!("/api/v1/work-orders/{first}"), &admin).await.json;
        let step = wo["checklist"][0]["id"].as_i64().unwrap();
        let failed = srv.call("PUT", &format!("/api/v1/work-orders/{first}/checklist/{step}"), Some(&admin),
            Some(json!({"passed": false}))).await;
        assert_eq!(failed.status, 200, "{:?}", failed.json);
        let follow_up = failed.json["follow_up"]["id"].as_i64().unwrap();
        assert_eq!(status(srv, &admin, first, "completed").await.status, 200);
        closed_days_ago(srv, "work_orders", first, 500).await;
        // While the follow-up is open, neither moves.
        assert_eq!(moved(&srv.archive_run(ARCHIVE, &admin).await, "work_orders"), (0, 0));
        assert_eq!(status(srv, &admin, follow_up, "completed").await.status, 200);
        closed_days_ago(srv, "work_orders", follow_up, 450).await;
        let run = srv.archive_run(ARCHIVE, &admin).await;
        assert_eq!(moved(&run, "work_orders"), (2, 0));
        let child = srv.get(&format!("/api/v1/work-orders/{follow_up}"), &admin).await.json;
        assert_eq!(child["parent_work_order_id"], first);
        assert!(child["archived_at"].is_string());
    }

    async fn the_archive_migration_rolls_back_with_the_archive_put_back(srv) {
        use nexus_migration::{Migrator, MigratorTrait};
        let admin = srv.admin_token().await;
        let pump = srv.create("/api/v1/assets", &admin, json!({"name": "Pump"})).await;
        let done = new_order(srv, &admin, json!({"title": "Replace seal", "asset_id": pump,
            "checklist": [{"task": "Lock out"}]})).await;
        let down = srv.post(&format!("/api/v1/assets/{pump}/downtime"), &admin, json!({
            "started_at": "2025-01-01T07:00:00Z", "ended_at": "2025-01-01T10:00:00Z",
            "work_order_id": done})).await;
        assert_eq!(down.status, 201, "{:?}", down.json);
        assert_eq!(status(srv, &admin, done, "completed").await.status, 200);
        closed_days_ago(srv, "work_orders", done, 400).await;
        assert_eq!(moved(&srv.archive_run(ARCHIVE, &admin).await, "work_orders"), (1, 0));
        assert_eq!(count(srv, "work_orders_archive").await, 1);

        // Back to before the archive migration, through any that came after it.
        let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_string()).collect();
        let at = names.iter().position(|n| n == "m0020_archive").expect("the archive migration");
        let undo = u32::try_from(names.len() - at).unwrap();
        Migrator::down(srv.state.db.write(), Some(undo)).await.expect("down");
        assert_eq!(count(srv, "work_orders").await, 1);
        assert_eq!(count(srv, "work_order_checklist_items").await, 1);
        Migrator::up(srv.state.db.write(), None).await.expect("up again");
        assert_eq!(count(srv, "work_orders_archive").await, 0);
        assert_eq!(srv.get(&format!("/api/v1/work-orders/{done}"), &admin).await.json["archived_at"], Value::Null);
    }

    async fn archive_runs_go_on_in_the_background_one_at_a_time(srv) {
        let admin = srv.admin_token().await;
        let old_order = |title: &'static str| {
            let admin = admin.clone();
            async move {
                let id = new_order(srv, &admin, json!({"title": title})).await;
                assert_eq!(status(srv, &admin, id, "completed").await.status, 200);
                closed_days_ago(srv, "work_orders", id, 400).await;
                id
            }
        };
        let first = old_order("Grease bearings").await;

        // A run under way (here another node's, heard from just now) holds the domain:
        // a second is refused with 409 naming it and where to follow it.
        let now = Timestamp::now().0;
        sql(srv, "INSERT INTO archive_runs (domain, status, started_at, heartbeat_at) \
            VALUES ('maintenance', 'running', $1, $1)", vec![now.into()]).await;
        let other: i64 = {
            let db = srv.state.db.read();
            let row = db.query_one_raw(stmt(db.get_database_backend(),
                "SELECT MAX(id) AS n FROM archive_runs", vec![])).await.unwrap().unwrap();
            row.try_get("", "n").unwrap()
        };
        let refused = srv.post(ARCHIVE, &admin, json!({})).await;
        assert_eq!(refused.status, 409, "{:?}", refused.json);
        let detail = refused.json["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("archive run {other} ")) && detail.contains(&format!("{ARCHIVE}/runs/{other}")), "{detail}");
        let running = srv.get(&format!("{ARCHIVE}/runs/{other}"), &admin).await;
        assert_eq!((running.status, running.json["status"].as_str()), (200, Some("running")), "{:?}", running.json);
        assert_eq!((running.json["report"].clone(), running.json["finished_at"].clone()), (Value::Null, Value::Null));
        assert_eq!(count(srv, "work_orders_archive").await, 0);
        // A dry run still answers at once, and the other domain runs on its own.
        let dry = srv.post(&format!("{ARCHIVE}?dry_run=true"), &admin, json!({})).await;
        assert_eq!((dry.status, dry.json["counts"][0]["archived"].as_i64()), (200, Some(1)), "{:?}", dry.json);
        let telemetry = srv.archive_run("/api/v1/telemetry/archive", &admin).await;
        assert_eq!((telemetry["status"].as_str(), telemetry["domain"].as_str()), (Some("done"), Some("telemetry")));
        // Each domain answers for its own runs only.
        let theirs = format!("/api/v1/telemetry/archive/runs/{other}");
        assert_eq!(srv.get(&theirs, &admin).await.status, 404);
        assert_eq!(srv.get(&format!("{ARCHIVE}/runs/999999"), &admin).await.status, 404);

        // A run whose node went silent is over: shown failed, and no longer in the way.
        let silent = now - 120 * 1_000_000;
        sql(srv, "UPDATE archive_runs SET started_at = $1, heartbeat_at = $1 WHERE id = $2",
            vec![silent.into(), other.into()]).await;
        let lost = srv.get(&format!("{ARCHIVE}/runs/{other}"), &admin).await.json;
        assert_eq!(lost["status"], "failed", "{lost:?}");
        assert!(lost["error"].as_str().unwrap().contains("stopped"), "{lost:?}");
        let run = srv.archive_run(ARCHIVE, &admin).await;
        assert_eq!(moved(&run, "work_orders"), (1, 0));
        assert_ne!(run["id"], other);
        let lost = srv.get(&format!("{ARCHIVE}/runs/{other}"), &admin).await.json;
        assert_eq!((lost["status"].as_str(), lost["finished_at"].is_string()), (Some("failed"), true), "{lost:?}");
        assert!(srv.get(&format!("/api/v1/work-orders/{first}"), &admin).await.json["archived_at"].is_string());

        // A run that fails says so, and the next one runs.
        let second = old_order("Check belts").await;
        srv.post(&format!("/api/v1/work-orders/{second}/comments"), &admin, json!({"content": "Worn"})).await;
        sql(srv, "ALTER TABLE work_order_comments_archive RENAME TO comments_elsewhere", vec![]).await;
        let failed = srv.archive_run(ARCHIVE, &admin).await;
        assert_eq!(failed["status"], "failed", "{failed:?}");
        assert!(failed["error"].is_string() && failed["report"].is_null() && failed["finished_at"].is_string(), "{failed:?}");
        assert_eq!(count(srv, "work_orders_archive").await, 1, "the failed batch moved nothing");
        sql(srv, "ALTER TABLE comments_elsewhere RENAME TO work_order_comments_archive", vec![]).await;
        assert_eq!(moved(&srv.archive_run(ARCHIVE, &admin).await, "work_order_comments"), (1, 0));
        let audit = srv.get("/api/v1/audit-logs?entity_type=archive&action=archive.run", &admin).await;
        let audited = audit.json["items"].as_array().map(Vec::len);
        assert_eq!(audited, Some(3), "the telemetry run and the two that were done: {:?}", audit.json);

        // Followed by those who may run it.
        let staff = srv.user_token(&admin, "sam", "staff").await;
        assert_eq!(srv.get(&format!("{ARCHIVE}/runs/{}", run["id"]), &staff).await.status, 403);
        assert_eq!(srv.post(ARCHIVE, &staff, json!({})).await.status, 403);
    }

    async fn the_archive_endpoints_are_for_managers(srv) {
        let admin = srv.admin_token().await;
        for role in ["guest", "user", "staff"] {
            let token = srv.user_token(&admin, &format!("someone-{role}"), role).await;
            let res = srv.post("/api/v1/maintenance/archive?dry_run=true", &token, json!({})).await;
            assert_eq!(res.status, 403, "{role}");
            let res = srv.post("/api/v1/telemetry/archive?dry_run=true", &token, json!({})).await;
            assert_eq!(res.status, 403, "{role}");
        }
        let manager = srv.user_token(&admin, "boss", "manager").await;
        let dry = srv.post("/api/v1/maintenance/archive?dry_run=true", &manager, json!({})).await;
        assert_eq!(dry.status, 200, "{:?}", dry.json);
        assert_eq!((dry.json["domain"].as_str(), dry.json["dry_run"].as_bool()), (Some("maintenance"), Some(true)));
        assert_eq!(dry.json["counts"][0], json!({"kind": "work_orders", "archived": 0, "deleted": 0}));
        let dry = srv.post("/api/v1/telemetry/archive?dry_run=true", &manager, json!({})).await;
        assert_eq!(dry.status, 200, "{:?}", dry.json);
        assert_eq!(srv.post("/api/v1/maintenance/archive?dry_run=maybe", &manager, json!({})).await.error_fields(), ["dry_run"]);
    }
}

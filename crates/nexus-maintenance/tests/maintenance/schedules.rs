//! Preventive maintenance schedules and their generator, on SQLite and on PostgreSQL.
//! The generator is driven with chosen days through `run_due_schedules`; schedules sit in
//! the future, so the real-time background pass never touches them.

use std::time::Duration;

use chrono::NaiveDate;
use nexus_maintenance::service::run_due_schedules;
use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
use serde_json::json;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Runs the generator as of `today`: the due dates of what it made.
async fn run(srv: &TestServer, today: &str) -> Vec<String> {
    run_due_schedules(&srv.state, day(today))
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.due_date.unwrap())
        .collect()
}

async fn next_due(srv: &TestServer, token: &str, id: i64) -> String {
    srv.get(&format!("/api/v1/pm-schedules/{id}"), token)
        .await
        .json["next_due"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn close(srv: &TestServer, token: &str, wo: i64, status: &str) {
    let res = srv
        .post(
            &format!("/api/v1/work-orders/{wo}/status"),
            token,
            json!({"status": status}),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
}

backend_tests! {
    async fn scheduled_basis_generates_ahead_and_never_two_open(srv) {
        let admin = srv.admin_token().await;
        let pump = srv.create("/api/v1/assets", &admin, json!({"name": "Pump"})).await;
        let res = srv.post("/api/v1/pm-schedules", &admin, json!({
            "asset_id": pump, "title": "Monthly lubrication", "priority": "high",
            "interval_value": 1, "interval_unit": "months", "next_due": "2031-01-31", "lead_days": 7,
            "estimated_minutes": 45,
            "checklist": [{"task": "Grease bearings"}, {"task": "Vibration", "kind": "number", "min_value": 0.0, "max_value": 4.5, "unit": "mm/s"}]
        })).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!((res.json["basis"].as_str(), res.json["type"].as_str(), res.json["start_date"].as_str()), (Some("scheduled"), Some("preventive"), Some("2031-01-31")));
        let id = res.json["id"].as_i64().unwrap();

        assert!(run(srv, "2031-01-23").await.is_empty(), "not yet within the lead days");
        assert_eq!(run(srv, "2031-01-24").await, ["2031-01-31"]);
        let wo = srv.get(&format!("/api/v1/pm-schedules/{id}"), &admin).await.json["last_work_order_id"].as_i64().unwrap();
        let w = srv.get(&format!("/api/v1/work-orders/{wo}"), &admin).await.json;
        assert_eq!((w["type"].as_str(), w["priority"].as_str(), w["title"].as_str()), (Some("preventive"), Some("high"), Some("Monthly lubrication")));
        assert_eq!((w["pm_schedule_id"].as_i64(), w["dedupe_key"].as_str(), w["estimated_minutes"].as_i64()), (Some(id), Some(format!("pm:{id}").as_str()), Some(45)));
        assert_eq!(w["asset_id"], pump);
        assert_eq!(w["checklist"].as_array().unwrap().len(), 2);
        assert_eq!(w["checklist"][1]["unit"], "mm/s");
        // Jan 31 + 1 calendar month is the end of February.
        assert_eq!(next_due(srv, &admin, id).await, "2031-02-28");

        // Never two open work orders from one schedule: not by the generator, not on request.
        assert!(run(srv, "2031-02-21").await.is_empty());
        assert!(run(srv, "2031-02-21").await.is_empty());
        let again = srv.post(&format!("/api/v1/pm-schedules/{id}/generate"), &admin, json!({})).await;
        assert_eq!(again.status, 409);
        assert_eq!(again.error_fields(), ["dedupe_key"]);
        let open = srv.get(&format!("/api/v1/work-orders?status=open,in_progress,on_hold&asset_id={pump}"), &admin).await;
        assert_eq!(open.json["total"], 1);

        // Once it is closed the next one comes, counted from the schedule (Mar 31, not Mar 28).
        close(srv, &admin, wo, "completed").await;
        assert_eq!(run(srv, "2031-02-21").await, ["2031-02-28"]);
        assert_eq!(next_due(srv, &admin, id).await, "2031-03-31");
        let second = srv.get(&format!("/api/v1/pm-schedules/{id}"), &admin).await.json["last_work_order_id"].as_i64().unwrap();
        close(srv, &admin, second, "cancelled").await;
        assert_eq!(run(srv, "2031-03-24").await, ["2031-03-31"]);
        assert_eq!(next_due(srv, &admin, id).await, "2031-04-30");

        // Inactive schedules generate nothing.
        let third = srv.get(&format!("/api/v1/pm-schedules/{id}"), &admin).await.json["last_work_order_id"].as_i64().unwrap();
        close(srv, &admin, third, "completed").await;
        let off = srv.call("PATCH", &format!("/api/v1/pm-schedules/{id}"), Some(&admin), Some(json!({"active": false}))).await;
        assert_eq!(off.status, 200, "{:?}", off.json);
        assert!(run(srv, "2031-04-30").await.is_empty());
        let inactive = srv.post(&format!("/api/v1/pm-schedules/{id}/generate"), &admin, json!({})).await;
        assert_eq!(inactive.error_fields(), ["active"]);
        assert_eq!(srv.get(&format!("/api/v1/work-orders?asset_id={pump}"), &admin).await.json["total"], 3);
    }

    async fn completion_basis_counts_from_the_day_it_was_closed(srv) {
        let admin = srv.admin_token().await;
        let fan = srv.create("/api/v1/assets", &admin, json!({"name": "Fan"})).await;
        let id = srv.create("/api/v1/pm-schedules", &admin, json!({
            "asset_id": fan, "title": "Filter change", "interval_value": 10, "interval_unit": "days",
            "basis": "completion", "next_due": "2031-06-01"
        })).await;
        let generated = srv.post(&format!("/api/v1/pm-schedules/{id}/generate"), &admin, json!({})).await;
        assert_eq!(generated.status, 201, "{:?}", generated.json);
        assert_eq!(generated.json["due_date"], "2031-06-01");
        assert_eq!(next_due(srv, &admin, id).await, "2031-06-01", "waits for the completion");
        assert!(run(srv, "2031-06-05").await.is_empty());

        // Closing it moves the schedule (the generator reacts to the event).
        let mut events = srv.state.events.subscribe();
        close(srv, &admin, generated.json["id"].as_i64().unwrap(), "completed").await;
        let today = chrono::Utc::now().date_naive();
        let expected = (today + chrono::TimeDelta::days(10)).format("%Y-%m-%d").to_string();
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let e = events.recv().await.unwrap();
                if e.kind == "pm_schedule.updated" && e.id == id {
                    return;
                }
            }
        })
        .await
        .expect("the schedule moves after the completion");
        assert_eq!(next_due(srv, &admin, id).await, expected);
        let before = (today + chrono::TimeDelta::days(9)).format("%Y-%m-%d").to_string();
        assert!(run(srv, &before).await.is_empty());
        assert_eq!(run(srv, &expected).await, std::slice::from_ref(&expected));
        assert_eq!(next_due(srv, &admin, id).await, expected, "the next waits for this one's completion");
    }

    async fn schedule_validation_rights_and_deletion(srv) {
        let admin = srv.admin_token().await;
        let pump = srv.create("/api/v1/assets", &admin, json!({"name": "Pump"})).await;
        let bad = srv.post("/api/v1/pm-schedules", &admin, json!({
            "asset_id": pump, "title": " ", "type": "party", "interval_value": 0, "interval_unit": "years",
            "basis": "whenever", "next_due": "2031-01-01", "lead_days": -1,
            "checklist": [{"task": "x", "kind": "dance"}]
        })).await;
        assert_eq!(bad.status, 422);
        let mut fields = bad.error_fields();
        fields.sort();
        assert_eq!(fields, ["basis", "checklist[0].kind", "interval_unit", "interval_value", "lead_days", "title", "type"]);
        let body = |asset: i64| json!({"asset_id": asset, "title": "Inspect", "interval_value": 2, "interval_unit": "weeks", "next_due": "2031-01-01"});
        assert_eq!(srv.post("/api/v1/pm-schedules", &admin, body(999999)).await.error_fields(), ["asset_id"]);
        let staff = srv.user_token(&admin, "tech", "staff").await;
        assert_eq!(srv.post("/api/v1/pm-schedules", &staff, body(pump)).await.status, 403);
        let id = srv.create("/api/v1/pm-schedules", &admin, body(pump)).await;
        assert_eq!(srv.get("/api/v1/pm-schedules", &staff).await.json["total"], 1);
        assert_eq!(srv.post(&format!("/api/v1/pm-schedules/{id}/generate"), &staff, json!({})).await.status, 403);
        assert_eq!(srv.get("/api/v1/pm-schedules/999999", &admin).await.status, 404);
        assert_eq!(srv.post("/api/v1/pm-schedules/999999/generate", &admin, json!({})).await.status, 404);

        let path = format!("/api/v1/pm-schedules/{id}");
        let moved = srv.call("PATCH", &path, Some(&admin), Some(json!({"next_due": "2031-03-05"}))).await;
        assert_eq!(moved.status, 200, "{:?}", moved.json);
        assert_eq!((moved.json["start_date"].as_str(), moved.json["version"].as_i64()), (Some("2031-03-05"), Some(2)));
        let stale = srv.client().patch(srv.url(&path)).bearer_auth(&admin).header("if-match", "\"1\"")
            .json(&json!({"title": "Stale"})).send().await.unwrap();
        assert_eq!(stale.status(), 412);
        assert_eq!(srv.call("PATCH", &path, Some(&admin), Some(json!({"interval_unit": "fortnights"}))).await.error_fields(), ["interval_unit"]);

        // One that generated work stays (deactivate it instead); an unused one can go.
        assert_eq!(srv.post(&format!("{path}/generate"), &admin, json!({})).await.status, 201);
        assert_eq!(srv.call("DELETE", &path, Some(&admin), None).await.status, 409);
        let unused = srv.create("/api/v1/pm-schedules", &admin, body(pump)).await;
        assert_eq!(srv.call("DELETE", &format!("/api/v1/pm-schedules/{unused}"), Some(&admin), None).await.status, 204);
        let audit = srv.get(&format!("/api/v1/audit-logs?entity_type=pm_schedule&entity_id={id}"), &admin).await;
        let actions: Vec<_> = audit.json["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["update", "update", "create"]);
    }
}

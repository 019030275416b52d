//! Preventive maintenance schedules and their generator, on SQLite and on PostgreSQL.
//! The generator is driven with chosen days through `run_due_schedules`; schedules sit in
//! the future, so the real-time background pass never touches them.

use std::time::Duration;

use crate::common::{create, get, post};
use chrono::NaiveDate;
use nexus_maintenance::service::run_due_schedules;
use nexus_server::backend_tests;
use nexus_server::testing::{Resp, TestServer};
use serde_json::{Value, json};

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
    get(srv, token, &format!("/api/v1/pm-schedules/{id}"))
        .await
        .json["next_due"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn close(srv: &TestServer, token: &str, wo: i64, status: &str) {
    let res = post(
        srv,
        token,
        &format!("/api/v1/work-orders/{wo}/status"),
        json!({"status": status}),
    )
    .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
}

backend_tests! {
    async fn scheduled_basis_generates_ahead_and_never_two_open(srv) {
        let admin = srv.admin_token().await;
        let pump = create(srv, &admin, "/api/v1/assets", json!({"name": "Pump"})).await;
        let res = post(srv, &admin, "/api/v1/pm-schedules", json!({
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
        let wo = get(srv, &admin, &format!("/api/v1/pm-schedules/{id}")).await.json["last_work_order_id"].as_i64().unwrap();
        let w = get(srv, &admin, &format!("/api/v1/work-orders/{wo}")).await.json;
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
        let again = post(srv, &admin, &format!("/api/v1/pm-schedules/{id}/generate"), json!({})).await;
        assert_eq!(again.status, 409);
        assert_eq!(again.error_fields(), ["dedupe_key"]);
        let open = get(srv, &admin, &format!("/api/v1/work-orders?status=open,in_progress,on_hold&asset_id={pump}")).await;
        assert_eq!(open.json["total"], 1);

        // Once it is closed the next one comes, counted from the schedule (Mar 31, not Mar 28).
        close(srv, &admin, wo, "completed").await;
        assert_eq!(run(srv, "2031-02-21").await, ["2031-02-28"]);
        assert_eq!(next_due(srv, &admin, id).await, "2031-03-31");
        let second = get(srv, &admin, &format!("/api/v1/pm-schedules/{id}")).await.json["last_work_order_id"].as_i64().unwrap();
        close(srv, &admin, second, "cancelled").await;
        assert_eq!(run(srv, "2031-03-24").await, ["2031-03-31"]);
        assert_eq!(next_due(srv, &admin, id).await, "2031-04-30");

        // Inactive schedules generate nothing.
        let third = get(srv, &admin, &format!("/api/v1/pm-schedules/{id}")).await.json["last_work_order_id"].as_i64().unwrap();
        close(srv, &admin, third, "completed").await;
        let off = srv.call("PATCH", &format!("/api/v1/pm-schedules/{id}"), Some(&admin), Some(json!({"active": false}))).await;
        assert_eq!(off.status, 200, "{:?}", off.json);
        assert!(run(srv, "2031-04-30").await.is_empty());
        let inactive = post(srv, &admin, &format!("/api/v1/pm-schedules/{id}/generate"), json!({})).await;
        assert_eq!(inactive.error_fields(), ["active"]);
        assert_eq!(get(srv, &admin, &format!("/api/v1/work-orders?asset_id={pump}")).await.json["total"], 3);
    }

    async fn completion_basis_counts_from_the_day_it_was_closed(srv) {
        let admin = srv.admin_token().await;
        let fan = create(srv, &admin, "/api/v1/assets", json!({"name": "Fan"})).await;
        let id = create(srv, &admin, "/api/v1/pm-schedules", json!({
            "asset_id": fan, "title": "Filter change", "interval_value": 10, "interval_unit": "days",
            "basis": "completion", "next_due": "2031-06-01"
        })).await;
        let generated = post(srv, &admin, &format!("/api/v1/pm-schedules/{id}/generate"), json!({})).await;
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
        let pump = create(srv, &admin, "/api/v1/assets", json!({"name": "Pump"})).await;
        let bad = post(srv, &admin, "/api/v1/pm-schedules", json!({
            "asset_id": pump, "title": " ", "type": "party", "interval_value": 0, "interval_unit": "years",
            "basis": "whenever", "next_due": "2031-01-01", "lead_days": -1,
            "checklist": [{"task": "x", "kind": "dance"}]
        })).await;
        assert_eq!(bad.status, 422);
        let mut fields = bad.error_fields();
        fields.sort();
        assert_eq!(fields, ["basis", "checklist[0].kind", "interval_unit", "interval_value", "lead_days", "title", "type"]);
        let body = |asset: i64| json!({"asset_id": asset, "title": "Inspect", "interval_value": 2, "interval_unit": "weeks", "next_due": "2031-01-01"});
        assert_eq!(post(srv, &admin, "/api/v1/pm-schedules", body(999999)).await.error_fields(), ["asset_id"]);
        let staff = srv.user_token(&admin, "tech", "staff").await;
        assert_eq!(post(srv, &staff, "/api/v1/pm-schedules", body(pump)).await.status, 403);
        let id = create(srv, &admin, "/api/v1/pm-schedules", body(pump)).await;
        assert_eq!(get(srv, &staff, "/api/v1/pm-schedules").await.json["total"], 1);
        assert_eq!(post(srv, &staff, &format!("/api/v1/pm-schedules/{id}/generate"), json!({})).await.status, 403);
        assert_eq!(get(srv, &admin, "/api/v1/pm-schedules/999999").await.status, 404);
        assert_eq!(post(srv, &admin, "/api/v1/pm-schedules/999999/generate", json!({})).await.status, 404);

        let path = format!("/api/v1/pm-schedules/{id}");
        let moved = srv.call("PATCH", &path, Some(&admin), Some(json!({"next_due": "2031-03-05"}))).await;
        assert_eq!(moved.status, 200, "{:?}", moved.json);
        assert_eq!((moved.json["start_date"].as_str(), moved.json["version"].as_i64()), (Some("2031-03-05"), Some(2)));
        let stale = srv.client().patch(srv.url(&path)).bearer_auth(&admin).header("if-match", "\"1\"")
            .json(&json!({"title": "Stale"})).send().await.unwrap();
        assert_eq!(stale.status(), 412);
        assert_eq!(srv.call("PATCH", &path, Some(&admin), Some(json!({"interval_unit": "fortnights"}))).await.error_fields(), ["interval_unit"]);

        // One that generated work stays (deactivate it instead); an unused one can go.
        assert_eq!(post(srv, &admin, &format!("{path}/generate"), json!({})).await.status, 201);
        assert_eq!(srv.call("DELETE", &path, Some(&admin), None).await.status, 409);
        let unused = create(srv, &admin, "/api/v1/pm-schedules", body(pump)).await;
        assert_eq!(srv.call("DELETE", &format!("/api/v1/pm-schedules/{unused}"), Some(&admin), None).await.status, 204);
        let audit = get(srv, &admin, &format!("/api/v1/audit-logs?entity_type=pm_schedule&entity_id={id}")).await;
        let actions: Vec<_> = audit.json["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["update", "update", "create"]);
    }
}

//! Work orders through real HTTP, on SQLite and on PostgreSQL.

use nexus_server::backend_tests;
use nexus_server::testing::{Resp, TestServer, csrf};
use serde_json::{Value, json};

async fn create(srv: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let res = srv.post(path, token, body).await;
    assert_eq!(res.status, 201, "POST {path}: {:?}", res.json);
    res.json
}

async fn status(srv: &TestServer, token: &str, id: i64, to: &str) -> Resp {
    srv.post(
        &format!("/api/v1/work-orders/{id}/status"),
        token,
        json!({"status": to}),
    )
    .await
}

fn numbers(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["number"].as_str().unwrap().to_string())
        .collect()
}

backend_tests! {
    async fn create_get_list_and_move_along_transitions(srv) {
        let admin = srv.admin_token().await;
        let site = create(srv, &admin, "/api/v1/locations", json!({"name": "Plant"})).await["id"].as_i64().unwrap();
        let pump = create(srv, &admin, "/api/v1/assets", json!({"name": "Pump", "location_id": site})).await["id"].as_i64().unwrap();

        let wo = create(srv, &admin, "/api/v1/work-orders", json!({
            "title": "  Replace seal ", "asset_id": pump, "type": "corrective", "priority": "high",
            "due_date": "2026-12-01", "estimated_minutes": 90,
            "checklist": [
                {"task": "Lock out", "required": true},
                {"task": "Pressure", "kind": "number", "min_value": 1.0, "max_value": 6.0, "unit": "bar"}
            ]
        })).await;
        assert_eq!(wo["number"], "WO-000001");
        assert_eq!(wo["title"], "Replace seal");
        assert_eq!(wo["status"], "open");
        assert_eq!(wo["location_id"], site, "the asset's location is taken");
        assert_eq!(wo["checklist"].as_array().unwrap().len(), 2);
        assert_eq!(wo["checklist"][1]["sequence"], 2);
        assert_eq!(wo["checklist"][1]["kind"], "number");
        let id = wo["id"].as_i64().unwrap();
        let second = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Inspect", "type": "inspection"})).await;
        assert_eq!(second["number"], "WO-000002");
        assert_eq!(second["priority"], "medium");

        let one = srv.get(&format!("/api/v1/work-orders/{id}"), &admin).await;
        assert_eq!(one.status, 200);
        assert_eq!(one.header("etag"), Some("\"1\""));
        assert_eq!(one.json["checklist"][0]["task"], "Lock out");
        assert_eq!(srv.get("/api/v1/work-orders/999999", &admin).await.status, 404);

        let all = srv.get("/api/v1/work-orders", &admin).await.json;
        assert_eq!(numbers(&all), ["WO-000002", "WO-000001"]);
        assert_eq!((all["total"].as_u64(), all["total_exact"].as_bool()), (Some(2), Some(true)));
        let page = srv.get("/api/v1/work-orders?limit=1&offset=1", &admin).await.json;
        assert_eq!((numbers(&page), page["total"].as_u64()), (vec!["WO-000001".to_string()], Some(2)));
        assert_eq!(numbers(&srv.get(&format!("/api/v1/work-orders?asset_id={pump}&status=open,in_progress"), &admin).await.json), ["WO-000001"]);
        assert_eq!(numbers(&srv.get("/api/v1/work-orders?priority=high", &admin).await.json), ["WO-000001"]);
        assert_eq!(numbers(&srv.get("/api/v1/work-orders?type=inspection", &admin).await.json), ["WO-000002"]);
        assert_eq!(numbers(&srv.get("/api/v1/work-orders?due_from=2026-11-01&due_to=2026-12-01", &admin).await.json), ["WO-000001"]);
        assert_eq!(numbers(&srv.get("/api/v1/work-orders?q=wo-000002", &admin).await.json), ["WO-000002"]);
        assert_eq!(numbers(&srv.get("/api/v1/work-orders?sort=title", &admin).await.json), ["WO-000002", "WO-000001"]);
        assert_eq!(srv.get("/api/v1/work-orders?status=open,broken", &admin).await.error_fields(), ["status"]);
        assert_eq!(srv.get("/api/v1/work-orders?due_from=soon", &admin).await.error_fields(), ["due_from"]);

        let started = status(srv, &admin, id, "in_progress").await;
        assert_eq!(started.status, 200, "{:?}", started.json);
        assert!(started.json["started_at"].is_string());
        assert_eq!(started.json["version"], 2);
        let blocked = status(srv, &admin, id, "completed").await;
        assert_eq!(blocked.status, 409);
        assert!(blocked.json["detail"].as_str().unwrap().contains("1. Lock out"), "{:?}", blocked.json);

        let done = status(srv, &admin, second["id"].as_i64().unwrap(), "completed").await;
        assert_eq!(done.status, 200, "{:?}", done.json);
        assert!(done.json["completed_at"].is_string());
        assert_eq!(done.json["actual_minutes"], 0);
        let back = status(srv, &admin, second["id"].as_i64().unwrap(), "open").await;
        assert_eq!(back.status, 409);
        assert!(back.json["detail"].as_str().unwrap().contains("from completed to open"));
        assert_eq!(status(srv, &admin, id, "finished").await.error_fields(), ["status"]);
    }

    async fn assignment_cancel_and_roles(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "gina", "guest").await;
        let sam = srv.create_user(&admin, "sam", "staff").await;
        let staff = srv.login("sam", "sam-password").await;
        let other = srv.create_user(&admin, "olga", "staff").await;

        assert_eq!(srv.post("/api/v1/work-orders", &guest, json!({"title": "G"})).await.status, 403);
        assert_eq!(srv.get("/api/v1/work-orders", &guest).await.status, 200);
        assert_eq!(srv.call("GET", "/api/v1/work-orders", None, None).await.status, 401);
        // Staff create and take work orders, but give them to others only as managers.
        assert_eq!(srv.post("/api/v1/work-orders", &staff, json!({"title": "S", "assigned_to_id": other})).await.status, 403);
        let mine = create(srv, &staff, "/api/v1/work-orders", json!({"title": "Mine", "assigned_to_id": sam})).await;
        assert_eq!(mine["assigned_to_id"], sam);
        let id = create(srv, &staff, "/api/v1/work-orders", json!({"title": "Leak"})).await["id"].as_i64().unwrap();
        let path = format!("/api/v1/work-orders/{id}");
        assert_eq!(srv.call("PATCH", &path, Some(&staff), Some(json!({"assigned_to_id": other}))).await.status, 403);
        let took = srv.call("PATCH", &path, Some(&staff), Some(json!({"assigned_to_id": sam, "priority": "critical"}))).await;
        assert_eq!(took.status, 200, "{:?}", took.json);
        assert_eq!(took.json["priority"], "critical");
        let given = srv.call("PATCH", &path, Some(&admin), Some(json!({"assigned_to_id": other}))).await;
        assert_eq!(given.status, 200);
        assert_eq!(given.json["assigned_to_id"], other);
        assert_eq!(srv.call("PATCH", &path, Some(&staff), Some(json!({"assigned_to_id": null}))).await.status, 403);
        assert_eq!(srv.call("PATCH", &path, Some(&admin), Some(json!({"assigned_to_id": 999999}))).await.error_fields(), ["assigned_to_id"]);
        assert_eq!(srv.call("PATCH", &path, Some(&admin), Some(json!({"priority": "urgent", "title": ""}))).await.error_fields(), ["title", "priority"]);
        assert_eq!(srv.call("PATCH", &path, Some(&admin), Some(json!({"colour": "red"}))).await.status, 422);

        // Stale If-Match is 412 and changes nothing.
        let stale = srv.client().patch(srv.url(&path)).bearer_auth(&admin).header("if-match", "\"1\"").json(&json!({"title": "X"})).send().await.unwrap();
        assert_eq!(stale.status(), 412);
        assert_eq!(srv.get(&path, &admin).await.json["title"], "Leak");

        assert_eq!(status(srv, &staff, id, "cancelled").await.status, 403);
        assert_eq!(status(srv, &guest, id, "in_progress").await.status, 403);
        let cancelled = status(srv, &admin, id, "cancelled").await;
        assert_eq!(cancelled.status, 200);
        assert!(cancelled.json["completed_at"].is_null());
        let closed = srv.call("PATCH", &path, Some(&admin), Some(json!({"title": "Again"}))).await;
        assert_eq!(closed.status, 409);
        assert_eq!(status(srv, &admin, id, "in_progress").await.status, 409);

        let history = srv.get(&format!("{path}/history"), &admin).await;
        let actions: Vec<_> = history.json["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["create", "update", "update", "status_change"]);
    }

    async fn dedupe_key_allows_one_open_work_order(srv) {
        let admin = srv.admin_token().await;
        let first = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Alert", "dedupe_key": "rule:7:asset:3"})).await;
        let again = srv.post("/api/v1/work-orders", &admin, json!({"title": "Alert", "dedupe_key": "rule:7:asset:3"})).await;
        assert_eq!(again.status, 409);
        assert_eq!(again.error_fields(), ["dedupe_key"]);
        assert!(again.json["detail"].as_str().unwrap().contains("WO-000001"));
        // The refused one took no number.
        let other = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Other"})).await;
        assert_eq!(other["number"], "WO-000002");
        assert_eq!(status(srv, &admin, first["id"].as_i64().unwrap(), "completed").await.status, 200);
        let next = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Alert", "dedupe_key": "rule:7:asset:3"})).await;
        assert_eq!(next["number"], "WO-000003");
    }

    async fn checklist_answers_and_follow_ups(srv) {
        let admin = srv.admin_token().await;
        let pump = create(srv, &admin, "/api/v1/assets", json!({"name": "Pump"})).await["id"].as_i64().unwrap();
        let bad = srv.post("/api/v1/work-orders", &admin, json!({"title": "T", "checklist": [
            {"task": "", "kind": "dial"}, {"task": "ok", "kind": "number", "min_value": 5, "max_value": 1},
            {"task": "x", "create_follow_up": true}
        ]})).await;
        assert_eq!(bad.error_fields(), ["checklist[0].task", "checklist[0].kind", "checklist[1].max_value", "checklist[2].create_follow_up"]);
        assert_eq!(srv.get("/api/v1/work-orders", &admin).await.json["total"], 0);

        let wo = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Inspect pump", "asset_id": pump, "type": "inspection", "priority": "high", "checklist": [
            {"task": "Guard in place", "required": true},
            {"task": "Pressure", "kind": "number", "min_value": 1.5, "max_value": 6, "unit": "bar", "required": true},
            {"task": "Noise", "kind": "text"},
            {"task": "Seal tight", "kind": "pass_fail", "required": true, "create_follow_up": true}
        ]})).await;
        let id = wo["id"].as_i64().unwrap();
        let item = |i: usize| wo["checklist"][i]["id"].as_i64().unwrap();
        let admin_ref = &admin;
        let answer = |i: usize, body: Value| {
            let path = format!("/api/v1/work-orders/{id}/checklist/{}", item(i));
            async move { srv.call("PUT", &path, Some(admin_ref), Some(body)).await }
        };

        // A reading out of its limits is what the inspection is for: stored, the step failed.
        let out = answer(1, json!({"number_value": 7.2})).await;
        assert_eq!(out.status, 200, "{:?}", out.json);
        assert_eq!((out.json["item"]["number_value"].as_f64(), out.json["item"]["passed"].as_bool()), (Some(7.2), Some(false)));
        assert_eq!(answer(1, json!({"checked": true})).await.error_fields(), ["checked", "number_value"]);
        assert_eq!(answer(1, json!({"number_value": 4.5, "passed": true})).await.error_fields(), ["passed"]);
        assert_eq!(answer(2, json!({"text_value": "  "})).await.error_fields(), ["text_value"]);
        assert_eq!(answer(2, json!({"checked": true})).await.error_fields(), ["checked", "text_value"], "each error once");
        assert_eq!(srv.call("PUT", &format!("/api/v1/work-orders/{id}/checklist/999999"), Some(&admin), Some(json!({"checked": true}))).await.status, 404);

        let ok = answer(1, json!({"number_value": 4.5})).await;
        assert_eq!(ok.status, 200, "{:?}", ok.json);
        assert_eq!(ok.json["item"]["is_completed"], true);
        assert_eq!(ok.json["item"]["number_value"], 4.5);
        assert_eq!(ok.json["item"]["passed"], true);
        assert!(ok.json["follow_up"].is_null());
        assert_eq!(answer(0, json!({"checked": true})).await.json["item"]["is_completed"], true);
        assert_eq!(answer(0, json!({"checked": false})).await.json["item"]["is_completed"], false);
        assert_eq!(answer(0, json!({"checked": true})).await.status, 200);

        let failed = answer(3, json!({"passed": false, "notes": "drips"})).await;
        assert_eq!(failed.status, 200, "{:?}", failed.json);
        let follow = &failed.json["follow_up"];
        assert_eq!(follow["type"], "corrective");
        assert_eq!(follow["asset_id"], pump);
        assert_eq!(follow["parent_work_order_id"], id);
        assert_eq!(follow["priority"], "high");
        assert_eq!(follow["description"], "drips");
        assert!(follow["title"].as_str().unwrap().contains("Seal tight"));
        assert_eq!(failed.json["item"]["follow_up_work_order_id"], follow["id"]);
        // Failing it again while the follow-up is open opens no second one.
        let again = answer(3, json!({"passed": false})).await;
        assert!(again.json["follow_up"].is_null());
        assert_eq!(srv.get(&format!("/api/v1/work-orders?asset_id={pump}&type=corrective"), &admin).await.json["total"], 1);

        let done = status(srv, &admin, id, "completed").await;
        assert_eq!(done.status, 200, "{:?}", done.json);
        assert_eq!(answer(0, json!({"checked": false})).await.status, 409);
        let history = srv.get(&format!("/api/v1/work-orders/{id}/history"), &admin).await;
        let answers = history.json["items"].as_array().unwrap().iter().filter(|e| e["entity_type"] == "work_order_checklist_item").count();
        assert_eq!(answers, 7, "the out-of-limits reading is one of them");
    }

    async fn labor_timers_entries_and_comments(srv) {
        let admin = srv.admin_token().await;
        let staff = srv.user_token(&admin, "sam", "staff").await;
        let other = srv.create_user(&admin, "olga", "staff").await;
        let id = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Rebuild gearbox"})).await["id"].as_i64().unwrap();
        let labor = format!("/api/v1/work-orders/{id}/labor");

        let entry = create(srv, &admin, &labor, json!({"started_at": "2026-01-05T08:00:00Z", "ended_at": "2026-01-05T09:30:00Z", "hourly_rate_cents": 6000, "note": "dismantle"})).await;
        assert_eq!(entry["minutes"], 90);
        assert_eq!(entry["cost_cents"], 9000);
        let overlap = srv.post(&labor, &admin, json!({"started_at": "2026-01-05T09:00:00Z", "ended_at": "2026-01-05T10:00:00Z"})).await;
        assert_eq!(overlap.status, 409);
        assert!(overlap.json["detail"].as_str().unwrap().contains("overlaps"));
        // Back to back is fine; another person's time may overlap.
        assert_eq!(srv.post(&labor, &admin, json!({"started_at": "2026-01-05T09:30:00Z", "ended_at": "2026-01-05T09:45:00Z"})).await.status, 201);
        assert_eq!(srv.post(&labor, &admin, json!({"user_id": other, "started_at": "2026-01-05T08:00:00Z", "ended_at": "2026-01-05T08:30:00Z"})).await.status, 201);
        assert_eq!(srv.post(&labor, &staff, json!({"user_id": other, "started_at": "2026-01-06T08:00:00Z", "ended_at": "2026-01-06T08:30:00Z"})).await.status, 403);
        assert_eq!(srv.post(&labor, &admin, json!({"started_at": "2026-01-05T08:00:00Z", "ended_at": "2026-01-05T07:00:00Z"})).await.error_fields(), ["ended_at"]);
        assert_eq!(srv.post(&labor, &admin, json!({"started_at": "2999-01-05T08:00:00Z", "ended_at": "2999-01-05T09:00:00Z"})).await.error_fields(), ["ended_at"]);
        assert_eq!(srv.post(&labor, &admin, json!({"started_at": "yesterday", "ended_at": "2026-01-05T07:00:00Z"})).await.status, 422);
        assert_eq!(srv.post(&labor, &admin, json!({"started_at": "2026-01-04T08:00:00Z", "ended_at": "2026-01-04T09:00:00Z", "hourly_rate_cents": -5})).await.error_fields(), ["hourly_rate_cents"]);

        assert_eq!(srv.post(&format!("{labor}/stop"), &staff, json!({})).await.status, 409);
        let started = srv.post(&format!("{labor}/start"), &staff, json!({"note": "on site"})).await;
        assert_eq!(started.status, 201, "{:?}", started.json);
        assert!(started.json["ended_at"].is_null());
        assert_eq!(srv.post(&format!("{labor}/start"), &staff, json!({})).await.status, 409);
        let stopped = srv.post(&format!("{labor}/stop"), &staff, json!({})).await;
        assert_eq!(stopped.status, 200);
        assert_eq!(stopped.json["minutes"], 0);
        // A timer left running is stopped when the work order completes.
        assert_eq!(srv.post(&format!("{labor}/start"), &staff, json!({})).await.status, 201);
        let done = status(srv, &admin, id, "completed").await;
        assert_eq!(done.json["actual_minutes"], 90 + 15 + 30);
        let all = srv.get(&labor, &admin).await.json;
        assert_eq!(all["total"], 5);
        assert!(all["items"].as_array().unwrap().iter().all(|l| l["ended_at"].is_string()));
        // Paged, in the order worked unless sorted otherwise.
        let longest = srv.get(&format!("{labor}?sort=-minutes&limit=1"), &admin).await.json;
        assert_eq!((longest["total"].as_u64(), longest["items"][0]["minutes"].as_i64()), (Some(5), Some(90)));
        assert_eq!(srv.post(&format!("{labor}/start"), &staff, json!({})).await.status, 409);

        let comments = format!("/api/v1/work-orders/{id}/comments");
        let c = create(srv, &staff, &comments, json!({"content": " Gearbox was full of metal. "})).await;
        assert_eq!(c["content"], "Gearbox was full of metal.");
        assert_eq!(srv.post(&comments, &staff, json!({"content": ""})).await.error_fields(), ["content"]);
        assert_eq!(srv.post("/api/v1/work-orders/999999/comments", &admin, json!({"content": "x"})).await.status, 404);
        assert_eq!(srv.get(&comments, &staff).await.json["items"].as_array().unwrap().len(), 1);
        let history = srv.get(&format!("/api/v1/work-orders/{id}/history"), &admin).await;
        let kinds: Vec<_> = history.json["items"].as_array().unwrap().iter().map(|e| format!("{}:{}", e["entity_type"].as_str().unwrap(), e["action"].as_str().unwrap())).collect();
        assert_eq!(kinds.first().unwrap(), "work_order:create");
        assert!(kinds.contains(&"work_order_labor:stop".to_string()));
        assert_eq!(kinds.last().unwrap(), "work_order_comment:create");
    }

    async fn status_forms_carry_the_version_they_show(srv) {
        let admin = srv.admin_token().await;
        let staff = srv.user_token(&admin, "sam", "staff").await;
        let id = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Check belt"})).await["id"].as_i64().unwrap();
        let page = format!("/maintenance/work-orders/{id}");
        let (status, html) = srv.page(&page, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains(r#"name="version" value="1""#), "{html}");
        let token = csrf(&html);
        // Someone else changed it after the page was drawn: the move is refused, and says so.
        assert_eq!(srv.call("PATCH", &format!("/api/v1/work-orders/{id}"), Some(&admin), Some(json!({"priority": "high"}))).await.status, 200);
        let post = format!("{page}/status");
        let (status, _, html) = srv.submit(&post, &admin, &[("csrf", &token), ("status", "in_progress"), ("version", "1")]).await;
        assert_eq!(status, 412);
        assert!(html.contains("Someone else changed this record"), "{html}");
        assert_eq!(srv.get(&format!("/api/v1/work-orders/{id}"), &admin).await.json["status"], "open");
        let (status, to, _) = srv.submit(&post, &admin, &[("csrf", &token), ("status", "in_progress"), ("version", "2")]).await;
        assert_eq!((status, to), (303, format!("{page}?done=status#status")));
        // Cancelling needs work_orders:manage on the page as on the API.
        let (_, html) = srv.page(&page, &staff).await;
        let staff_token = csrf(&html);
        let (status, _, _) = srv.submit(&post, &staff, &[("csrf", &staff_token), ("status", "cancelled"), ("version", "3")]).await;
        assert_eq!(status, 403);
        assert_eq!(srv.get(&format!("/api/v1/work-orders/{id}"), &admin).await.json["status"], "in_progress");
    }

    async fn asset_going_down_records_downtime(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "gina", "guest").await;
        let id = create(srv, &admin, "/api/v1/assets", json!({"name": "Press"})).await["id"].as_i64().unwrap();
        let path = format!("/api/v1/assets/{id}");
        let patch = |body: Value| {
            let path = path.clone();
            let admin = admin.clone();
            async move { srv.call("PATCH", &path, Some(&admin), Some(body)).await }
        };
        assert_eq!(patch(json!({"downtime_reason": "why"})).await.error_fields(), ["downtime_reason"]);
        assert_eq!(patch(json!({"status": "down", "downtime_reason": "Hydraulic leak"})).await.status, 200);
        // Still down (maintenance) keeps the interval open; a rename changes nothing.
        assert_eq!(patch(json!({"status": "maintenance"})).await.status, 200);
        assert_eq!(patch(json!({"name": "Press 1"})).await.status, 200);
        let open = srv.get(&format!("{path}/downtime"), &guest).await;
        assert_eq!(open.status, 200);
        assert_eq!(open.json["total"], 1);
        assert_eq!(open.json["items"][0]["reason"], "Hydraulic leak");
        assert!(open.json["items"][0]["ended_at"].is_null());
        assert_eq!(patch(json!({"status": "operational"})).await.status, 200);
        assert_eq!(patch(json!({"status": "down"})).await.status, 200);
        assert_eq!(patch(json!({"status": "operational"})).await.status, 200);
        let all = &srv.get(&format!("{path}/downtime"), &admin).await.json["items"];
        assert_eq!(all.as_array().unwrap().len(), 2);
        assert!(all.as_array().unwrap().iter().all(|d| d["ended_at"].is_string()));
        assert!(all[1]["started_at"].as_str().unwrap() <= all[0]["started_at"].as_str().unwrap());
        assert_eq!(srv.get("/api/v1/assets/999999/downtime", &admin).await.status, 404);
        let born_down = create(srv, &admin, "/api/v1/assets", json!({"name": "Old lathe", "status": "down"})).await["id"].as_i64().unwrap();
        assert_eq!(srv.get(&format!("/api/v1/assets/{born_down}/downtime"), &admin).await.json["total"], 1);
        let audit = srv.get("/api/v1/audit-logs?entity_type=asset_downtime", &admin).await;
        assert_eq!(audit.json["items"].as_array().unwrap().len(), 5);
    }

    async fn large_lists_page_in_order_whatever_the_filter(srv) {
        // Past the count cap the list walks its sort order; below it, it sorts the
        // matches. Both must give the same rows in the same order.
        nexus_maintenance::service::seed::seed(&srv.state, 1011, 10_200, &|_, _| {}).await.unwrap();
        let admin = srv.admin_token().await;
        let page = |q: &'static str| {
            let admin = admin.clone();
            async move {
                let res = srv.get(&format!("/api/v1/work-orders?{q}"), &admin).await;
                assert_eq!(res.status, 200, "{q}: {:?}", res.json);
                res.json
            }
        };
        let all = page("limit=100").await;
        assert_eq!(all["total_exact"], false);
        let ids: Vec<i64> = all["items"].as_array().unwrap().iter().map(|w| w["id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 100);
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
        let oldest = page("limit=5&sort=id").await;
        assert!(oldest["items"][0]["id"].as_i64().unwrap() < ids[99]);

        for q in ["status=on_hold&limit=20", "status=on_hold&limit=20&offset=20", "priority=critical&status=open,in_progress&limit=20", "status=on_hold&sort=-due_date&limit=20"] {
            let few = page(q).await;
            assert_eq!(few["total_exact"], true, "{q}");
            let items = few["items"].as_array().unwrap();
            assert!(!items.is_empty(), "{q}");
            let key = |w: &Value| if q.contains("due_date") { w["due_date"].to_string() } else { format!("{:020}", w["id"].as_i64().unwrap()) };
            assert!(items.windows(2).all(|w| key(&w[0]) >= key(&w[1])), "{q}: not in order");
            assert!(items.iter().all(|w| w["status"] == "on_hold" || !q.starts_with("status=on_hold")), "{q}");
        }
        // Past the count cap, criticality sorts by its rank as below it.
        let critical = page("sort=-criticality&limit=20").await;
        assert_eq!(critical["items"].as_array().unwrap().len(), 20);
        // Paging the few-matches path: the two pages follow each other.
        let p1 = page("status=on_hold&limit=20").await;
        let p2 = page("status=on_hold&limit=20&offset=20").await;
        let last = p1["items"][19]["id"].as_i64().unwrap();
        let first = p2["items"][0]["id"].as_i64().unwrap();
        assert!(last > first, "{last} then {first}");
    }
}

backend_tests! {
    async fn starting_takes_the_order_and_completing_dates_the_asset(srv) {
        let admin = srv.admin_token().await;
        let tech = srv.user_token(&admin, "tara", "staff").await;
        let tara = srv.get("/api/v1/auth/me", &tech).await.json["id"].as_i64().unwrap();
        let pump = srv.create("/api/v1/assets", &admin, json!({"name": "Dosing pump"})).await;
        let wo = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Recalibrate", "asset_id": pump})).await;
        let id = wo["id"].as_i64().unwrap();
        assert!(wo["assigned_to_id"].is_null());
        // Whoever starts an order nobody was given takes it.
        let started = status(srv, &tech, id, "in_progress").await;
        assert_eq!(started.status, 200, "{:?}", started.json);
        assert_eq!(started.json["assigned_to_id"], tara);
        // Put on hold, then finished straight from there.
        assert_eq!(status(srv, &tech, id, "on_hold").await.status, 200);
        let done = status(srv, &tech, id, "completed").await;
        assert_eq!(done.status, 200, "{:?}", done.json);
        let today = chrono::Utc::now().date_naive().to_string();
        let asset = srv.get(&format!("/api/v1/assets/{pump}"), &admin).await;
        assert_eq!(asset.json["last_maintenance_date"], today.as_str(), "{:?}", asset.json);
        // An order somebody was given stays theirs when another starts it.
        let given = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Grease", "assigned_to_id": tara})).await;
        let other = srv.user_token(&admin, "otto", "staff").await;
        let res = status(srv, &other, given["id"].as_i64().unwrap(), "in_progress").await;
        assert_eq!(res.json["assigned_to_id"], tara);
    }
}

backend_tests! {
    async fn downtime_carries_its_work_order_and_past_stops_are_recorded(srv) {
        let admin = srv.admin_token().await;
        let press = srv.create("/api/v1/assets", &admin, json!({"name": "Press 4"})).await;
        let other = srv.create("/api/v1/assets", &admin, json!({"name": "Press 5"})).await;
        // Down, worked on, back up: the interval names the order that fixed it.
        let res = srv.patch(&format!("/api/v1/assets/{press}"), &admin, json!({"status": "down", "downtime_reason": "Hydraulic leak"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let wo = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Fix leak", "asset_id": press})).await;
        let wo_id = wo["id"].as_i64().unwrap();
        assert_eq!(status(srv, &admin, wo_id, "in_progress").await.status, 200);
        assert_eq!(srv.patch(&format!("/api/v1/assets/{press}"), &admin, json!({"status": "operational"})).await.status, 200);
        let list = srv.get(&format!("/api/v1/assets/{press}/downtime"), &admin).await;
        assert_eq!(list.json["items"][0]["work_order_id"], wo_id, "{:?}", list.json);

        // A stop recorded after the fact.
        let path = format!("/api/v1/assets/{press}/downtime");
        let start = chrono::Utc::now() - chrono::TimeDelta::days(3);
        let t = |d: chrono::DateTime<chrono::Utc>| d.to_rfc3339();
        let body = json!({"started_at": t(start), "ended_at": t(start + chrono::TimeDelta::hours(2)), "reason": "Power cut", "work_order_id": wo_id});
        let res = srv.post(&path, &admin, body.clone()).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!((res.json["reason"].as_str(), res.json["work_order_id"].as_i64()), (Some("Power cut"), Some(wo_id)));
        assert_eq!(srv.post(&path, &admin, body).await.error_fields(), ["started_at"], "overlap");
        let bad = srv.post(&path, &admin, json!({"started_at": t(start), "ended_at": t(start - chrono::TimeDelta::hours(1))})).await;
        assert_eq!(bad.error_fields(), ["ended_at"]);
        let future = srv.post(&path, &admin, json!({"started_at": t(chrono::Utc::now()), "ended_at": t(chrono::Utc::now() + chrono::TimeDelta::hours(1))})).await;
        assert_eq!(future.error_fields(), ["ended_at"]);
        let elsewhere = srv.post(&format!("/api/v1/assets/{other}/downtime"), &admin, json!({"started_at": t(start), "ended_at": t(start + chrono::TimeDelta::hours(1)), "work_order_id": wo_id})).await;
        assert_eq!(elsewhere.error_fields(), ["work_order_id"]);
        let guest = srv.user_token(&admin, "gus", "guest").await;
        assert_eq!(srv.post(&path, &guest, json!({"started_at": t(start), "ended_at": t(start)})).await.status, 403);
        assert_eq!(srv.get(&path, &admin).await.json["total"], 2);

        // From the asset's page: a stop typed in, and a refused one saying why.
        let (_, html) = srv.page(&format!("/maintenance/assets/{press}"), &admin).await;
        assert!(html.contains("id=\"record-downtime\"") && html.contains(&format!("/maintenance/work-orders/{wo_id}\">#{wo_id}")), "{html}");
        let token = csrf(&html);
        let local = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT%H:%M").to_string();
        let day = chrono::Utc::now() - chrono::TimeDelta::days(10);
        let form = format!("/maintenance/assets/{press}/downtime");
        let (code, to, _) = srv.submit(&form, &admin, &[("csrf", &token), ("started_at", &local(day)), ("ended_at", &local(day + chrono::TimeDelta::hours(1))), ("reason", "Jam"), ("work_order_id", "")]).await;
        assert_eq!((code, to.as_str()), (303, format!("/maintenance/assets/{press}?done=downtime#down-h").as_str()));
        let (code, _, html) = srv.submit(&form, &admin, &[("csrf", &token), ("started_at", "lunch"), ("ended_at", &local(day)), ("reason", ""), ("work_order_id", "")]).await;
        assert_eq!(code, 422);
        assert!(html.contains("The stop was not recorded. Started at: must be a date and time") || html.contains("started at: must be a date and time"), "{html}");
        assert_eq!(srv.get(&path, &admin).await.json["total"], 3);
    }
}

backend_tests! {
    async fn parts_used_are_in_the_work_order_history(srv) {
        let admin = srv.admin_token().await;
        let store = srv.create("/api/v1/locations", &admin, json!({"name": "Stores"})).await;
        let part = srv.create("/api/v1/parts", &admin, json!({"sku": "FLT-1", "name": "Filter"})).await;
        let r = srv.post(&format!("/api/v1/parts/{part}/receive"), &admin, json!({"location_id": store, "quantity": 5})).await;
        assert_eq!(r.status, 201, "{:?}", r.json);
        let wo = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Change filter"})).await;
        let id = wo["id"].as_i64().unwrap();
        let used = srv.post(&format!("/api/v1/work-orders/{id}/parts"), &admin, json!({"part_id": part, "location_id": store, "quantity": 2})).await;
        assert_eq!(used.status, 201, "{:?}", used.json);
        let history = srv.get(&format!("/api/v1/work-orders/{id}/history"), &admin).await;
        let kinds: Vec<&str> = history.json["items"].as_array().unwrap().iter().map(|e| e["entity_type"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"stock_movement"), "{kinds:?}");
    }
}

backend_tests! {
    async fn labor_entries_are_corrected_and_deleted(srv) {
        let admin = srv.admin_token().await;
        let sam = srv.user_token(&admin, "sam", "staff").await;
        let kim = srv.user_token(&admin, "kim", "staff").await;
        let wo = create(srv, &admin, "/api/v1/work-orders", json!({"title": "Rewire"})).await;
        let id = wo["id"].as_i64().unwrap();
        let labor = format!("/api/v1/work-orders/{id}/labor");
        let at = |h: i64| (chrono::Utc::now() - chrono::TimeDelta::hours(h)).to_rfc3339();
        let first = srv.post(&labor, &sam, json!({"started_at": at(5), "ended_at": at(4)})).await;
        assert_eq!(first.status, 201, "{:?}", first.json);
        let second = srv.post(&labor, &sam, json!({"started_at": at(2), "ended_at": at(1)})).await;
        let one = format!("{labor}/{}", first.json["id"]);
        // Sam moves the end of the first entry: minutes follow.
        let res = srv.patch_if(&one, &sam, 1, json!({"ended_at": at(3), "note": "cable run"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!((res.json["minutes"].as_i64(), res.json["note"].as_str(), res.json["version"].as_i64()), (Some(120), Some("cable run"), Some(2)));
        assert_eq!(srv.patch_if(&one, &sam, 1, json!({"note": "x"})).await.status, 412);
        let overlap = srv.patch_if(&one, &sam, 2, json!({"ended_at": at(0)})).await;
        assert_eq!(overlap.status, 409, "{:?}", overlap.json);
        assert_eq!(srv.patch(&one, &sam, json!({"ended_at": at(6)})).await.error_fields(), ["ended_at"]);
        // Kim may not touch Sam's time; a manager may.
        assert_eq!(srv.patch(&one, &kim, json!({"note": "mine"})).await.status, 403);
        assert_eq!(srv.call("DELETE", &format!("{labor}/{}", second.json["id"]), Some(&kim), None).await.status, 403);
        assert_eq!(srv.call("DELETE", &format!("{labor}/{}", second.json["id"]), Some(&admin), None).await.status, 204);
        let listed = srv.get(&labor, &admin).await;
        assert_eq!(listed.json["total"], 1);
        // The same from the work order page.
        let (_, html) = srv.page(&format!("/maintenance/work-orders/{id}"), &sam).await;
        let entry = first.json["id"].as_i64().unwrap();
        assert!(html.contains(&format!("id=\"labor-{entry}\"")), "{html}");
        let token = csrf(&html);
        let from = (chrono::Utc::now() - chrono::TimeDelta::hours(6)).format("%Y-%m-%dT%H:%M").to_string();
        let to = (chrono::Utc::now() - chrono::TimeDelta::hours(5)).format("%Y-%m-%dT%H:%M").to_string();
        let page_path = format!("/maintenance/work-orders/{id}/labor/{entry}");
        let (code, to_page, _) = srv.submit(&page_path, &sam, &[("csrf", &token), ("version", "2"), ("started_at", &from), ("ended_at", &to), ("note", "moved"), ("action", "save")]).await;
        assert_eq!((code, to_page.as_str()), (303, format!("/maintenance/work-orders/{id}?done=labor_saved#labor").as_str()));
        let (code, _, html) = srv.submit(&page_path, &sam, &[("csrf", &token), ("version", "3"), ("started_at", "soon"), ("ended_at", &to), ("action", "save")]).await;
        assert_eq!(code, 422, "{html}");
        let (code, _, _) = srv.submit(&page_path, &sam, &[("csrf", &token), ("version", "3"), ("action", "delete")]).await;
        assert_eq!(code, 303);
        assert_eq!(srv.get(&labor, &admin).await.json["total"], 0);
        // A running timer is stopped before it is corrected.
        let timer = srv.post(&format!("{labor}/start"), &kim, json!({})).await;
        assert_eq!(timer.status, 201, "{:?}", timer.json);
        let running = format!("{labor}/{}", timer.json["id"]);
        assert_eq!(srv.patch(&running, &kim, json!({"note": "x"})).await.status, 409);
        // A closed order's time is final.
        assert_eq!(status(srv, &admin, id, "completed").await.status, 200);
        assert_eq!(srv.patch(&running, &kim, json!({"note": "late"})).await.status, 409);
    }
}

backend_tests! {
    async fn work_orders_sort_by_their_assets_criticality(srv) {
        let admin = srv.admin_token().await;
        let mut ids = Vec::new();
        for (name, criticality) in [("Fan", json!("C")), ("Press", json!("A")), ("Lamp", Value::Null), ("Pump", json!("B"))] {
            let asset = create(srv, &admin, "/api/v1/assets", json!({"name": name, "criticality": criticality})).await["id"].as_i64().unwrap();
            ids.push(create(srv, &admin, "/api/v1/work-orders", json!({"title": format!("Service {name}"), "asset_id": asset})).await["id"].as_i64().unwrap());
        }
        create(srv, &admin, "/api/v1/work-orders", json!({"title": "Sweep the floor"})).await;
        // WO-1 Fan C, WO-2 Press A, WO-3 Lamp none, WO-4 Pump B, WO-5 no asset.
        let most = numbers(&srv.get("/api/v1/work-orders?sort=-criticality", &admin).await.json);
        assert_eq!(most, ["WO-000002", "WO-000004", "WO-000001", "WO-000005", "WO-000003"], "A, B, C, then none, newest first");
        let least = numbers(&srv.get("/api/v1/work-orders?sort=criticality", &admin).await.json);
        assert_eq!(least, ["WO-000003", "WO-000005", "WO-000001", "WO-000004", "WO-000002"]);
        let paged = srv.get("/api/v1/work-orders?sort=-criticality&limit=2&offset=1", &admin).await.json;
        assert_eq!(numbers(&paged), ["WO-000004", "WO-000001"]);
        assert_eq!(paged["total"], 5);

        // A changed criticality reorders the list at once.
        let patched = srv.patch(&format!("/api/v1/assets/{}", srv.get(&format!("/api/v1/work-orders/{}", ids[0]), &admin).await.json["asset_id"]), &admin, json!({"criticality": "A"})).await;
        assert_eq!(patched.status, 200, "{:?}", patched.json);
        assert_eq!(numbers(&srv.get("/api/v1/work-orders?sort=-criticality&limit=2", &admin).await.json), ["WO-000002", "WO-000001"]);

        // The page offers the order and keeps it while paging.
        let (code, html) = srv.page("/maintenance/work-orders?status=all&sort=-criticality", &admin).await;
        assert_eq!(code, 200);
        assert!(html.contains(r#"<option value="-criticality" selected>"#), "{html}");
        let at = |n: &str| html.find(&format!(">{n}</a>")).unwrap_or_else(|| panic!("{n} not listed"));
        assert!(at("WO-000002") < at("WO-000001") && at("WO-000001") < at("WO-000004") && at("WO-000004") < at("WO-000005"));
        let (code, html) = srv.page("/maintenance/work-orders?sort=secret", &admin).await;
        assert_eq!(code, 422);
        assert!(html.contains("can sort by"), "the field says why");
    }
}

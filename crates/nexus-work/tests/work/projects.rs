//! Projects, teams, tasks, dependencies and worklogs through real HTTP, on SQLite and PostgreSQL.

use nexus_server::backend_tests;
use nexus_server::testing::{Resp, TestServer};
use serde_json::{Value, json};

async fn created(srv: &TestServer, path: &str, token: &str, body: Value) -> Value {
    let res = srv.post(path, token, body).await;
    assert_eq!(res.status, 201, "POST {path}: {:?}", res.json);
    res.json
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

/// The single field a 422 or 409 names, and its message.
fn refused(res: &Resp, status: u16) -> (String, String) {
    assert_eq!(res.status, status, "{:?}", res.json);
    let e = &res.json["errors"][0];
    (
        e["field"].as_str().unwrap_or_default().to_string(),
        e["message"].as_str().unwrap_or_default().to_string(),
    )
}

fn task(project: i64, title: &str, start: &str, due: &str, hours: f64) -> (String, Value) {
    (
        format!("/api/v1/projects/{project}/tasks"),
        json!({"title": title, "start_date": start, "due_date": due, "estimated_hours": hours}),
    )
}

backend_tests! {
    async fn a_project_with_its_team_tasks_worklogs_and_costs(srv) {
        let admin = srv.admin_token().await;
        let mia_id = srv.create_user(&admin, "mia", "staff").await;
        let mia = srv.login("mia", "mia-password").await;
        let ann_id = srv.create_user(&admin, "ann", "user").await;
        let ann = srv.login("ann", "ann-password").await;
        let bob_id = srv.create_user(&admin, "bob", "user").await;
        let eve = srv.user_token(&admin, "eve", "user").await;
        let gone = srv.create_user(&admin, "gone", "user").await;
        let res = srv.patch(&format!("/api/v1/users/{gone}"), &admin, json!({"is_active": false})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);

        // Bad input, each naming its field.
        let base = json!({"name": "Line 4 retrofit", "start_date": "2025-03-01", "end_date": "2025-06-30"});
        let with = |k: &str, v: Value| { let mut b = base.clone(); b[k] = v; b };
        let res = srv.post("/api/v1/projects", &mia, with("end_date", json!("2025-02-01"))).await;
        assert_eq!(refused(&res, 422).0, "end_date");
        let res = srv.post("/api/v1/projects", &mia, with("status", json!("bogus"))).await;
        assert_eq!(refused(&res, 422).0, "status");
        let res = srv.post("/api/v1/projects", &mia, with("priority", json!("urgent"))).await;
        assert_eq!(refused(&res, 422).0, "priority");
        let res = srv.post("/api/v1/projects", &mia, with("manager_id", json!(gone))).await;
        assert_eq!(refused(&res, 422).0, "manager_id");

        let p = created(srv, "/api/v1/projects", &mia, with("budget_minor", json!(1_000_000))).await;
        let pid = id(&p);
        assert_eq!(p["manager"], "mia");
        assert_eq!(p["status"], "planning");
        assert_eq!(p["start_date"], "2025-03-01");
        assert_eq!(p["completion_percent"], 0.0);
        assert_eq!(p["team"], json!([]));

        // The team: active users once; only the manager changes it.
        let team = format!("/api/v1/projects/{pid}/team");
        let res = created(srv, &team, &mia, json!({"user_id": ann_id})).await;
        assert_eq!(res["items"][0]["username"], "ann");
        assert_eq!(refused(&srv.post(&team, &mia, json!({"user_id": ann_id})).await, 409).0, "user_id");
        assert_eq!(refused(&srv.post(&team, &mia, json!({"user_id": gone})).await, 422).0, "user_id");
        assert_eq!(srv.post(&team, &ann, json!({"user_id": bob_id})).await.status, 403);
        assert_eq!(srv.patch(&format!("/api/v1/projects/{pid}"), &ann, json!({"budget_minor": 5})).await.status, 403);

        // Visibility: not on it, not there.
        let res = srv.get(&format!("/api/v1/projects/{pid}"), &eve).await;
        assert_eq!(res.status, 404);
        let res = srv.get("/api/v1/projects", &eve).await;
        assert_eq!(res.json["total"], 0, "{:?}", res.json);
        let res = srv.get("/api/v1/projects?status=planning,active&q=line", &ann).await;
        assert_eq!(res.json["total"], 1, "{:?}", res.json);
        assert_eq!(srv.get(&format!("/api/v1/projects?member_id={ann_id}"), &mia).await.json["total"], 1);
        assert_eq!(refused(&srv.get("/api/v1/projects?status=nope", &mia).await, 422).0, "status");

        // Tasks: the assignee must be active and on the team (or the manager).
        let (path, body) = task(pid, "Weld frame", "2025-03-03", "2025-03-07", 10.0);
        let res = srv.post(&path, &ann, json!({"title": "X", "start_date": "2025-03-05", "due_date": "2025-03-01"})).await;
        assert_eq!(refused(&res, 422).0, "due_date");
        let mut bad = body.clone();
        bad["assignee_id"] = json!(bob_id);
        let (field, message) = refused(&srv.post(&path, &mia, bad.clone()).await, 422);
        assert_eq!((field.as_str(), message.as_str()), ("assignee_id", "is not on the project's team"));
        bad["assignee_id"] = json!(gone);
        assert_eq!(refused(&srv.post(&path, &mia, bad).await, 422).0, "assignee_id");
        assert_eq!(srv.post(&path, &eve, body.clone()).await.status, 404);
        let mut good = body.clone();
        good["assignee_id"] = json!(ann_id);
        let weld = created(srv, &path, &ann, good).await;
        assert_eq!(weld["assignee"], "ann");
        assert_eq!(weld["estimated_hours"], 10.0);
        let (_, body) = task(pid, "Paint", "2025-03-10", "2025-03-12", 6.0);
        let paint = created(srv, &path, &mia, body).await;
        let (_, mut body) = task(pid, "Assemble", "2025-03-13", "2025-03-14", 4.0);
        body["assignee_id"] = json!(mia_id);
        created(srv, &path, &mia, body).await;
        let weld_path = format!("/api/v1/tasks/{}", id(&weld));
        assert_eq!(srv.get(&weld_path, &eve).await.status, 404);
        assert_eq!(srv.get(&weld_path, &ann).await.json["project_id"], pid);

        // Worklogs: positive hours, not in the future; for others only as the manager.
        let logs = format!("{weld_path}/worklogs");
        created(srv, &logs, &ann, json!({"hours": 4, "worked_on": "2025-03-03", "note": "Tacking"})).await;
        created(srv, &logs, &mia, json!({"hours": 2.5, "worked_on": "2025-03-04", "user_id": ann_id})).await;
        assert_eq!(refused(&srv.post(&logs, &ann, json!({"hours": -1})).await, 422).0, "hours");
        assert_eq!(refused(&srv.post(&logs, &ann, json!({"hours": 0})).await, 422).0, "hours");
        assert_eq!(refused(&srv.post(&logs, &ann, json!({"hours": 25})).await, 422).0, "hours");
        let res = srv.post(&logs, &ann, json!({"hours": 1, "worked_on": "2999-01-01"})).await;
        assert_eq!(refused(&res, 422).0, "worked_on");
        assert_eq!(srv.post(&logs, &ann, json!({"hours": 1, "user_id": mia_id})).await.status, 403);
        assert_eq!(srv.post(&logs, &eve, json!({"hours": 1})).await.status, 404);
        let extra = created(srv, &logs, &ann, json!({"hours": 1})).await;
        let res = srv.call("DELETE", &format!("{logs}/{}", id(&extra)), Some(&ann), None).await;
        assert_eq!(res.status, 204);
        let w = srv.get(&weld_path, &ann).await;
        assert_eq!(w.json["actual_hours"], 6.5, "{:?}", w.json);
        assert_eq!(srv.get(&logs, &ann).await.json["total"], 2);

        // Stale edits are refused; done work completes the project by estimate.
        let version = w.json["version"].as_i64().unwrap();
        let res = srv.patch_if(&weld_path, &ann, version - 1, json!({"status": "done"})).await;
        assert_eq!(res.status, 412);
        let res = srv.patch_if(&weld_path, &ann, version, json!({"status": "DONE"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.json["status"], "done");
        assert_eq!(res.json["moved"], json!([]));
        let res = srv.patch(&format!("/api/v1/tasks/{}", id(&paint)), &mia, json!({"assignee_id": ann_id, "priority": "nope"})).await;
        assert_eq!(refused(&res, 422).0, "priority");
        let res = srv.patch(&format!("/api/v1/tasks/{}", id(&paint)), &mia, json!({"assignee_id": ann_id})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);

        // Costs against the budget.
        let costs = format!("/api/v1/projects/{pid}/costs");
        created(srv, &costs, &mia, json!({"amount_minor": 250_000, "description": "Welding wire", "booked_on": "2025-03-02"})).await;
        assert_eq!(refused(&srv.post(&costs, &mia, json!({"amount_minor": 0, "description": "x"})).await, 422).0, "amount_minor");
        let res = srv.post(&costs, &mia, json!({"amount_minor": 5, "description": "x", "booked_on": "2999-01-01"})).await;
        assert_eq!(refused(&res, 422).0, "booked_on");
        assert_eq!(srv.post(&costs, &ann, json!({"amount_minor": 5, "description": "x"})).await.status, 403);

        let p = srv.get(&format!("/api/v1/projects/{pid}"), &ann).await.json;
        assert_eq!(p["cost_minor"], 250_000);
        assert_eq!(p["budget_remaining_minor"], 750_000);
        assert_eq!(p["estimated_hours"], 20.0);
        assert_eq!(p["actual_hours"], 6.5);
        assert_eq!(p["completion_percent"], 50.0, "10 of 20 estimated hours are done");
        let hours = srv.get(&format!("/api/v1/projects/{pid}/hours"), &ann).await.json;
        assert_eq!(hours["actual_hours"], 6.5);
        let ann_hours = hours["people"].as_array().unwrap().iter().find(|p| p["username"] == "ann").unwrap();
        assert_eq!(ann_hours["estimated_hours"], 16.0, "{hours:?}");
        assert_eq!(ann_hours["actual_hours"], 6.5);

        // Ann still has open work: she cannot leave yet.
        let (field, message) = refused(&srv.call("DELETE", &format!("{team}/{ann_id}"), Some(&mia), None).await, 409);
        assert_eq!(field, "user_id");
        assert!(message.contains(&format!("Paint (#{})", id(&paint))), "{message}");
        let res = srv.patch(&format!("/api/v1/tasks/{}", id(&paint)), &mia, json!({"assignee_id": null})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(srv.call("DELETE", &format!("{team}/{ann_id}"), Some(&mia), None).await.status, 204);
        assert_eq!(srv.get(&format!("/api/v1/projects/{pid}"), &ann).await.status, 404, "off the team, out of sight");
        let res = srv.patch_if(&format!("/api/v1/projects/{pid}"), &mia, 1, json!({"status": "active"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let res = srv.patch_if(&format!("/api/v1/projects/{pid}"), &mia, 1, json!({"status": "on-hold"})).await;
        assert_eq!(res.status, 412);
    }

    async fn dependencies_push_followers_and_draw_the_critical_path(srv) {
        let admin = srv.admin_token().await;
        let eve = srv.user_token(&admin, "eve", "user").await;
        let p = created(srv, "/api/v1/projects", &admin, json!({
            "name": "Press <line> & co", "start_date": "2025-03-01", "end_date": "2025-04-30"
        })).await;
        let pid = id(&p);
        let other = created(srv, "/api/v1/projects", &admin, json!({
            "name": "Other", "start_date": "2025-03-01", "end_date": "2025-04-30"
        })).await;
        let mut ids = Vec::new();
        for (title, start, due) in [
            ("Weld frame", "2025-03-03", "2025-03-07"),
            ("Paint", "2025-03-10", "2025-03-12"),
            ("Assemble", "2025-03-13", "2025-03-14"),
            ("Order labels", "2025-03-03", "2025-03-04"),
        ] {
            let (path, body) = task(pid, title, start, due, 8.0);
            ids.push(id(&created(srv, &path, &admin, body).await));
        }
        let (path, body) = task(id(&other), "Elsewhere", "2025-03-03", "2025-03-04", 1.0);
        let elsewhere = id(&created(srv, &path, &admin, body).await);
        let [weld, paint, assemble, labels] = ids[..] else { unreachable!() };
        let deps = format!("/api/v1/projects/{pid}/dependencies");

        let res = created(srv, &deps, &admin, json!({"predecessor_id": weld, "successor_id": paint})).await;
        assert_eq!(res["kind"], "finish-to-start");
        assert_eq!(res["moved"], json!([]));
        created(srv, &deps, &admin, json!({"predecessor_id": paint, "successor_id": assemble, "kind": "Finish-To-Start"})).await;

        let res = srv.post(&deps, &admin, json!({"predecessor_id": weld, "successor_id": weld})).await;
        assert_eq!(refused(&res, 422).0, "successor_id");
        let res = srv.post(&deps, &admin, json!({"predecessor_id": weld, "successor_id": paint, "kind": "start-to-start"})).await;
        assert_eq!(refused(&res, 409).0, "successor_id");
        let res = srv.post(&deps, &admin, json!({"predecessor_id": paint, "successor_id": weld})).await;
        assert_eq!(res.status, 409, "either direction: {:?}", res.json);
        let (field, message) = refused(&srv.post(&deps, &admin, json!({"predecessor_id": assemble, "successor_id": weld})).await, 422);
        assert_eq!(field, "successor_id");
        assert_eq!(message, format!(
            "would close the cycle Weld frame (#{weld}) → Paint (#{paint}) → Assemble (#{assemble}) → Weld frame (#{weld})"
        ));
        let res = srv.post(&deps, &admin, json!({"predecessor_id": elsewhere, "successor_id": weld})).await;
        assert_eq!(refused(&res, 422).0, "predecessor_id");
        let res = srv.post(&deps, &admin, json!({"predecessor_id": labels, "successor_id": weld, "kind": "later"})).await;
        assert_eq!(refused(&res, 422).0, "kind");
        let res = srv.post(&deps, &admin, json!({"predecessor_id": labels, "successor_id": weld, "lag_days": 400})).await;
        assert_eq!(refused(&res, 422).0, "lag_days");

        // Weld frame runs four days longer: Paint and Assemble follow, keeping durations.
        let res = srv.patch(&format!("/api/v1/tasks/{weld}"), &admin, json!({"due_date": "2025-03-11"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.json["moved"], json!([
            {"id": paint, "title": "Paint", "start_date": "2025-03-12", "due_date": "2025-03-14"},
            {"id": assemble, "title": "Assemble", "start_date": "2025-03-15", "due_date": "2025-03-16"},
        ]));
        let moved = srv.get(&format!("/api/v1/tasks/{paint}"), &admin).await;
        assert_eq!(moved.json["version"], 2);
        assert_eq!(moved.header("etag"), Some("\"2\""));

        // A new dependency pushes too: labels start-to-start ten days before Paint.
        let res = created(srv, &deps, &admin, json!({
            "predecessor_id": labels, "successor_id": paint, "kind": "start-to-start", "lag_days": 10
        })).await;
        assert_eq!(res["moved"], json!([
            {"id": paint, "title": "Paint", "start_date": "2025-03-13", "due_date": "2025-03-15"},
            {"id": assemble, "title": "Assemble", "start_date": "2025-03-16", "due_date": "2025-03-17"},
        ]));
        assert_eq!(srv.get(&deps, &admin).await.json["total"], 3);

        // The schedule: labels drive Paint, so Weld frame has a day of float.
        let s = srv.get(&format!("/api/v1/projects/{pid}/schedule"), &admin).await;
        assert_eq!(s.status, 200, "{:?}", s.json);
        assert_eq!(s.json["critical_path"], json!([labels, paint, assemble]));
        assert_eq!(s.json["finish_date"], "2025-03-17");
        let w = s.json["tasks"].as_array().unwrap().iter().find(|t| t["id"] == weld).unwrap();
        assert_eq!(w["total_float_days"], 1);
        assert_eq!(w["critical"], false);
        assert_eq!(w["late_finish"], "2025-03-12");

        let (status, ct, body) = srv.download(&format!("/api/v1/projects/{pid}/gantt"), Some(&admin)).await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("image/svg+xml"), "{ct}");
        let svg = String::from_utf8(body).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("role=\"img\" aria-label=\"Gantt chart of Press &lt;line&gt; &amp; co\""));
        assert_eq!(svg.matches("class=\"bar critical\"").count(), 3);
        assert_eq!(svg.matches("class=\"dep\"").count(), 3);
        assert!(svg.contains("<title>Weld frame"));

        // Out of sight for others; a removed dependency moves nothing.
        assert_eq!(srv.get(&format!("/api/v1/projects/{pid}/schedule"), &eve).await.status, 404);
        assert_eq!(srv.get(&format!("/api/v1/projects/{pid}/gantt"), &eve).await.status, 404);
        assert_eq!(srv.get(&deps, &eve).await.status, 404);
        let first = srv.get(&deps, &admin).await.json["items"][0]["id"].as_i64().unwrap();
        assert_eq!(srv.call("DELETE", &format!("{deps}/{first}"), Some(&admin), None).await.status, 204);
        assert_eq!(srv.get(&deps, &admin).await.json["total"], 2);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/tasks/{labels}"), Some(&admin), None).await.status, 204);
        assert_eq!(srv.get(&deps, &admin).await.json["total"], 1, "its dependencies went with it");
        assert_eq!(srv.call("DELETE", &format!("/api/v1/projects/{}", id(&other)), Some(&admin), None).await.status, 204);
        assert_eq!(srv.get(&format!("/api/v1/tasks/{elsewhere}"), &admin).await.status, 404);
    }
}

backend_tests! {
    async fn money_stays_within_what_sums_can_hold(srv) {
        let admin = srv.admin_token().await;
        let too_big = srv.post("/api/v1/projects", &admin, json!({"name": "Huge", "start_date": "2031-01-01",
            "end_date": "2031-02-01", "budget_minor": i64::MAX})).await;
        assert_eq!(too_big.status, 422);
        assert_eq!(too_big.error_fields(), vec!["budget_minor"]);
        let id = srv.create("/api/v1/projects", &admin, json!({"name": "Big", "start_date": "2031-01-01",
            "end_date": "2031-02-01", "budget_minor": 1_000_000_000_000_000i64})).await;
        for _ in 0..2 {
            let res = srv.post(&format!("/api/v1/projects/{id}/costs"), &admin,
                json!({"amount_minor": i64::MAX, "description": "Too much"})).await;
            assert_eq!(res.status, 422, "{:?}", res.json);
            assert_eq!(res.error_fields(), vec!["amount_minor"]);
        }
        let res = srv.post(&format!("/api/v1/projects/{id}/costs"), &admin,
            json!({"amount_minor": 1_000_000_000_000i64, "description": "Steel"})).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        let p = srv.get(&format!("/api/v1/projects/{id}"), &admin).await;
        assert_eq!(p.status, 200);
        assert_eq!(p.json["budget_remaining_minor"], 999_000_000_000_000i64);
    }
}

//! Activities and tags through real HTTP, on SQLite and PostgreSQL.

use chrono::{Duration, Utc};
use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
use serde_json::{Value, json};

/// An RFC 3339 instant `hours` from now.
fn at(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours)).to_rfc3339()
}

async fn plan(srv: &TestServer, token: &str, body: Value) -> Value {
    let res = srv.post("/api/v1/activities", token, body).await;
    assert_eq!(res.status, 201, "{:?}", res.json);
    res.json
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

/// Lets the end of activity `id` pass, as time would.
async fn end_passes(srv: &TestServer, id: i64) {
    use sea_orm::ConnectionTrait;
    let past = (Utc::now() - Duration::hours(1)).timestamp_micros();
    srv.state
        .db
        .write()
        .execute_unprepared(&format!(
            "UPDATE activities SET start_time = {}, end_time = {past} WHERE id = {id}",
            past - 3_600_000_000
        ))
        .await
        .unwrap();
}

backend_tests! {
    async fn plan_change_and_keep_the_timeline(srv) {
        let admin = srv.admin_token().await;
        let types = srv.get("/api/v1/activities/types", &admin).await;
        assert_eq!(types.json["total"], 10);
        assert_eq!(types.json["items"][2]["value"], "Inspection & Audit");
        let statuses = srv.get("/api/v1/activities/statuses", &admin).await;
        assert_eq!(statuses.json["items"][1]["label"], "In progress");
        let tags = srv.get("/api/v1/tags", &admin).await;
        assert_eq!(tags.json["total"], 5, "the document's sample tags: {:?}", tags.json);
        let kaizen = tags.json["items"].as_array().unwrap().iter()
            .find(|t| t["name"] == "Kaizen").unwrap()["id"].as_i64().unwrap();

        let ann = srv.create_user(&admin, "ann", "user").await;
        let a = plan(srv, &admin, json!({
            "title": " Production Line Setup ", "type": "production", "priority": "high",
            "description": "Setup production line for new product launch",
            "start_time": at(24), "end_time": at(32), "assigned_to_id": ann, "tag_ids": [kaizen]
        })).await;
        let id = a["id"].as_i64().unwrap();
        assert_eq!(a["title"], "Production Line Setup");
        assert_eq!(a["type"], "Production", "the document's spelling");
        assert_eq!(a["status"], "planned");
        assert_eq!(a["assigned_to"], "ann");
        assert_eq!(a["tags"][0]["name"], "Kaizen");
        assert_eq!(a["history"].as_array().unwrap().len(), 2, "{:?}", a["history"]);

        let changed = srv.patch_if(&format!("/api/v1/activities/{id}"), &admin, 1, json!({
            "status": "in-progress", "note": "Crew on site", "priority": "urgent", "reason": "Launch moved up"
        })).await;
        assert_eq!(changed.status, 200, "{:?}", changed.json);
        assert_eq!(changed.json["version"], 2);
        let history = changed.json["history"].as_array().unwrap();
        assert_eq!(history.len(), 4);
        let status = history.iter().find(|h| h["kind"] == "status" && h["value"] == "in-progress").unwrap();
        assert_eq!(status["note"], "Crew on site");
        assert_eq!(status["changed_by"], "admin");
        let priority = history.iter().find(|h| h["kind"] == "priority" && h["value"] == "urgent").unwrap();
        assert_eq!(priority["note"], "Launch moved up");

        // A stale edit changes nothing.
        let stale = srv.patch_if(&format!("/api/v1/activities/{id}"), &admin, 1, json!({"title": "X"})).await;
        assert_eq!(stale.status, 412);
        let now = srv.get(&format!("/api/v1/activities/{id}"), &admin).await;
        assert_eq!(now.json["title"], "Production Line Setup");

        // Filters: status, type, priority, assignee, tag, status+priority, title.
        let other = plan(srv, &admin, json!({"title": "Equipment Maintenance", "type": "Maintenance",
            "start_time": at(2), "end_time": at(6)})).await["id"].as_i64().unwrap();
        for (query, expect) in [
            ("status=in-progress", vec![id]),
            ("type=Production", vec![id]),
            ("priority=urgent", vec![id]),
            (&format!("assigned_to_id={ann}") as &str, vec![id]),
            (&format!("tag_id={kaizen}"), vec![id]),
            ("status=in-progress,planned&priority=urgent", vec![id]),
            ("type=Production,Maintenance&status=planned", vec![other]),
            ("type=Quality", vec![]),
            ("q=line%20set", vec![id]),
        ] {
            let list = srv.get(&format!("/api/v1/activities?{query}"), &admin).await;
            assert_eq!(list.status, 200, "{query}: {:?}", list.json);
            assert_eq!(ids(&list.json), expect, "{query}");
        }
        let bad = srv.get("/api/v1/activities?status=done", &admin).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), vec!["status"]);

        let csv = srv.download("/api/v1/activities/export?type=Production", Some(&admin)).await;
        assert_eq!(csv.0, 200);
        let text = String::from_utf8(csv.2).unwrap();
        assert!(text.starts_with("id,title,type,status"), "{text}");
        assert!(text.contains("Production Line Setup") && !text.contains("Equipment"), "{text}");
    }

    async fn a_tag_lists_its_activities_in_start_order_as_they_move(srv) {
        let admin = srv.admin_token().await;
        let tags = srv.get("/api/v1/tags?q=rca", &admin).await;
        let rca = tags.json["items"][0]["id"].as_i64().unwrap();
        let mut tagged = Vec::new();
        for h in [10, 30, 20] {
            tagged.push(plan(srv, &admin, json!({"title": format!("Root cause {h}"), "type": "Quality",
                "start_time": at(h), "end_time": at(h + 1), "tag_ids": [rca]})).await["id"].as_i64().unwrap());
        }
        plan(srv, &admin, json!({"title": "Untagged", "type": "Quality",
            "start_time": at(25), "end_time": at(26)})).await;
        let list = |q: String| {
            let admin = admin.clone();
            async move {
                let res = srv.get(&format!("/api/v1/activities?tag_id={rca}{q}"), &admin).await;
                assert_eq!(res.status, 200, "{:?}", res.json);
                (ids(&res.json), res.json["total"].as_i64().unwrap())
            }
        };
        let (at10, at30, at20) = (tagged[0], tagged[1], tagged[2]);
        assert_eq!(list(String::new()).await, (vec![at30, at20, at10], 3), "latest first");
        assert_eq!(list("&sort=start_time".into()).await.0, vec![at10, at20, at30]);
        assert_eq!(list("&limit=1&offset=1".into()).await, (vec![at20], 3));
        assert_eq!(list("&sort=title".into()).await.0, vec![at10, at20, at30]);
        // A page carries its list's count; past the end, the count still comes.
        for (q, shown) in [("limit=3", 3), ("limit=3&offset=3", 1), ("limit=3&offset=9", 0)] {
            let res = srv.get(&format!("/api/v1/activities?type=Quality&{q}"), &admin).await;
            assert_eq!(res.status, 200, "{:?}", res.json);
            assert_eq!((ids(&res.json).len(), res.json["total"].as_i64(), res.json["total_exact"].as_bool()),
                (shown, Some(4), Some(true)), "{q}");
        }
        // Moved without touching its tags, it moves in the tag's order too.
        let moved = srv.patch_if(&format!("/api/v1/activities/{at10}"), &admin, 1,
            json!({"start_time": at(40), "end_time": at(41)})).await;
        assert_eq!(moved.status, 200, "{:?}", moved.json);
        assert_eq!(list(String::new()).await.0, vec![at10, at30, at20]);
        // Untagged it leaves the list; tagged again it comes back in its place.
        let off = srv.patch_if(&format!("/api/v1/activities/{at30}"), &admin, 1, json!({"tag_ids": []})).await;
        assert_eq!(off.status, 200, "{:?}", off.json);
        assert_eq!(list(String::new()).await, (vec![at10, at20], 2));
        let back = srv.patch_if(&format!("/api/v1/activities/{at30}"), &admin, 2,
            json!({"tag_ids": [rca], "start_time": at(35), "end_time": at(36)})).await;
        assert_eq!(back.status, 200, "{:?}", back.json);
        assert_eq!(list(String::new()).await, (vec![at10, at30, at20], 3));
    }

    async fn bad_input_is_refused_naming_the_field(srv) {
        let admin = srv.admin_token().await;
        let gone = srv.create_user(&admin, "gone", "user").await;
        let off = srv.patch(&format!("/api/v1/users/{gone}"), &admin, json!({"is_active": false})).await;
        assert_eq!(off.status, 200, "{:?}", off.json);
        let good = json!({"title": "Audit", "type": "Quality", "start_time": at(1), "end_time": at(2)});
        for (change, field) in [
            (json!({"end_time": at(0)}), "end_time"),
            (json!({"type": "Party"}), "type"),
            (json!({"status": "done"}), "status"),
            (json!({"status": "overdue"}), "status"),
            (json!({"priority": "critical"}), "priority"),
            (json!({"title": "  "}), "title"),
            (json!({"assigned_to_id": gone}), "assigned_to_id"),
            (json!({"assigned_to_id": 999_999}), "assigned_to_id"),
            (json!({"tag_ids": [999_999]}), "tag_ids"),
            (json!({"project_ids": [999_999]}), "project_ids"),
            (json!({"recurrence": {"every": 0, "unit": "days"}}), "recurrence.every"),
            (json!({"recurrence": {"every": 1, "unit": "hours"}}), "recurrence.unit"),
        ] {
            let mut body = good.clone();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let res = srv.post("/api/v1/activities", &admin, body).await;
            assert_eq!(res.status, 422, "{change}: {:?}", res.json);
            assert_eq!(res.error_fields(), vec![field], "{change}");
        }
        let list = srv.get("/api/v1/activities", &admin).await;
        assert_eq!(list.json["total"], 0, "nothing was written");

        // Tags: unique regardless of case, colours as #RRGGBB.
        let t = srv.post("/api/v1/tags", &admin, json!({"name": "Safety", "color": "#ff0000", "category": "EHS"})).await;
        assert_eq!(t.status, 201, "{:?}", t.json);
        assert_eq!(t.json["color"], "#FF0000");
        let dup = srv.post("/api/v1/tags", &admin, json!({"name": "SAFETY"})).await;
        assert_eq!(dup.status, 409);
        assert_eq!(dup.error_fields(), vec!["name"]);
        let sample = srv.post("/api/v1/tags", &admin, json!({"name": "kaizen"})).await;
        assert_eq!(sample.status, 409);
        for colour in ["red", "#12345", "#GGGGGG", "#1234567"] {
            let res = srv.post("/api/v1/tags", &admin, json!({"name": "Other", "color": colour})).await;
            assert_eq!(res.status, 422, "{colour}");
            assert_eq!(res.error_fields(), vec!["color"]);
        }
        let id = t.json["id"].as_i64().unwrap();
        let renamed = srv.patch_if(&format!("/api/v1/tags/{id}"), &admin, 1, json!({"name": "Kaizen"})).await;
        assert_eq!(renamed.status, 409);
        let user = srv.user_token(&admin, "uma", "user").await;
        let denied = srv.post("/api/v1/tags", &user, json!({"name": "Mine"})).await;
        assert_eq!(denied.status, 403);
    }

    async fn another_users_activity_is_not_there(srv) {
        let admin = srv.admin_token().await;
        let ann = srv.user_token(&admin, "ann", "user").await;
        let bob = srv.user_token(&admin, "bob", "user").await;
        let boss = srv.user_token(&admin, "boss", "manager").await;
        let mine = plan(srv, &ann, json!({"title": "Ann's audit", "type": "Quality",
            "start_time": at(1), "end_time": at(2)})).await["id"].as_i64().unwrap();
        let path = format!("/api/v1/activities/{mine}");

        assert_eq!(srv.get(&path, &bob).await.status, 404);
        assert_eq!(srv.patch(&path, &bob, json!({"title": "Mine now"})).await.status, 404);
        assert_eq!(srv.call("DELETE", &path, Some(&bob), None).await.status, 404);
        let list = srv.get("/api/v1/activities", &bob).await;
        assert_eq!(list.json["total"], 0, "absent from the list and its count");
        let csv = srv.download("/api/v1/activities/export", Some(&bob)).await;
        assert!(!String::from_utf8(csv.2).unwrap().contains("Ann's audit"));

        // A manager sees every activity; ann sees hers.
        assert_eq!(srv.get(&path, &boss).await.status, 200);
        assert_eq!(srv.get("/api/v1/activities", &ann).await.json["total"], 1);

        // Given to bob, bob sees it and may work on it; a guest may not plan.
        let given = srv.patch(&path, &ann, json!({"assigned_to_id": srv.create_user(&admin, "cat", "user").await})).await;
        assert_eq!(given.status, 200);
        assert_eq!(srv.get(&path, &bob).await.status, 404);
        let guest = srv.user_token(&admin, "gil", "guest").await;
        let res = srv.post("/api/v1/activities", &guest, json!({"title": "X", "type": "Quality",
            "start_time": at(1), "end_time": at(2)})).await;
        assert_eq!(res.status, 403);
    }

    async fn overdue_comes_by_itself_and_goes_when_moved(srv) {
        let admin = srv.admin_token().await;
        let late = plan(srv, &admin, json!({"title": "Late from the start", "type": "Logistics",
            "start_time": at(-5), "end_time": at(-4)})).await;
        assert_eq!(late["status"], "overdue");
        let by_system = &late["history"].as_array().unwrap()[0];
        assert_eq!(by_system["value"], "overdue");
        assert!(by_system["changed_by"].is_null(), "the system made it overdue: {by_system}");

        let id = plan(srv, &admin, json!({"title": "Training", "type": "Training",
            "status": "in-progress", "start_time": at(1), "end_time": at(2)})).await["id"].as_i64().unwrap();
        let done = plan(srv, &admin, json!({"title": "Done already", "type": "Training",
            "status": "completed", "start_time": at(1), "end_time": at(2)})).await["id"].as_i64().unwrap();
        end_passes(srv, id).await;
        end_passes(srv, done).await;
        // The server's own sweep (each minute) may have taken it first: the states tell.
        let swept = nexus_work::service::sweep_overdue(&srv.state).await.unwrap();
        assert!(swept <= 1, "only the one still in progress: {swept}");
        let a = srv.get(&format!("/api/v1/activities/{id}"), &admin).await.json;
        assert_eq!(a["status"], "overdue");
        assert_eq!(srv.get(&format!("/api/v1/activities/{done}"), &admin).await.json["status"], "completed");

        // Moved into the future it goes back to where it was; completed it stays completed.
        let version = a["version"].as_i64().unwrap();
        let moved = srv.patch_if(&format!("/api/v1/activities/{id}"), &admin, version,
            json!({"start_time": at(3), "end_time": at(4)})).await;
        assert_eq!(moved.status, 200, "{:?}", moved.json);
        assert_eq!(moved.json["status"], "in-progress");
        let overdue = srv.get("/api/v1/activities?status=overdue", &admin).await;
        assert_eq!(overdue.json["total"], 1);
    }

    async fn a_series_repeats_and_changes_from_one_occurrence_on(srv) {
        let admin = srv.admin_token().await;
        let first = plan(srv, &admin, json!({"title": "Shift handover", "type": "Meetings",
            "start_time": at(1), "end_time": at(2),
            "recurrence": {"every": 1, "unit": "weeks"}})).await;
        let series = first["series_id"].as_i64().unwrap();
        assert_eq!(first["recurrence"]["unit"], "weeks");
        let all = srv.get(&format!("/api/v1/activities?series_id={series}&sort=start_time"), &admin).await;
        let n = all.json["total"].as_u64().unwrap();
        assert!((9..=10).contains(&n), "60 days of weekly occurrences: {n}");
        let third = &all.json["items"][2];
        let third_id = third["id"].as_i64().unwrap();

        // From the third on: a new title and an hour later; the first two keep theirs.
        let res = srv.patch(&format!("/api/v1/activities/{third_id}"), &admin, json!({
            "title": "Shift handover (new crew)",
            "start_time": nexus_core::Timestamp::parse(third["start_time"].as_str().unwrap()).unwrap().plus_seconds(3600),
            "end_time": nexus_core::Timestamp::parse(third["end_time"].as_str().unwrap()).unwrap().plus_seconds(3600),
            "scope": "following"
        })).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let all = srv.get(&format!("/api/v1/activities?series_id={series}&sort=start_time&limit=100"), &admin).await;
        let titles: Vec<&str> = all.json["items"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
        assert_eq!(titles[..2], ["Shift handover", "Shift handover"]);
        assert!(titles[2..].iter().all(|t| *t == "Shift handover (new crew)"), "{titles:?}");

        // Deleting the fourth and following ends the series there.
        let fourth = all.json["items"][3]["id"].as_i64().unwrap();
        let del = srv.call("DELETE", &format!("/api/v1/activities/{fourth}?scope=following"), Some(&admin), None).await;
        assert_eq!(del.status, 204, "{:?}", del.json);
        let left = srv.get(&format!("/api/v1/activities?series_id={series}"), &admin).await;
        assert_eq!(left.json["total"], 3);
        assert_eq!(nexus_work::service::extend_series(&srv.state).await.unwrap(), 0, "the series ended");
    }
}

backend_tests! {
    async fn my_work_home_and_the_calendar_feed(srv) {
        let admin = srv.admin_token().await;
        let ann = srv.user_token(&admin, "ann", "user").await;
        let bob = srv.user_token(&admin, "bob", "user").await;
        plan(srv, &ann, json!({"title": "Late audit", "type": "Quality",
            "start_time": at(-3), "end_time": at(-2)})).await;
        plan(srv, &ann, json!({"title": "Now, ongoing", "type": "Production",
            "status": "in-progress", "start_time": at(-1), "end_time": at(1)})).await;
        plan(srv, &bob, json!({"title": "Bob's own", "type": "Training",
            "start_time": at(-1), "end_time": at(1)})).await;

        let mine = srv.get("/api/v1/my-work", &ann).await;
        assert_eq!(mine.status, 200, "{:?}", mine.json);
        assert_eq!(mine.json["overdue_activities"]["total"], 1);
        assert_eq!(mine.json["overdue_activities"]["items"][0]["title"], "Late audit");
        assert_eq!(mine.json["today_activities"]["items"][0]["title"], "Now, ongoing");

        let counts = srv.attention(&ann).await;
        assert_eq!(counts["activities.overdue_mine"]["count"], 1);
        assert_eq!(counts["activities.overdue_mine"]["nav"], "/work/my");
        assert!(!counts.contains_key("activities.overdue"), "only for who sees every activity");
        let admin_counts = srv.attention(&admin).await;
        assert_eq!(admin_counts["activities.overdue"]["count"], 1);

        // The feed: made, read without signing in, reset, turned off.
        assert_eq!(srv.get("/api/v1/calendar-feed", &ann).await.json["active"], false);
        let made = srv.post("/api/v1/calendar-feed", &ann, json!({})).await;
        assert_eq!(made.status, 201, "{:?}", made.json);
        let path = made.json["path"].as_str().unwrap().to_string();
        assert!(path.ends_with(".ics"), "{path}");
        let (status, kind, body) = srv.download(&path, None).await;
        assert_eq!(status, 200);
        assert!(kind.starts_with("text/calendar"), "{kind}");
        let ics = String::from_utf8(body).unwrap();
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
        assert!(ics.contains("SUMMARY:Late audit\r\n"), "{ics}");
        assert!(ics.contains("SUMMARY:Now\\, ongoing\r\n"), "commas escaped: {ics}");
        assert!(!ics.contains("Bob's own"), "only ann's: {ics}");
        assert_eq!(srv.get("/api/v1/calendar-feed", &ann).await.json["active"], true);

        let again = srv.post("/api/v1/calendar-feed", &ann, json!({})).await;
        let new_path = again.json["path"].as_str().unwrap().to_string();
        assert_ne!(new_path, path);
        assert_eq!(srv.download(&path, None).await.0, 404, "the old URL stops working");
        assert_eq!(srv.download(&new_path, None).await.0, 200);
        assert_eq!(srv.download("/api/v1/calendar-feeds/not-a-token.ics", None).await.0, 404);
        assert_eq!(srv.call("DELETE", "/api/v1/calendar-feed", Some(&ann), None).await.status, 204);
        assert_eq!(srv.download(&new_path, None).await.0, 404);
    }
}

backend_tests! {
    async fn my_work_is_read_again_after_a_change_it_shows(srv) {
        let admin = srv.admin_token().await;
        let ann_id = srv.create_user(&admin, "ann", "user").await;
        let ann = srv.login("ann", "ann-password").await;
        let kaizen = srv.get("/api/v1/tags?q=kaizen", &admin).await.json["items"][0]["id"].as_i64().unwrap();
        let id = plan(srv, &admin, json!({"title": "Oil change", "type": "Maintenance", "assigned_to_id": ann_id,
            "start_time": at(-1), "end_time": at(1), "tag_ids": [kaizen]})).await["id"].as_i64().unwrap();
        let today = |w: &Value| w["today_activities"]["items"].clone();
        let first = srv.get("/api/v1/my-work", &ann).await.json;
        assert_eq!(today(&first)[0]["title"], "Oil change");
        assert_eq!(srv.get("/api/v1/my-work", &ann).await.json, first, "asked again: the same");
        // Its title, a tag's name and its assignee change: each is seen at once.
        let res = srv.patch_if(&format!("/api/v1/activities/{id}"), &admin, 1, json!({"title": "Oil and filter change"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(today(&srv.get("/api/v1/my-work", &ann).await.json)[0]["title"], "Oil and filter change");
        let res = srv.patch_if(&format!("/api/v1/tags/{kaizen}"), &admin, 1, json!({"name": "Kaizen event"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(today(&srv.get("/api/v1/my-work", &ann).await.json)[0]["tags"][0]["name"], "Kaizen event");
        let bob = srv.create_user(&admin, "bob", "user").await;
        let res = srv.patch_if(&format!("/api/v1/activities/{id}"), &admin, 2, json!({"assigned_to_id": bob})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(today(&srv.get("/api/v1/my-work", &ann).await.json), json!([]));

        // Other people's changes leave ann's kept answer alone: a title changed behind the
        // server's back shows only once a change of ann's own arrives.
        let mine = plan(srv, &admin, json!({"title": "Line check", "type": "Quality", "assigned_to_id": ann_id,
            "start_time": at(-1), "end_time": at(1)})).await["id"].as_i64().unwrap();
        assert_eq!(today(&srv.get("/api/v1/my-work", &ann).await.json)[0]["title"], "Line check");
        {
            use sea_orm::ConnectionTrait;
            srv.state.db.write()
                .execute_unprepared(&format!("UPDATE activities SET title = 'Line check (renamed)' WHERE id = {mine}"))
                .await
                .unwrap();
        }
        plan(srv, &admin, json!({"title": "Bob's round", "type": "Production", "assigned_to_id": bob,
            "start_time": at(-1), "end_time": at(1)})).await;
        assert_eq!(today(&srv.get("/api/v1/my-work", &ann).await.json)[0]["title"], "Line check", "kept");
        let res = srv.patch_if(&format!("/api/v1/activities/{mine}"), &admin, 1, json!({"priority": "high"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let now = today(&srv.get("/api/v1/my-work", &ann).await.json);
        assert_eq!((now[0]["title"].as_str(), now[0]["priority"].as_str()), (Some("Line check (renamed)"), Some("high")));

        // On PostgreSQL, a second node keeps its own answers and drops them when the change
        // made on the first node reaches it.
        if srv.state.db.write().get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return;
        }
        let b = srv.second_node().await;
        let titles = |w: &Value| -> Vec<String> {
            today(w).as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(titles(&b.get("/api/v1/my-work", &ann).await.json), ["Line check (renamed)"]);
        let res = srv.patch_if(&format!("/api/v1/activities/{id}"), &admin, 3, json!({"assigned_to_id": ann_id})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let mut seen = Vec::new();
        for _ in 0..250 {
            seen = titles(&b.get("/api/v1/my-work", &ann).await.json);
            if seen.len() > 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(seen, ["Oil and filter change", "Line check (renamed)"], "node B hears the change");
    }

    async fn my_work_shows_fifty_of_a_part_and_counts_the_rest(srv) {
        let admin = srv.admin_token().await;
        let ann_id = srv.create_user(&admin, "ann", "user").await;
        let ann = srv.login("ann", "ann-password").await;
        // Today: 51 planned and 3 in progress, all started and not ended; one overdue.
        for i in 0..54 {
            let status = if i < 51 { "planned" } else { "in-progress" };
            plan(srv, &ann, json!({"title": format!("Round {i:02}"), "type": "Production",
                "status": status, "start_time": at(-60 + i), "end_time": at(2)})).await;
        }
        plan(srv, &ann, json!({"title": "Late", "type": "Quality", "start_time": at(-5), "end_time": at(-4)})).await;
        // A task of ann's due today, one overdue, one done (not shown).
        let today = Utc::now().date_naive();
        let p = srv.post("/api/v1/projects", &admin, json!({"name": "Retrofit",
            "start_date": (today - Duration::days(10)).to_string(), "end_date": (today + Duration::days(30)).to_string()})).await;
        assert_eq!(p.status, 201, "{:?}", p.json);
        let pid = p.json["id"].as_i64().unwrap();
        let res = srv.post(&format!("/api/v1/projects/{pid}/team"), &admin, json!({"user_id": ann_id})).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        for (title, start, due, status) in [("Due today", -1, 0, "todo"), ("Late task", -5, -2, "in-progress"), ("Done", -5, -2, "done")] {
            let res = srv.post(&format!("/api/v1/projects/{pid}/tasks"), &admin, json!({"title": title,
                "start_date": (today + Duration::days(start)).to_string(), "due_date": (today + Duration::days(due)).to_string(),
                "estimated_hours": 2.0, "assignee_id": ann_id, "status": status})).await;
            assert_eq!(res.status, 201, "{:?}", res.json);
        }

        let mine = srv.get("/api/v1/my-work", &ann).await;
        assert_eq!(mine.status, 200, "{:?}", mine.json);
        let w = &mine.json;
        let titles = |part: &str| -> Vec<String> {
            w[part]["items"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect()
        };
        let today_titles = titles("today_activities");
        assert_eq!(w["today_activities"]["total"], 54, "counted past the fifty shown");
        assert_eq!(today_titles.len(), 50);
        let expected: Vec<String> = (0..50).map(|i| format!("Round {i:02}")).collect();
        assert_eq!(today_titles, expected, "in start order over both statuses");
        assert_eq!(titles("overdue_activities"), ["Late"]);
        assert_eq!(w["overdue_activities"]["total"], 1);
        assert_eq!(w["today_activities"]["items"][0]["assigned_to"], "ann", "names read with the rows");
        assert_eq!(titles("today_tasks"), ["Due today"]);
        assert_eq!(titles("overdue_tasks"), ["Late task"]);
        assert_eq!(w["overdue_tasks"]["items"][0]["project"], "Retrofit");
        assert_eq!(w["week_tasks"]["total"], 0);
    }
}

backend_tests! {
    async fn the_event_stream_carries_only_what_one_may_see(srv) {
        let admin = srv.admin_token().await;
        let ann = srv.user_token(&admin, "ann", "user").await;
        let bob_id = srv.create_user(&admin, "bob", "user").await;
        let bob = srv.login("bob", "bob-password").await;
        let mut stream = srv
            .client()
            .get(srv.url("/api/v1/events/stream?topics=activity"))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        plan(srv, &ann, json!({"title": "Ann secret", "type": "Quality",
            "start_time": at(1), "end_time": at(2)})).await;
        plan(srv, &ann, json!({"title": "For Bob", "type": "Quality", "assigned_to_id": bob_id,
            "start_time": at(1), "end_time": at(2)})).await;
        let mut buf = String::new();
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while let Some(chunk) = stream.chunk().await.unwrap() {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                if buf.contains("For Bob") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(got, Ok(true), "{buf}");
        assert!(!buf.contains("Ann secret"), "{buf}");
    }
}

//! Notifications through real HTTP, on SQLite and PostgreSQL: made by comms from other
//! domains' events, seen, counted and marked by their owner only, and turned off by kind.

use std::time::Duration;

use chrono::Utc;
use nexus_core::Event;
use nexus_core::events::Audience;
use nexus_server::backend_tests;
use nexus_server::testing::{TestServer, csrf};
use serde_json::{Value, json};

/// The notifications of `token`'s user once `ready` holds for them, polled for up to 5 s
/// (reactions are asynchronous); fails the test otherwise.
async fn until(srv: &TestServer, token: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..250 {
        let res = srv.get("/api/v1/notifications", token).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let items = res.json["items"].as_array().unwrap().clone();
        if ready(&items) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the expected notification never came");
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|n| n["kind"] == kind).collect()
}

async fn unread(srv: &TestServer, token: &str) -> i64 {
    let res = srv.get("/api/v1/notifications/unread-count", token).await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    res.json["unread"].as_i64().unwrap()
}

fn at(hours: i64) -> String {
    (Utc::now() + chrono::Duration::hours(hours)).to_rfc3339()
}

backend_tests! {
    async fn assignments_and_alerts_reach_the_people_concerned(srv) {
        let admin = srv.admin_token().await;
        let ann_id = srv.create_user(&admin, "ann", "staff").await;
        let ann = srv.login("ann", "ann-password").await;
        let asset = srv.create("/api/v1/assets", &admin, json!({"name": "Press 7"})).await;
        let wo = srv.create("/api/v1/work-orders", &admin, json!({
            "title": "Replace the seal", "asset_id": asset, "assigned_to_id": ann_id
        })).await;
        let items = until(srv, &ann, |n| !of_kind(n, "work_order_assigned").is_empty()).await;
        let n = of_kind(&items, "work_order_assigned")[0];
        assert_eq!(n["link"], format!("/maintenance/work-orders/{wo}"));
        assert!(n["message"].as_str().unwrap().contains("admin assigned work order"), "{n:?}");
        assert!(n["title"].as_str().unwrap().contains("Replace the seal"));
        assert_eq!(n["is_read"], false);

        // An activity given to ann by the admin; one she plans for herself tells no one.
        srv.create("/api/v1/activities", &admin, json!({
            "title": "Calibrate gauges", "type": "Maintenance",
            "start_time": at(48), "end_time": at(50), "assigned_to_id": ann_id
        })).await;
        srv.create("/api/v1/activities", &ann, json!({
            "title": "My own", "type": "Maintenance", "start_time": at(48), "end_time": at(50)
        })).await;
        let items = until(srv, &ann, |n| !of_kind(n, "activity_assigned").is_empty()).await;
        let mine = of_kind(&items, "activity_assigned");
        assert_eq!(mine.len(), 1, "{items:?}");
        assert!(mine[0]["title"].as_str().unwrap().contains("Calibrate gauges"));

        // The assignee now follows the asset: an alert on it reaches her.
        srv.state.events.publish(Event::new("alert", "opened", 99, json!({
            "id": 99, "asset_id": asset, "metric_name": "temperature", "level": "critical", "value": 97.5
        }), Audience::All));
        let items = until(srv, &ann, |n| !of_kind(n, "alert_raised").is_empty()).await;
        let alert = of_kind(&items, "alert_raised")[0];
        assert_eq!(alert["type"], "alert");
        assert!(alert["title"].as_str().unwrap().contains("Press 7"), "{alert:?}");

        // The assigner was told nothing.
        let admin_list = srv.get("/api/v1/notifications", &admin).await;
        assert!(of_kind(admin_list.json["items"].as_array().unwrap(), "work_order_assigned").is_empty());
        assert_eq!(srv.get("/api/v1/updates/notifications", &ann).await.json["total"], 3);
    }

    async fn read_dismiss_read_all_and_privacy(srv) {
        let admin = srv.admin_token().await;
        let ann_id = srv.create_user(&admin, "ann", "staff").await;
        let ann = srv.login("ann", "ann-password").await;
        let bob = srv.user_token(&admin, "bob", "user").await;
        for title in ["One", "Two", "Three"] {
            srv.create("/api/v1/work-orders", &admin, json!({"title": title, "assigned_to_id": ann_id})).await;
        }
        let items = until(srv, &ann, |n| n.len() == 3).await;
        assert_eq!(unread(srv, &ann).await, 3);
        assert!(items[0]["title"].as_str().unwrap().contains("Three"), "newest first");
        let first = items[0]["id"].as_i64().unwrap();
        let second = items[1]["id"].as_i64().unwrap();

        // Someone else's notification: 404 and absent from their list and count.
        assert_eq!(srv.post(&format!("/api/v1/notifications/{first}/read"), &bob, json!({})).await.status, 404);
        assert_eq!(srv.post(&format!("/api/v1/notifications/{first}/dismiss"), &bob, json!({})).await.status, 404);
        assert_eq!(srv.get("/api/v1/notifications", &bob).await.json["total"], 0);
        assert_eq!(unread(srv, &bob).await, 0);

        let read = srv.post(&format!("/api/v1/notifications/{first}/read"), &ann, json!({})).await;
        assert_eq!(read.status, 200, "{:?}", read.json);
        assert_eq!(read.json["is_read"], true);
        assert_eq!(unread(srv, &ann).await, 2);
        let unread_list = srv.get("/api/v1/notifications?is_read=false", &ann).await;
        assert_eq!(unread_list.json["total"], 2);

        let dismissed = srv.post(&format!("/api/v1/notifications/{second}/dismiss"), &ann, json!({})).await;
        assert_eq!(dismissed.json["is_dismissed"], true);
        assert_eq!(dismissed.json["is_read"], true, "dismissing reads it");
        assert_eq!(unread(srv, &ann).await, 1);
        assert_eq!(srv.get("/api/v1/notifications", &ann).await.json["total"], 2);
        assert_eq!(srv.get("/api/v1/notifications?include_dismissed=true", &ann).await.json["total"], 3);

        let all = srv.post("/api/v1/notifications/read-all", &ann, json!({})).await;
        assert_eq!(all.json["updated"], 1);
        assert_eq!(unread(srv, &ann).await, 0);

        assert_eq!(srv.get("/api/v1/notifications?kind=nonsense", &ann).await.error_fields(), ["kind"]);
        assert_eq!(srv.get("/api/v1/notifications?type=loud", &ann).await.error_fields(), ["type"]);
        assert_eq!(srv.call("GET", "/api/v1/notifications/unread-count", None, None).await.status, 401);
        assert_eq!(srv.post("/api/v1/notifications/999999/read", &ann, json!({})).await.status, 404);
    }

    async fn preferences_turn_a_kind_off(srv) {
        let admin = srv.admin_token().await;
        let ann_id = srv.create_user(&admin, "ann", "staff").await;
        let ann = srv.login("ann", "ann-password").await;
        let prefs = srv.get("/api/v1/notification-preferences", &ann).await;
        assert_eq!(prefs.status, 200);
        let wo = prefs.json.as_array().unwrap().iter().find(|p| p["kind"] == "work_order_assigned").unwrap().clone();
        assert_eq!(wo["enabled"], true);
        assert_eq!(wo["is_default"], true);

        let bad = srv.call("PUT", "/api/v1/notification-preferences", Some(&ann),
            Some(json!({"preferences": [{"kind": "gossip", "enabled": true}]}))).await;
        assert_eq!(bad.error_fields(), ["preferences"]);
        let set = srv.call("PUT", "/api/v1/notification-preferences", Some(&ann),
            Some(json!({"preferences": [{"kind": "work_order_assigned", "enabled": false}]}))).await;
        assert_eq!(set.status, 200, "{:?}", set.json);
        let wo = set.json.as_array().unwrap().iter().find(|p| p["kind"] == "work_order_assigned").unwrap().clone();
        assert_eq!((wo["enabled"].clone(), wo["is_default"].clone()), (json!(false), json!(false)));

        srv.create("/api/v1/work-orders", &admin, json!({"title": "Quiet", "assigned_to_id": ann_id})).await;
        // An activity afterwards: once its notification is there, the work order's was decided.
        srv.create("/api/v1/activities", &admin, json!({
            "title": "Loud", "type": "Maintenance", "start_time": at(48), "end_time": at(50), "assigned_to_id": ann_id
        })).await;
        let items = until(srv, &ann, |n| !of_kind(n, "activity_assigned").is_empty()).await;
        assert!(of_kind(&items, "work_order_assigned").is_empty(), "{items:?}");
    }

    async fn the_page_lists_marks_and_saves_preferences(srv) {
        let admin = srv.admin_token().await;
        let ann_id = srv.create_user(&admin, "ann", "staff").await;
        let ann = srv.login("ann", "ann-password").await;
        srv.create("/api/v1/work-orders", &admin, json!({"title": "Fix the <door>", "assigned_to_id": ann_id})).await;
        let items = until(srv, &ann, |n| n.len() == 1).await;
        let id = items[0]["id"].as_i64().unwrap();

        let (status, html) = srv.page("/notifications", &ann).await;
        assert_eq!(status, 200);
        assert!(html.contains("admin assigned work order"), "says in words what happened");
        assert!(html.contains("Fix the &lt;door&gt;") || html.contains("Fix the &#60;door&#62;"));
        assert!(html.contains("1 unread notification."));
        assert!(html.contains(r#"id="bell""#), "the shell has the bell");
        assert!(html.contains(r#"id="system-messages""#), "and the banners' place");
        let token = csrf(&html);

        let (status, to, _) = srv.submit(&format!("/notifications/{id}/read"), &ann, &[("csrf", &token), ("show", "unread"), ("kind", "")]).await;
        assert_eq!((status, to.as_str()), (303, "/notifications?show=unread&done=read"));
        assert_eq!(unread(srv, &ann).await, 0);
        let (_, html) = srv.page("/notifications?show=unread", &ann).await;
        assert!(html.contains("No notifications unread"), "{html}");

        // Someone else's: not found, nothing changes.
        let bob = srv.user_token(&admin, "bob", "user").await;
        let (_, bob_html) = srv.page("/notifications", &bob).await;
        let (status, _, _) = srv.submit(&format!("/notifications/{id}/dismiss"), &bob, &[("csrf", &csrf(&bob_html))]).await;
        assert_eq!(status, 404);

        // Preferences: only the checked kinds stay on.
        let (status, to, _) = srv.submit("/notifications/preferences", &ann, &[("csrf", &token), ("task_assigned", "on")]).await;
        assert_eq!((status, to.as_str()), (303, "/notifications?done=preferences#preferences"));
        let prefs = srv.get("/api/v1/notification-preferences", &ann).await.json;
        let on: Vec<&str> = prefs.as_array().unwrap().iter()
            .filter(|p| p["enabled"] == true).map(|p| p["kind"].as_str().unwrap()).collect();
        assert_eq!(on, ["task_assigned"]);
        let (_, html) = srv.page("/notifications", &ann).await;
        assert!(html.contains(r#"name="task_assigned" value="on" checked"#));
        assert!(html.contains(r#"name="mention" value="on">"#));
    }

    async fn mentions_and_due_tomorrow(srv) {
        let admin = srv.admin_token().await;
        let ann = srv.user_token(&admin, "ann", "staff").await;
        let wo = srv.create("/api/v1/work-orders", &admin, json!({"title": "Leak"})).await;
        let said = srv.post(&format!("/api/v1/work-orders/{wo}/comments"), &admin,
            json!({"content": "@ann can you look? cc @admin @nobody."})).await;
        assert_eq!(said.status, 201, "{:?}", said.json);
        let items = until(srv, &ann, |n| !of_kind(n, "mention").is_empty()).await;
        assert!(of_kind(&items, "mention")[0]["message"].as_str().unwrap().contains("can you look?"));

        let tomorrow = (Utc::now() + chrono::Duration::days(1)).date_naive();
        srv.create("/api/v1/activities", &ann, json!({
            "title": "Audit the press", "type": "Inspection & Audit",
            "start_time": format!("{tomorrow}T09:00:00Z"), "end_time": format!("{tomorrow}T11:00:00Z")
        })).await;
        nexus_comms::service::reactions::remind_due(&srv.state).await.unwrap();
        nexus_comms::service::reactions::remind_due(&srv.state).await.unwrap();
        let due = srv.get("/api/v1/notifications?kind=due_tomorrow", &ann).await.json;
        assert_eq!(due["total"], 1, "reminded once: {due:?}");
        assert!(due["items"][0]["title"].as_str().unwrap().contains("Audit the press"));
        assert_eq!(due["items"][0]["link"], "/work/activities/".to_string() + &due["items"][0]["entity_id"].to_string());
        let admin_mentions = srv.get("/api/v1/notifications?kind=mention", &admin).await.json;
        assert_eq!(admin_mentions["total"], 0, "the author is not told of their own mention");
    }

    async fn a_burst_of_changes_loses_no_follow(srv) {
        use sea_orm::ConnectionTrait;
        // 6,000 work orders announced at once (more than the live broadcast holds): comms
        // hears every one and its creator follows each.
        let admin = srv.admin_token().await;
        let ann = srv.create_user(&admin, "ann", "staff").await;
        for id in 1..=6_000 {
            srv.state.events.publish(Event::new("work_order", "created", 1_000_000 + id,
                json!({"created_by": ann}), Audience::All));
        }
        let db = srv.state.db.read();
        let sql = nexus_core::db::stmt(db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM follows WHERE user_id = $1 AND entity_type = 'work_order'", vec![ann.into()]);
        let mut n = 0;
        for _ in 0..600 {
            n = db.query_one_raw(sql.clone()).await.unwrap().unwrap().try_get::<i64>("", "n").unwrap();
            if n == 6_000 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(n, 6_000, "every announced work order is followed");
    }
}

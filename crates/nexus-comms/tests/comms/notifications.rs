//! Notifications through real HTTP, on SQLite and PostgreSQL: made by comms from other
//! domains' events, seen, counted and marked by their owner only, and turned off by kind.

use std::time::Duration;

use chrono::Utc;
use nexus_core::Event;
use nexus_core::events::Audience;
use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
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
        assert_eq!(items[0]["title"].as_str().unwrap().contains("Three"), true, "newest first");
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
}

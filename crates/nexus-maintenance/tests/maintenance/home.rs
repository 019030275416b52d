//! Maintenance on the home page and in the navigation's counts: a technician's work due
//! today and overdue, new requests, parts to reorder, the manager's backlog; both engines.

use chrono::{TimeDelta, Utc};
use nexus_server::backend_tests;
use serde_json::json;

backend_tests! {
    async fn home_says_what_needs_attention(srv) {
        let admin = srv.admin_token().await;
        let tech_id = srv.create_user(&admin, "tess", "staff").await;
        let tech = srv.login("tess", "tess-password").await;
        let guest = srv.user_token(&admin, "gil", "guest").await;
        let today = Utc::now().date_naive();
        let yesterday = today - TimeDelta::days(1);
        let pump = srv.create("/api/v1/assets", &admin, json!({"name": "Feed pump"})).await;
        for (title, due) in [("Replace seal", yesterday), ("Check belt", today), ("Paint guard", today + TimeDelta::days(9))] {
            srv.create("/api/v1/work-orders", &admin, json!({
                "title": title, "asset_id": pump, "assigned_to_id": tech_id, "due_date": due.to_string(),
            })).await;
        }
        srv.create("/api/v1/work-orders", &admin, json!({"title": "Unassigned and late", "due_date": yesterday.to_string()})).await;
        let qr = srv.get(&format!("/api/v1/assets/{pump}"), &admin).await.json["qr_code"].as_str().unwrap().to_string();
        let req = srv.call("POST", "/api/v1/work-requests", None, Some(json!({"qr_code": qr, "title": "Noise", "requester_name": "Pat"}))).await;
        assert_eq!(req.status, 201, "{:?}", req.json);
        srv.create("/api/v1/parts", &admin, json!({"sku": "SEAL-1", "name": "Pump seal", "reorder_point": 2})).await;

        let c = srv.attention(&tech).await;
        assert_eq!(c["work_orders.mine"]["count"], 3);
        assert_eq!(c["work_orders.mine"]["nav"], "/maintenance/work-orders");
        assert_eq!(c["work_orders.overdue"]["count"], 2);
        assert_eq!(c["work_orders.overdue"]["tone"], "warning");
        assert_eq!(c["requests.pending"]["count"], 1);
        assert_eq!(c["parts.low"]["count"], 1);
        assert_eq!(c["work_orders.open"]["count"], 4, "staff read the KPIs: the backlog");

        let (status, html) = srv.page("/", &tech).await;
        assert_eq!(status, 200);
        assert!(html.contains("Replace seal") && html.contains(&format!("Overdue since {yesterday}")), "{html}");
        assert!(html.contains("Check belt") && html.contains("Due today"), "{html}");
        // Not due yet, so not among my work (the inbox still tells of its assignment).
        assert!(!html.contains("WO-000003 Paint guard"), "{html}");
        assert!(html.contains("Pump seal"), "{html}");
        assert!(html.contains("href=\"/maintenance/work-orders/new\""), "{html}");
        assert!(html.contains("work_order.created"), "redrawn live: {html}");

        // The overdue count leads to the overdue orders.
        let (_, html) = srv.page("/maintenance/work-orders?overdue=1", &tech).await;
        assert!(html.contains("Replace seal") && html.contains("Unassigned and late"), "{html}");
        assert!(!html.contains("Check belt") && !html.contains("Paint guard"), "{html}");

        // A guest reads work orders but works none: no backlog KPIs, no "New work order".
        let c = srv.attention(&guest).await;
        assert_eq!(c["work_orders.mine"]["count"], 0);
        assert_eq!(c["work_orders.mine"]["tone"], "calm");
        assert!(!c.contains_key("work_orders.open"));
        let (_, html) = srv.page("/", &guest).await;
        assert!(html.contains("Nothing of yours is due today."), "{html}");
        assert!(!html.contains("href=\"/maintenance/work-orders/new\""), "{html}");

        // Completing the overdue order takes it off the counts.
        let list = srv.get("/api/v1/work-orders?q=Replace", &tech).await;
        let wo = &list.json["items"][0];
        let id = wo["id"].as_i64().unwrap();
        for status in ["in_progress", "completed"] {
            let res = srv.call("POST", &format!("/api/v1/work-orders/{id}/status"), Some(&tech), Some(json!({"status": status}))).await;
            assert_eq!(res.status, 200, "{status}: {:?}", res.json);
        }
        let c = srv.attention(&tech).await;
        assert_eq!((c["work_orders.mine"]["count"].as_u64(), c["work_orders.overdue"]["count"].as_u64()), (Some(2), Some(1)));
    }
}

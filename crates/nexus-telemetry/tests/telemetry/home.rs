//! Alerts on the home page and the navigation's counts, on both engines.

use nexus_server::backend_tests;
use serde_json::json;

use crate::common::{asset_with_metric, ingest, now_ms};

backend_tests! {
    async fn critical_alerts_are_counted_on_home_and_in_the_navigation(srv) {
        let admin = srv.admin_token().await;
        let metric = json!({"metric_name": "temperature", "warning_threshold": 80.0,
            "critical_threshold": 90.0, "hysteresis": 2.0});
        let id = asset_with_metric(srv, &admin, "Chiller 7", metric).await;
        let critical = srv.attention(&admin).await["alerts.critical"].clone();
        assert_eq!((critical["count"].as_u64(), critical["tone"].as_str()), (Some(0), Some("calm")));

        let t = now_ms() - 60_000;
        ingest(srv, &admin, &[(id, "temperature", t, 81.0), (id, "temperature", t + 1000, 96.0)]).await;
        let critical = srv.attention(&admin).await["alerts.critical"].clone();
        assert_eq!(critical["count"], 1);
        let metric = srv.get(&format!("/api/v1/assets/{id}/metrics/temperature"), &admin).await;
        assert_eq!(metric.json["state"], "critical", "{:?}", metric.json);
        assert_eq!(critical["tone"], "critical");
        assert_eq!(critical["nav"], "/alerts");
        assert_eq!(critical["href"], "/alerts?level=critical");
        let (status, html) = srv.page("/", &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("Chiller 7: temperature"), "{html}");
        assert!(html.contains("Critical alerts"), "{html}");
        assert!(html.contains("alert.opened"), "the page redraws on alert events: {html}");
        // The asset's own page says so too.
        let (_, html) = srv.page(&format!("/maintenance/assets/{id}"), &admin).await;
        assert!(html.contains("id=\"asset-attention\"") && html.contains("Critical alert: temperature"), "{html}");

        // Whoever may not read telemetry hears nothing of it.
        let role = json!({"name": "packer", "permissions": ["production:read"]});
        assert_eq!(srv.call("POST", "/api/v1/roles", Some(&admin), Some(role)).await.status, 201);
        let packer = srv.user_token(&admin, "pat", "packer").await;
        assert!(!srv.attention(&packer).await.contains_key("alerts.critical"));
        let (status, html) = srv.page("/", &packer).await;
        assert_eq!(status, 200);
        assert!(!html.contains("Chiller 7"), "{html}");

        // Resolved: nothing left to count.
        ingest(srv, &admin, &[(id, "temperature", t + 2000, 60.0)]).await;
        let critical = srv.attention(&admin).await["alerts.critical"].clone();
        assert_eq!(critical["count"], 0);
        let metrics = srv.get(&format!("/api/v1/assets/{id}/metrics"), &admin).await;
        assert_eq!(metrics.json["items"][0]["state"], "normal", "{:?}", metrics.json);
        let (_, html) = srv.page("/", &admin).await;
        assert!(html.contains("No alert is open."), "{html}");
        let (_, html) = srv.page(&format!("/maintenance/assets/{id}"), &admin).await;
        assert!(!html.contains("id=\"asset-attention\""), "{html}");
    }
}

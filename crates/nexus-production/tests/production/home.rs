//! Production on the home page: today's output against yesterday's and the work in
//! progress per work center, the operator's department first; on both engines.

use nexus_server::backend_tests;
use serde_json::json;

use crate::api::record;

backend_tests! {
    async fn home_shows_output_and_wip_of_my_work_centers(srv) {
        let admin = srv.admin_token().await;
        let dept = srv.create("/api/v1/departments", &admin, json!({"name": "Packing"})).await;
        let mine = srv.create("/api/v1/work-centers", &admin,
            json!({"code": "PK1", "name": "Carton line", "department_id": dept})).await;
        let other = srv.create("/api/v1/work-centers", &admin,
            json!({"code": "CT1", "name": "Cutting cell"})).await;
        let res = srv.call("POST", "/api/v1/users", Some(&admin), Some(json!({
            "username": "olga", "password": "olga-password", "role": "user", "department_id": dept,
        }))).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        let olga = srv.login("olga", "olga-password").await;

        assert_eq!(record(srv, &olga, "PO-H1", mine, 10, "IN").await.status, 201);
        assert_eq!(record(srv, &olga, "PO-H1", mine, 4, "OUT").await.status, 201);
        let wrong = record(srv, &olga, "PO-H1", mine, 3, "OUT").await;
        let id = wrong.json["id"].as_i64().unwrap();
        let res = srv.call("POST", &format!("/api/v1/production-orders/{id}/reverse"), Some(&admin), Some(json!({}))).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!(record(srv, &admin, "PO-H2", other, 5, "IN").await.status, 201);

        let (status, html) = srv.page("/", &olga).await;
        assert_eq!(status, 200);
        assert!(html.contains("PK1 Carton line"), "{html}");
        assert!(html.contains("4 out today, 0 yesterday; 6 in progress"), "{html}");
        assert!(!html.contains("CT1"), "only the operator's department: {html}");
        assert!(html.contains("href=\"/production/entry\""), "{html}");
        assert!(html.contains("production_order.created"), "{html}");
        // The panel comes first for someone who records production and does no maintenance.
        let production = html.find("<h2>Production today").unwrap();
        assert!(html.find("<h2>My work").is_none_or(|w| production < w), "{html}");

        // Without a department: every active work center.
        let (_, html) = srv.page("/", &admin).await;
        assert!(html.contains("PK1 Carton line") && html.contains("CT1 Cutting cell"), "{html}");
        assert!(html.contains("0 out today, 0 yesterday; 5 in progress"), "{html}");
    }
}

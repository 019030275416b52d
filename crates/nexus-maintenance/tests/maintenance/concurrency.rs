//! Invariants under concurrent writers (the security issue's concurrency suite; on
//! PostgreSQL transactions really run side by side): work-order numbers stay unique, a
//! part's SKU and an asset's serial are taken once.

use futures_util::future::join_all;
use nexus_server::backend_tests;
use serde_json::json;

backend_tests! {
    async fn numbers_and_unique_names_hold_under_concurrent_creation(srv) {
        let admin = srv.admin_token().await;
        let tech = srv.user_token(&admin, "tom", "staff").await;
        // Thirty work orders at once from two people: every one gets its own number.
        let creations = (0..30).map(|i| {
            let token = if i % 2 == 0 { admin.clone() } else { tech.clone() };
            async move {
                srv.post("/api/v1/work-orders", &token, json!({"title": format!("Job {i}")})).await
            }
        });
        let made = join_all(creations).await;
        assert!(made.iter().all(|r| r.status == 201), "{:?}", made.iter().map(|r| (r.status, r.json.clone())).collect::<Vec<_>>());
        let mut numbers: Vec<String> = made.iter().map(|r| r.json["number"].as_str().unwrap().to_string()).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 30, "{numbers:?}");

        // Ten attempts at one SKU and one type name at once: exactly one each, the rest 409.
        let parts = (0..10).map(|i| {
            let token = admin.clone();
            async move {
                srv.post("/api/v1/parts", &token, json!({"sku": "BRG-6204", "name": format!("Bearing {i}")})).await.status
            }
        });
        let mut statuses = join_all(parts).await;
        statuses.sort();
        assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
        let listed = srv.get("/api/v1/parts?q=BRG-6204", &admin).await;
        assert_eq!(listed.json["total"], 1, "{:?}", listed.json);

        let types = (0..10).map(|_| {
            let token = admin.clone();
            async move {
                srv.post("/api/v1/asset-types", &token, json!({"name": "Centrifugal pump"})).await.status
            }
        });
        let mut statuses = join_all(types).await;
        statuses.sort();
        assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    }
}

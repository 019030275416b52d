//! The activity feed through real HTTP, on SQLite and PostgreSQL: one's own actions, the
//! changes others make to what one follows, and nothing of what one does not follow.

use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
use serde_json::{Value, json};

/// The feed of `token` in `scope`.
async fn feed(srv: &TestServer, token: &str, scope: &str) -> Vec<Value> {
    let res = srv.get(&format!("/api/v1/feed?scope={scope}"), token).await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    res.json["items"].as_array().unwrap().clone()
}

fn types(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["activity_type"].as_str().unwrap())
        .collect()
}

/// Waits (bounded) until `token`'s feed in `scope` holds an entry of `kind`, as the
/// reaction that records follows runs after the change's commit.
async fn until_feed_has(srv: &TestServer, token: &str, scope: &str, kind: &str) -> Vec<Value> {
    for _ in 0..250 {
        let items = feed(srv, token, scope).await;
        if types(&items).contains(&kind) {
            return items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no {kind} in the {scope} feed");
}

backend_tests! {
    async fn the_feed_tells_my_actions_and_changes_to_what_i_follow(srv) {
        let admin = srv.admin_token().await;
        let bob_id = srv.create_user(&admin, "bob", "staff").await;
        let bob = srv.login("bob", "bob-password").await;
        let carol = srv.user_token(&admin, "carol", "staff").await;

        let mine = feed(srv, &bob, "mine").await;
        assert_eq!(types(&mine), ["LOGIN"], "{mine:?}");
        assert_eq!(mine[0]["description"], "bob signed in");
        assert_eq!(mine[0]["mine"], true);

        let site = srv.create("/api/v1/locations", &admin, json!({"name": "Plant"})).await;
        let pump = srv.create("/api/v1/assets", &admin, json!({"name": "Pump", "location_id": site})).await;
        let wo = srv.create("/api/v1/work-orders", &admin, json!({"title": "Replace seal", "asset_id": pump, "assigned_to_id": bob_id})).await;
        let items = until_feed_has(srv, &bob, "following", "WORK_ORDER_CREATED").await;
        let created = items.iter().find(|i| i["activity_type"] == "WORK_ORDER_CREATED").unwrap();
        assert_eq!(created["description"], "admin created work order “Replace seal”");
        assert_eq!(created["link"], format!("/maintenance/work-orders/{wo}"));
        assert_eq!(created["mine"], false);

        let res = srv.patch(&format!("/api/v1/work-orders/{wo}"), &admin, json!({"priority": "high"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let items = until_feed_has(srv, &bob, "following", "WORK_ORDER_UPDATED").await;
        let updated = items.iter().find(|i| i["activity_type"] == "WORK_ORDER_UPDATED").unwrap();
        assert!(updated["changed"].as_array().unwrap().contains(&json!("priority")), "{updated:?}");

        // Carol follows nothing: she sees her sign-in and nothing of the work order.
        let hers = feed(srv, &carol, "all").await;
        assert_eq!(types(&hers), ["LOGIN"], "{hers:?}");
        assert!(feed(srv, &carol, "following").await.is_empty());
    }

    async fn the_feed_pages_by_key(srv) {
        let admin = srv.admin_token().await;
        for n in 0..5 {
            srv.create("/api/v1/locations", &admin, json!({"name": format!("Hall {n}")})).await;
        }
        let first = srv.get("/api/v1/feed?scope=mine&limit=4", &admin).await;
        assert_eq!(first.json["items"].as_array().unwrap().len(), 4);
        let after = first.json["next_after"].as_i64().expect("a next page");
        let rest = srv.get(&format!("/api/v1/feed?scope=mine&limit=4&after={after}"), &admin).await;
        let rest = rest.json["items"].as_array().unwrap();
        assert!(!rest.is_empty());
        assert!(rest.iter().all(|i| i["id"].as_i64().unwrap() < after));
        let res = srv.get("/api/v1/feed?scope=everyone", &admin).await;
        assert_eq!(res.status, 422, "{:?}", res.json);

        let (status, html) = srv.page("/feed?scope=mine", &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("admin created location “Hall 4”"), "{html}");
    }
}

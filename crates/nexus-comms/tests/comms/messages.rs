//! System messages through real HTTP, on SQLite and PostgreSQL: who sees which banner,
//! dismissing, and what is refused.

use chrono::Utc;
use nexus_server::backend_tests;
use nexus_server::testing::csrf;
use serde_json::json;

fn at(hours: i64) -> String {
    (Utc::now() + chrono::Duration::hours(hours)).to_rfc3339()
}

fn titles(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap().to_string())
        .collect()
}

backend_tests! {
    async fn who_sees_which_message(srv) {
        let admin = srv.admin_token().await;
        let ann_id = srv.create_user(&admin, "ann", "staff").await;
        let ann = srv.login("ann", "ann-password").await;
        let bob = srv.user_token(&admin, "bob", "user").await;

        let everyone = srv.create("/api/v1/system-messages", &admin, json!({
            "title": "Maintenance tonight", "content": "The server restarts at 22:00.",
            "message_type": "warning", "is_broadcast": true, "expires_at": at(24)
        })).await;
        let for_ann = srv.post("/api/v1/system-messages", &admin, json!({
            "title": "Your badge expires", "content": "Renew it at the desk.", "target_users": [ann_id]
        })).await;
        assert_eq!(for_ann.status, 201, "{:?}", for_ann.json);
        assert_eq!(for_ann.json["message_type"], "info");
        assert_eq!(for_ann.json["target_users"][0]["username"], "ann");
        let for_ann = for_ann.json["id"].as_i64().unwrap();

        assert_eq!(titles(&srv.get("/api/v1/system-messages/active", &ann).await.json),
            ["Your badge expires", "Maintenance tonight"]);
        assert_eq!(titles(&srv.get("/api/v1/system-messages/active", &bob).await.json), ["Maintenance tonight"]);
        // The targeted one is also a notification.
        let notes = srv.get("/api/v1/notifications?kind=system_message", &ann).await;
        assert_eq!(notes.json["total"], 1, "{:?}", notes.json);

        // Expired: shown to no one.
        use sea_orm::ConnectionTrait;
        let past = (Utc::now() - chrono::Duration::hours(1)).timestamp_micros();
        srv.state.db.write().execute_unprepared(&format!(
            "UPDATE system_messages SET expires_at = {past} WHERE id = {everyone}"
        )).await.unwrap();
        assert_eq!(titles(&srv.get("/api/v1/system-messages/active", &bob).await.json), Vec::<String>::new());

        // Dismissed: gone for the one who dismissed it; bob may not dismiss ann's.
        assert_eq!(srv.post(&format!("/api/v1/system-messages/{for_ann}/dismiss"), &bob, json!({})).await.status, 404);
        assert_eq!(srv.post(&format!("/api/v1/system-messages/{for_ann}/dismiss"), &ann, json!({})).await.status, 204);
        assert_eq!(srv.post(&format!("/api/v1/system-messages/{for_ann}/dismiss"), &ann, json!({})).await.status, 204);
        assert_eq!(titles(&srv.get("/api/v1/system-messages/active", &ann).await.json), Vec::<String>::new());

        // Editing needs the version; deleting withdraws it.
        let stale = srv.patch_if(&format!("/api/v1/system-messages/{for_ann}"), &admin, 7, json!({"title": "X"})).await;
        assert_eq!(stale.status, 412);
        let edited = srv.patch_if(&format!("/api/v1/system-messages/{for_ann}"), &admin, 1,
            json!({"is_broadcast": true, "title": "Badges expire"})).await;
        assert_eq!(edited.status, 200, "{:?}", edited.json);
        assert_eq!(edited.json["version"], 2);
        let gone = srv.client().delete(srv.url(&format!("/api/v1/system-messages/{for_ann}")))
            .bearer_auth(&admin).header("if-match", "\"2\"").send().await.unwrap();
        assert_eq!(gone.status(), 204);
        assert_eq!(srv.get(&format!("/api/v1/system-messages/{for_ann}"), &admin).await.status, 404);
    }

    async fn bad_messages_are_refused(srv) {
        let admin = srv.admin_token().await;
        let bob = srv.user_token(&admin, "bob", "user").await;
        let guest = srv.user_token(&admin, "gus", "guest").await;
        let unknown = srv.post("/api/v1/system-messages", &admin, json!({
            "title": "Hi", "content": "There", "target_users": [987654]
        })).await;
        assert_eq!(unknown.error_fields(), ["target_users"]);
        let nobody = srv.post("/api/v1/system-messages", &admin, json!({"title": "Hi", "content": "There"})).await;
        assert_eq!(nobody.error_fields(), ["target_users"]);
        let past = srv.post("/api/v1/system-messages", &admin, json!({
            "title": "Hi", "content": "There", "is_broadcast": true, "expires_at": at(-1)
        })).await;
        assert_eq!(past.error_fields(), ["expires_at"]);
        let kind = srv.post("/api/v1/system-messages", &admin, json!({
            "title": "Hi", "content": "There", "is_broadcast": true, "message_type": "shout"
        })).await;
        assert_eq!(kind.error_fields(), ["message_type"]);
        let body = json!({"title": "Hi", "content": "There", "is_broadcast": true});
        assert_eq!(srv.post("/api/v1/system-messages", &bob, body.clone()).await.status, 403);
        assert_eq!(srv.post("/api/v1/system-messages", &guest, body).await.status, 403);
        assert_eq!(srv.get("/api/v1/system-messages", &bob).await.status, 403);
        assert_eq!(srv.get("/api/v1/system-messages/active", &guest).await.status, 200);
    }

    async fn the_page_posts_for_users_chosen_by_name(srv) {
        let admin = srv.admin_token().await;
        srv.create_user(&admin, "ann", "staff").await;
        let ann = srv.login("ann", "ann-password").await;
        let (status, html) = srv.page("/system-messages", &admin).await;
        assert_eq!(status, 200);
        let token = csrf(&html);
        let (status, _, html) = srv.submit("/system-messages", &admin, &[("csrf", &token), ("title", "Fire drill"),
            ("content", "At noon."), ("message_type", "warning"), ("target_users", "ann, nobody"), ("expires_at", "")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("no user named nobody"), "{html}");
        assert!(html.contains(r#"value="Fire drill""#), "a refused form keeps what was typed");
        let (status, _, html) = srv.submit("/system-messages", &admin, &[("csrf", &token), ("title", "Fire drill"),
            ("content", "At noon."), ("target_users", "ann"), ("expires_at", "2001-01-01T10:00")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("must be in the future"), "{html}");
        let (status, to, _) = srv.submit("/system-messages", &admin, &[("csrf", &token), ("title", "Fire drill"),
            ("content", "At noon."), ("message_type", "warning"), ("target_users", "@ann"), ("expires_at", "")]).await;
        assert_eq!(status, 303);
        assert!(to.starts_with("/system-messages?done=posted#m"), "{to}");
        let active = srv.get("/api/v1/system-messages/active", &ann).await.json;
        assert_eq!(titles(&active), ["Fire drill"]);
        assert_eq!(active[0]["message_type"], "warning");
        let (_, html) = srv.page("/system-messages", &admin).await;
        assert!(html.contains("For ann"), "{html}");

        let (status, _) = srv.page("/system-messages", &ann).await;
        assert_eq!(status, 403);
    }
}

//! Two nodes over one PostgreSQL database: an announcement published on one reaches a
//! reader's open stream on the other, even for an audience too large for one NOTIFY, and
//! its notifications are made once, by the node where it was published.

use nexus_server::testing::{Backend, TestServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_crosses_nodes_once() {
    let Some(a) = TestServer::start(Backend::Postgres).await else {
        return;
    };
    let b = a.second_node().await;
    let admin = a.admin_token().await;
    // Six hundred readers: the event's audience crosses in several envelopes.
    nexus_identity::service::seed_people(&a.state, "reader", 600)
        .await
        .unwrap();
    a.create_user(&admin, "bob", "user").await;
    let bob = b.login("bob", "bob-password").await;
    let mut stream = b
        .client()
        .get(b.url("/api/v1/events/stream?topics=update,notification"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    let res = a
        .post(
            "/api/v1/updates",
            &admin,
            json!({"title": "Canteen closed Friday", "content": "Bring lunch.", "type": "news",
                   "target_all": true, "status": "published"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.json);

    let mut seen = String::new();
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("event: update.published")
                && seen.contains("event: notification.created")
            {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(got, Ok(true), "{seen}");
    assert!(seen.contains("Canteen closed Friday"), "{seen}");

    // One notification, though both nodes heard the event.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mine = b.get("/api/v1/notifications", &bob).await;
    assert_eq!(mine.json["total"], 1, "{:?}", mine.json);
    b.finish().await;
    a.finish().await;
}

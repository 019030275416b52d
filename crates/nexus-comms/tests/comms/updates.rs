//! Announcements through real HTTP, on SQLite and PostgreSQL: composing for an audience,
//! publishing now or on schedule, reading, acknowledging, comments, likes, files, who
//! read what, and that nobody outside the audience ever learns of one.

use chrono::{Duration, Utc};
use fantoccini::Client;
use nexus_server::backend_tests;
use nexus_server::testing::browser::{
    Screen, Step, appears, check, click, fill, fits, flash, goto, run_on_sqlite, screenshot,
    select, sign_in, text, value,
};
use nexus_server::testing::{ADMIN_PASSWORD, TestServer, csrf};
use serde_json::{Value, json};

/// An RFC 3339 instant `hours` from now.
fn at(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours)).to_rfc3339()
}

async fn compose(srv: &TestServer, token: &str, body: Value) -> Value {
    let res = srv.post("/api/v1/updates", token, body).await;
    assert_eq!(res.status, 201, "{:?}", res.json);
    res.json
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["id"].as_i64().expect("id"))
        .collect()
}

async fn feed(srv: &TestServer, token: &str) -> Vec<i64> {
    let res = srv.get("/api/v1/updates", token).await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    ids(&res.json)
}

async fn unread(srv: &TestServer, token: &str) -> i64 {
    let res = srv.get("/api/v1/updates/unread-count", token).await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    res.json["unread"].as_i64().expect("unread")
}

/// The newest notification of `token`'s user, once one has been made (publishing answers
/// before its recipients' notifications are written).
async fn until_notified(srv: &TestServer, token: &str) -> Value {
    for _ in 0..250 {
        let res = srv.get("/api/v1/notifications", token).await;
        if let Some(first) = res.json["items"].as_array().and_then(|a| a.first()) {
            return first.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no notification came");
}

/// Uploads `bytes` as `name` through the files API; the new file's id.
async fn upload(srv: &TestServer, token: &str, name: &str, bytes: &[u8]) -> i64 {
    let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("file", part);
    let req = srv
        .client()
        .post(srv.url("/api/v1/files"))
        .bearer_auth(token);
    let res = TestServer::read(req.multipart(form).send().await.expect("upload")).await;
    assert_eq!(res.status, 201, "{:?}", res.json);
    res.json["id"].as_i64().expect("id")
}

/// The smallest PNG: a 1×1 transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

backend_tests! {
    async fn publish_read_and_acknowledge(srv) {
        let admin = srv.admin_token().await;
        let mgr = srv.user_token(&admin, "maria", "manager").await;
        let ann_id = srv.create_user(&admin, "ann", "user").await;
        let ann = srv.login("ann", "ann-password").await;
        let bob = srv.user_token(&admin, "bob", "user").await;
        let gus = srv.user_token(&admin, "gus", "guest").await;

        let u = compose(srv, &mgr, json!({
            "title": " Lockout procedure changed ", "type": "Alert", "priority": "critical",
            "content": "**Read this** before your shift.\n\n- step one\n- step two\n\n<script>alert(1)</script>\n\n<b onclick=\"x()\">raw</b> [evil](javascript:alert(2))",
            "ack_required": true, "targets": {"users": [ann_id], "roles": ["guest"]}, "status": "published"
        })).await;
        let id = u["id"].as_i64().unwrap();
        assert_eq!((u["title"].as_str(), u["type"].as_str(), u["status"].as_str()), (Some("Lockout procedure changed"), Some("alert"), Some("published")));
        assert_eq!(u["targets"]["users"][0]["name"], "ann");
        assert_eq!(u["targets"]["roles"][0]["name"], "guest");

        // Its audience is notified (after the publish answers), nobody else.
        let told = until_notified(srv, &ann).await;
        assert_eq!((told["kind"].as_str(), told["type"].as_str()), (Some("announcement"), Some("alert")));
        assert_eq!(told["link"], format!("/updates/{id}"));
        assert!(told["message"].as_str().unwrap().ends_with("Please acknowledge it."), "{told:?}");
        let bobs = srv.get("/api/v1/notifications", &bob).await;
        assert_eq!(bobs.json["total"], 0, "{:?}", bobs.json);

        // Its audience has it, unread; anyone else has nothing, and gets 404 by id.
        assert_eq!(feed(srv, &ann).await, [id]);
        assert_eq!(feed(srv, &gus).await, [id]);
        assert_eq!(unread(srv, &ann).await, 1);
        assert!(feed(srv, &bob).await.is_empty());
        assert_eq!(unread(srv, &bob).await, 0);
        assert_eq!(srv.get(&format!("/api/v1/updates/{id}"), &bob).await.status, 404);

        // Read: rendered Markdown, raw HTML and script inert; reading marks it read.
        let read = srv.get(&format!("/api/v1/updates/{id}"), &ann).await;
        assert_eq!(read.status, 200, "{:?}", read.json);
        let html = read.json["content_html"].as_str().unwrap();
        assert!(html.contains("<strong>Read this</strong>") && html.contains("<li>step one</li>"), "{html}");
        assert!(!html.contains("<script") && html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<b ") && !html.contains("javascript"), "{html}");
        assert_eq!(unread(srv, &ann).await, 0);
        let counts = srv.get("/api/v1/updates/unread-count", &ann).await.json;
        assert_eq!(counts["unacknowledged"], 1);

        // Acknowledged once; twice is 409; outside the audience it is 404.
        let ack = srv.post(&format!("/api/v1/updates/{id}/acknowledge"), &ann, json!({})).await;
        assert_eq!(ack.status, 200, "{:?}", ack.json);
        assert!(ack.json["acknowledged_at"].is_string());
        let again = srv.post(&format!("/api/v1/updates/{id}/acknowledge"), &ann, json!({})).await;
        assert_eq!(again.status, 409);
        assert!(again.json["detail"].as_str().unwrap().contains("already acknowledged"), "{:?}", again.json);
        assert_eq!(srv.post(&format!("/api/v1/updates/{id}/acknowledge"), &bob, json!({})).await.status, 404);

        // The author sees who read and acknowledged; a reader may not, an outsider gets 404.
        let report = srv.get(&format!("/api/v1/updates/{id}/receipts"), &mgr).await;
        assert_eq!(report.status, 200, "{:?}", report.json);
        assert_eq!((&report.json["recipients"], &report.json["read"], &report.json["acknowledged"]), (&json!(2), &json!(1), &json!(1)));
        assert_eq!(report.json["people"]["total"], 2);
        let unacked = srv.get(&format!("/api/v1/updates/{id}/receipts?state=unacknowledged"), &mgr).await;
        assert_eq!(unacked.json["people"]["items"][0]["username"], "gus");
        assert_eq!(srv.get(&format!("/api/v1/updates/{id}/receipts"), &ann).await.status, 403);
        assert_eq!(srv.get(&format!("/api/v1/updates/{id}/receipts"), &bob).await.status, 404);
        assert_eq!(srv.get(&format!("/api/v1/updates/{id}/receipts?state=bogus"), &mgr).await.status, 422);
        let (status, ct, csv) = srv.download(&format!("/api/v1/updates/{id}/receipts.csv"), Some(&mgr)).await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("text/csv"), "{ct}");
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.starts_with("user_id,username,name,department,read_at,acknowledged_at") && csv.contains(",ann,") && csv.contains(",gus,"), "{csv}");

        // A guest reads but writes nothing.
        assert_eq!(srv.post("/api/v1/updates", &gus, json!({"title": "x", "content": "y", "type": "news"})).await.status, 403);
        assert_eq!(srv.post(&format!("/api/v1/updates/{id}/comments"), &gus, json!({"content": "hi"})).await.status, 403);
        assert_eq!(srv.post(&format!("/api/v1/updates/{id}/like"), &gus, json!({})).await.status, 403);
    }

    async fn bad_input_changes_nothing(srv) {
        let admin = srv.admin_token().await;
        let mgr = srv.user_token(&admin, "maria", "manager").await;
        let base = || json!({"title": "Notice", "content": "Text", "type": "news", "status": "published"});
        let with = |extra: Value| {
            let mut b = base();
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            b
        };
        for (extra, field) in [
            (json!({"targets": {"users": [999_999]}}), "targets.users"),
            (json!({"targets": {"departments": [999_999]}}), "targets.departments"),
            (json!({"targets": {"roles": ["no-such-role"]}}), "targets.roles"),
            (json!({"targets": {"roles": [999_999]}}), "targets.roles"),
            (json!({"target_all": true, "status": "scheduled", "publish_at": at(-1)}), "publish_at"),
            (json!({"target_all": true, "status": "scheduled"}), "publish_at"),
            (json!({}), "targets"),
            (json!({"target_all": true, "type": "gossip"}), "type"),
            (json!({"target_all": true, "priority": "urgent"}), "priority"),
            (json!({"target_all": true, "title": "x".repeat(201)}), "title"),
            (json!({"target_all": true, "targets": {"users": "ann"}}), "targets.users"),
        ] {
            let res = srv.post("/api/v1/updates", &mgr, with(extra.clone())).await;
            assert_eq!(res.status, 422, "{extra}: {:?}", res.json);
            assert!(res.error_fields().contains(&field.to_string()), "{extra}: {:?}", res.json);
        }
        let mine = srv.get("/api/v1/updates?mine=true", &mgr).await;
        assert_eq!(mine.json["total"], 0, "nothing was created: {:?}", mine.json);
        assert_eq!(srv.get("/api/v1/updates?type=gossip", &mgr).await.status, 422);
        assert_eq!(srv.get("/api/v1/updates?sort=title", &mgr).await.status, 422);
    }

    async fn drafts_schedules_and_unpublishing(srv) {
        let admin = srv.admin_token().await;
        let mgr = srv.user_token(&admin, "maria", "manager").await;
        let other_mgr = srv.user_token(&admin, "otto", "manager").await;
        let ann = srv.user_token(&admin, "ann", "user").await;
        let staff = srv.user_token(&admin, "sam", "staff").await;

        // A draft: only its author and holders of updates:manage see it.
        let draft = compose(srv, &mgr, json!({"title": "Draft", "content": "Soon", "type": "news", "target_all": true})).await;
        let draft_id = draft["id"].as_i64().unwrap();
        assert_eq!(draft["status"], "draft");
        assert!(feed(srv, &ann).await.is_empty());
        assert_eq!(unread(srv, &ann).await, 0);
        assert_eq!(srv.get(&format!("/api/v1/updates/{draft_id}"), &ann).await.status, 404);
        assert_eq!(srv.get(&format!("/api/v1/updates/{draft_id}"), &other_mgr).await.status, 200);
        let drafts = srv.get("/api/v1/updates?status=draft", &staff).await;
        assert_eq!(drafts.json["total"], 0, "{:?}", drafts.json);
        assert_eq!(ids(&srv.get("/api/v1/updates?status=draft", &other_mgr).await.json), [draft_id]);
        assert_eq!(ids(&srv.get("/api/v1/updates?mine=true", &mgr).await.json), [draft_id]);

        // Scheduled: invisible to readers until the background pass publishes it.
        let sched = compose(srv, &mgr, json!({"title": "Shutdown", "content": "Plant shutdown Friday", "type": "maintenance",
            "target_all": true, "publish_at": at(1)})).await;
        let sched_id = sched["id"].as_i64().unwrap();
        assert_eq!(sched["status"], "scheduled");
        assert_eq!(srv.get(&format!("/api/v1/updates/{sched_id}"), &ann).await.status, 404);
        assert!(nexus_comms::service::updates::publish_due(&srv.state).await.unwrap().is_empty(), "not due yet");
        {
            use sea_orm::ConnectionTrait;
            let past = (Utc::now() - Duration::minutes(1)).timestamp_micros();
            srv.state.db.write().execute_unprepared(
                &format!("UPDATE updates SET publish_at = {past} WHERE id = {sched_id}")).await.unwrap();
        }
        assert_eq!(nexus_comms::service::updates::publish_due(&srv.state).await.unwrap(), [sched_id]);
        assert!(nexus_comms::service::updates::publish_due(&srv.state).await.unwrap().is_empty(), "published once");
        assert_eq!(feed(srv, &ann).await, [sched_id]);
        assert_eq!(unread(srv, &ann).await, 1);
        let published = srv.get(&format!("/api/v1/updates/{sched_id}"), &mgr).await.json;
        assert_eq!(published["status"], "published");
        assert!(published["publish_at"].is_null() && published["published_at"].is_string());

        // Publishing the draft by PATCH, with a stale version refused.
        let path = format!("/api/v1/updates/{draft_id}");
        assert_eq!(srv.patch_if(&path, &mgr, 7, json!({"status": "published"})).await.status, 412);
        assert_eq!(srv.patch_if(&path, &ann, 1, json!({"title": "mine now"})).await.status, 403, "readers do not write");
        let res = srv.patch_if(&path, &mgr, 1, json!({"status": "published", "title": "Draft, now out"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.header("etag"), Some("\"2\""));
        assert_eq!(feed(srv, &ann).await, [draft_id, sched_id]);
        assert_eq!(srv.patch_if(&path, &mgr, 2, json!({"status": "draft"})).await.status, 409);
        assert_eq!(srv.call("DELETE", &path, Some(&mgr), None).await.status, 409, "published: unpublish instead");

        // Unpublished: gone from readers' feeds, counts and reach, kept for the author.
        let res = srv.patch_if(&path, &mgr, 2, json!({"status": "unpublished"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(feed(srv, &ann).await, [sched_id]);
        assert_eq!(srv.get(&path, &ann).await.status, 404);
        assert_eq!(srv.get(&path, &mgr).await.status, 200);

        // A new draft is deleted; staff do not compose.
        let gone = compose(srv, &mgr, json!({"title": "Oops", "content": "x", "type": "news"})).await["id"].as_i64().unwrap();
        assert_eq!(srv.call("DELETE", &format!("/api/v1/updates/{gone}"), Some(&mgr), None).await.status, 204);
        assert_eq!(srv.get(&format!("/api/v1/updates/{gone}"), &mgr).await.status, 404);
        assert_eq!(srv.post("/api/v1/updates", &staff, json!({"title": "x", "content": "y", "type": "news"})).await.status, 403);
    }

    async fn departments_and_events_reach_only_the_audience(srv) {
        let admin = srv.admin_token().await;
        let mgr = srv.user_token(&admin, "maria", "manager").await;
        let ann_id = srv.create_user(&admin, "ann", "user").await;
        let ann = srv.login("ann", "ann-password").await;
        let bob_id = srv.create_user(&admin, "bob", "user").await;
        let bob = srv.login("bob", "bob-password").await;
        let dept = srv.get("/api/v1/departments", &admin).await.json["items"][0].clone();
        let dept_id = dept["id"].as_i64().unwrap();
        let moved = srv.patch(&format!("/api/v1/users/{ann_id}"), &admin, json!({"department_id": dept_id})).await;
        assert_eq!(moved.status, 200, "{:?}", moved.json);

        let mut events = srv.state.events.subscribe();
        let u = compose(srv, &mgr, json!({"title": "Dept news", "content": "For one department", "type": "news",
            "targets": {"departments": [dept_id]}, "status": "published"})).await;
        let id = u["id"].as_i64().unwrap();
        assert_eq!(feed(srv, &ann).await, [id]);
        assert!(feed(srv, &bob).await.is_empty());
        let report = srv.get(&format!("/api/v1/updates/{id}/receipts"), &mgr).await.json;
        assert_eq!(report["departments"][0]["department"], dept["name"]);
        assert_eq!(report["departments"][0]["recipients"], 1);

        // Every event of it is for its audience, its author and managers: never all.
        let mut published = None;
        while let Ok(Ok(e)) = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await {
            if e.entity == "update" {
                assert_ne!(e.audience, nexus_core::events::Audience::All, "{e:?}");
            }
            if e.kind == "update.published" {
                published = Some(e);
                break;
            }
        }
        let published = published.expect("update.published");
        match &published.audience {
            nexus_core::events::Audience::Involved { users, .. } => {
                assert!(users.contains(&ann_id) && !users.contains(&bob_id), "{users:?}");
            }
            other => panic!("audience {other:?}"),
        }
    }

    async fn comments_likes_and_files(srv) {
        let admin = srv.admin_token().await;
        let mgr = srv.user_token(&admin, "maria", "manager").await;
        let ann_id = srv.create_user(&admin, "ann", "user").await;
        let ann = srv.login("ann", "ann-password").await;
        let bob = srv.user_token(&admin, "bob", "user").await;
        let u = compose(srv, &mgr, json!({"title": "New canteen", "content": "Opens Monday", "type": "news",
            "targets": {"users": [ann_id]}, "status": "published"})).await;
        let id = u["id"].as_i64().unwrap();

        // Not visible: 404, and nothing changes.
        assert_eq!(srv.post(&format!("/api/v1/updates/{id}/comments"), &bob, json!({"content": "me too"})).await.status, 404);
        assert_eq!(srv.get(&format!("/api/v1/updates/{id}/comments"), &bob).await.status, 404);
        assert_eq!(srv.post(&format!("/api/v1/updates/{id}/like"), &bob, json!({})).await.status, 404);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/updates/{id}/like"), Some(&bob), None).await.status, 404);
        let seen = srv.get(&format!("/api/v1/updates/{id}"), &mgr).await.json;
        assert_eq!((&seen["like_count"], &seen["comment_count"]), (&json!(0), &json!(0)));

        // A reader comments and likes, once however often.
        let c = srv.post(&format!("/api/v1/updates/{id}/comments"), &ann, json!({"content": " <b>Great</b> "})).await;
        assert_eq!(c.status, 201, "{:?}", c.json);
        assert_eq!((c.json["content"].as_str(), c.json["author"].as_str()), (Some("<b>Great</b>"), Some("ann")));
        assert_eq!(srv.post(&format!("/api/v1/updates/{id}/comments"), &ann, json!({"content": "  "})).await.error_fields(), ["content"]);
        assert_eq!(srv.post(&format!("/api/v1/updates/{id}/like"), &ann, json!({})).await.json["like_count"], 1);
        let twice = srv.post(&format!("/api/v1/updates/{id}/like"), &ann, json!({})).await.json;
        assert_eq!((&twice["like_count"], &twice["liked_by_me"]), (&json!(1), &json!(true)));
        let seen = srv.get(&format!("/api/v1/updates/{id}"), &ann).await.json;
        assert_eq!((&seen["like_count"], &seen["liked_by_me"], &seen["comment_count"]), (&json!(1), &json!(true), &json!(1)));
        assert_eq!(srv.get(&format!("/api/v1/updates/{id}/comments"), &ann).await.json["items"][0]["content"], "<b>Great</b>");
        assert_eq!(srv.call("DELETE", &format!("/api/v1/updates/{id}/like"), Some(&ann), None).await.json["like_count"], 0);

        // Files: attached and shown as media through the files the content domain stores.
        let png = upload(srv, &mgr, "canteen.png", PNG).await;
        let txt = upload(srv, &mgr, "menu.txt", b"Soup of the day").await;
        let a = srv.post(&format!("/api/v1/updates/{id}/attachments"), &mgr, json!({"file_id": txt})).await;
        assert_eq!(a.status, 201, "{:?}", a.json);
        assert_eq!(a.json["filename"], "menu.txt");
        let wrong = srv.post(&format!("/api/v1/updates/{id}/media"), &mgr, json!({"file_id": png, "media_type": "video"})).await;
        assert_eq!((wrong.status, wrong.error_fields()), (422, vec!["file_id".to_string()]), "{:?}", wrong.json);
        let kind = srv.post(&format!("/api/v1/updates/{id}/media"), &mgr, json!({"file_id": png, "media_type": "hologram"})).await;
        assert_eq!(kind.error_fields(), ["media_type"]);
        let missing = srv.post(&format!("/api/v1/updates/{id}/attachments"), &mgr, json!({"file_id": 999_999})).await;
        assert_eq!(missing.error_fields(), ["file_id"]);
        assert_eq!(srv.post(&format!("/api/v1/updates/{id}/attachments"), &ann, json!({"file_id": txt})).await.status, 403);
        let m = srv.post(&format!("/api/v1/updates/{id}/media"), &mgr, json!({"file_id": png, "media_type": "image", "caption": "The new room"})).await;
        assert_eq!(m.status, 201, "{:?}", m.json);

        // Its reader downloads them through the update (the file itself stays private).
        let seen = srv.get(&format!("/api/v1/updates/{id}"), &ann).await.json;
        let url = seen["attachments"][0]["url"].as_str().unwrap().to_string();
        let (status, _, body) = srv.download(&url, Some(&ann)).await;
        assert_eq!((status, body.as_slice()), (200, b"Soup of the day".as_slice()));
        assert_eq!(srv.download(&format!("/api/v1/files/{txt}/content"), Some(&ann)).await.0, 404);
        assert_eq!(srv.download(&url, Some(&bob)).await.0, 404);
        let media = seen["media"][0].clone();
        assert_eq!((media["caption"].as_str(), media["mime_type"].as_str()), (Some("The new room"), Some("image/png")));
        let (status, ct, body) = srv.download(media["url"].as_str().unwrap(), Some(&ann)).await;
        assert_eq!((status, ct.as_str(), body.as_slice()), (200, "image/png", PNG));
    }

    async fn compose_and_read_on_the_pages(srv) {
        let admin = srv.admin_token().await;
        let mgr = srv.user_token(&admin, "maria", "manager").await;
        let ann = srv.user_token(&admin, "ann", "user").await;
        let (status, html) = srv.page("/updates/new", &mgr).await;
        assert_eq!(status, 200, "{html}");
        let token = csrf(&html);
        let (_, options) = srv.page("/updates/choices/people?q=maria,%20an", &mgr).await;
        assert!(options.contains("value=\"maria, ann\""), "{options}");

        // Refused: the form comes back with what was typed and the error by the field.
        let form = |people: &'static str| vec![("csrf", token.clone()), ("title", "Fire drill".to_string()),
            ("content", "Assemble at **gate 2**".into()), ("type", "alert".into()), ("priority", "high".into()),
            ("ack_required", "on".into()), ("audience", "chosen".into()), ("people", people.into()), ("action", "publish".into())];
        let bad = form("ann, nobody");
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, html) = srv.submit("/updates", &mgr, &bad).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("no user is called “nobody”") && html.contains("value=\"Fire drill\""), "{html}");
        assert!(srv.get("/api/v1/updates?mine=true", &mgr).await.json["total"] == 0);

        let good = form("ann");
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, to, html) = srv.submit("/updates", &mgr, &good).await;
        assert_eq!(status, 303, "{html}");
        assert!(to.ends_with("?done=published"), "{to}");

        // The reader sees it marked new, reads it rendered and acknowledges it.
        let (_, list) = srv.page("/updates", &ann).await;
        assert!(list.contains("Fire drill") && list.contains(">New<"), "{list}");
        let (status, page) = srv.page(&to, &ann).await;
        assert_eq!(status, 200);
        assert!(page.contains("<strong>gate 2</strong>") && page.contains("id=\"acknowledge\""), "{page}");
        let id = to.trim_start_matches("/updates/").split('?').next().unwrap().to_string();
        let (status, back, _) = srv.submit(&format!("/updates/{id}/acknowledge"), &ann, &[("csrf", &csrf(&page))]).await;
        assert_eq!((status, back.as_str()), (303, format!("/updates/{id}?done=acknowledged").as_str()));
        let (_, page) = srv.page(&back, &ann).await;
        assert!(page.contains("your acknowledgement is recorded") && page.contains("You acknowledged this on"), "{page}");

        // The author edits it; a reader may not. A schedule needs its time, next to the field.
        let edit = format!("/updates/{id}/edit");
        let (status, html) = srv.page(&edit, &mgr).await;
        assert!(status == 200 && html.contains("value=\"Fire drill\"") && html.contains("id=\"unpublish-update\""), "{html}");
        assert_eq!(srv.page(&edit, &ann).await.0, 403);
        let (status, _, html) = srv.submit("/updates", &mgr, &[("csrf", &token), ("title", "Later"), ("content", "x"),
            ("type", "news"), ("priority", "low"), ("audience", "all"), ("publish_at", "not a time"), ("action", "schedule")]).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("id=\"publish_at-error\"") && html.contains("value=\"Later\""), "{html}");

        // The author's report says who read it.
        let (status, report) = srv.page(&format!("/updates/{id}/receipts"), &mgr).await;
        assert_eq!(status, 200, "{report}");
        assert!(report.contains("1 of 1 recipient read it") && report.contains("receipts.csv"), "{report}");
        assert_eq!(srv.page(&format!("/updates/{id}/receipts"), &ann).await.0, 403);
    }
}

/// A manager at a desk composes a safety notice with a picture for one person by name;
/// she reads and acknowledges it on a phone, and the manager sees it in the report.
async fn notice_in_the_browser(desk: &Client, phone: &Client, srv: &TestServer) -> Step {
    let base = &srv.base_url;
    let admin = srv.admin_token().await;
    srv.create_user(&admin, "ann", "user").await;
    let png = upload(srv, &admin, "gate.png", PNG).await;

    goto(desk, &format!("{base}/updates/new")).await?;
    sign_in(desk, "admin", ADMIN_PASSWORD).await?;
    fill(desk, "title", "Gate 2 closed").await?;
    fill(
        desk,
        "content",
        "Use **gate 3** until Friday.\n\n- bring your badge\n- <script>alert(1)</script>",
    )
    .await?;
    select(desk, "type", "Alert").await?;
    select(desk, "priority", "High").await?;
    click(desk, "input[name='ack_required']").await?;
    click(desk, "input[name='audience'][value='chosen']").await?;
    fill(desk, "people", "nobody").await?;
    click(desk, "#publish-update").await?;
    let error = text(desk, "#people-error").await?;
    check(error.contains("nobody"), format!("people error: {error}"))?;
    check(
        value(desk, "#title").await? == "Gate 2 closed",
        "title kept after a refusal",
    )?;
    fill(desk, "people", "ann").await?;
    click(desk, "#publish-update").await?;
    flash(desk, "Published. Its audience can read it now.").await?;
    let url = desk.current_url().await.map_err(|e| e.to_string())?;
    let id: i64 = url
        .path()
        .trim_start_matches("/updates/")
        .parse()
        .map_err(|e| format!("{url}: {e}"))?;
    let media = srv
        .post(
            &format!("/api/v1/updates/{id}/media"),
            &admin,
            json!({"file_id": png, "media_type": "image", "caption": "Gate 3 is by the canteen"}),
        )
        .await;
    check(media.status == 201, format!("media: {:?}", media.json))?;
    screenshot(desk, "/tmp/update-desk.png").await?;

    goto(phone, &format!("{base}/updates")).await?;
    sign_in(phone, "ann", "ann-password").await?;
    let card = text(phone, "#updates").await?;
    check(
        card.contains("Gate 2 closed")
            && card.contains("New")
            && card.contains("Please acknowledge"),
        format!("feed: {card}"),
    )?;
    fits(phone).await?;
    click(phone, &format!("#u{id} a")).await?;
    let content = text(phone, "#update-content").await?;
    check(
        content.contains("<script>alert(1)</script>"),
        format!("script shown as text: {content}"),
    )?;
    appears(phone, "figure.upd-media img").await?;
    fits(phone).await?;
    screenshot(phone, "/tmp/update-phone.png").await?;
    click(phone, "#acknowledge").await?;
    flash(phone, "Thank you: your acknowledgement is recorded.").await?;

    goto(desk, &format!("{base}/updates/{id}/receipts")).await?;
    let summary = text(desk, "#receipt-summary").await?;
    check(
        summary.contains("1 of 1 recipient read it") && summary.contains("1 acknowledged it"),
        format!("summary: {summary}"),
    )?;
    screenshot(desk, "/tmp/update-receipts-desk.png").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_composed_at_a_desk_is_acknowledged_on_a_phone() {
    run_on_sqlite(
        &[("desk", Screen::Desk), ("phone", Screen::Phone)],
        async |c, srv| notice_in_the_browser(&c[0], &c[1], srv).await,
    )
    .await;
}

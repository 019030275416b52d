//! Cross-cutting guarantees through real HTTP: every route guarded, no input answered
//! with 500, health, metrics, docs and security headers; background jobs across nodes
//! and the operator's metrics (`jobs`); and in headless Chromium, every page of the
//! navigation for every built-in role (`sweep`).

#[path = "server/jobs.rs"]
mod jobs;
#[path = "server/sweep.rs"]
mod sweep;

use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
use serde_json::{Value, json};

const WRITES: [&str; 4] = ["post", "put", "patch", "delete"];

/// Every operation of the OpenAPI document: (method, concrete path, public, scopes).
async fn operations(srv: &TestServer) -> Vec<(String, String, bool, Vec<String>)> {
    let mut ops = documented(srv).await;
    for (_, path, _, _) in &mut ops {
        *path = path.replace("{id}", "1");
    }
    ops
}

/// Every operation of the OpenAPI document: (method, documented path, public, scopes).
async fn documented(srv: &TestServer) -> Vec<(String, String, bool, Vec<String>)> {
    let doc = srv.call("GET", "/api/openapi.json", None, None).await.json;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let security = op["security"]
                .as_array()
                .expect("every operation declares security");
            let public = security
                .iter()
                .any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            let scopes = security
                .iter()
                .filter_map(|s| s["bearer"].as_array())
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            out.push((method.clone(), path.clone(), public, scopes));
        }
    }
    assert!(out.len() > 20, "the document lists the API");
    out
}

backend_tests! {
    async fn every_route_is_guarded(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        for (method, path, public, scopes) in operations(srv).await {
            if public {
                continue;
            }
            let anon = srv.call(&method.to_uppercase(), &path, None, Some(json!({}))).await;
            assert_eq!(anon.status, 401, "anonymous {method} {path}");
            if WRITES.contains(&method.as_str()) && !scopes.is_empty() {
                let res = srv.call(&method.to_uppercase(), &path, Some(&guest), Some(json!({}))).await;
                assert_eq!(res.status, 403, "guest {method} {path}");
            }
        }
    }

    async fn no_input_gets_a_500(srv) {
        let admin = srv.admin_token().await;
        let bodies: Vec<Option<Value>> = vec![
            None,
            Some(json!(null)),
            Some(json!([])),
            Some(json!("text")),
            Some(json!({"name": 1, "username": [], "password": {}, "permissions": "all"})),
            Some(json!({"name": "x".repeat(10_000), "description": "\u{0}\u{ffff}", "email": "a@b.c"})),
            Some(json!({"department_id": i64::MAX, "limit": -1, "is_active": "yes"})),
        ];
        let queries = ["", "?limit=-1&offset=-5", "?sort=;drop table users", "?from=2026-13-45&after=x", "?limit=999999999999999999999", "?q=%00", "?offset=9223372036854775807"];
        for (method, path, _, _) in operations(srv).await {
            if path.ends_with("/auth/logout") || path.ends_with("/auth/password") || path.ends_with("/events/stream") {
                continue;
            }
            for q in queries {
                for body in &bodies {
                    let res = srv.call(&method.to_uppercase(), &format!("{path}{q}"), Some(&admin), body.clone()).await;
                    assert!(res.status < 500, "{method} {path}{q} {body:?} -> {} {:?}", res.status, res.json);
                }
            }
            for id in ["0", "-1", "99999999999999999999", "abc"] {
                let p = path.replace("/1", &format!("/{id}"));
                let res = srv.call(&method.to_uppercase(), &p, Some(&admin), Some(json!({}))).await;
                assert!(res.status < 500, "{method} {p} -> {}", res.status);
            }
        }
        // Raw malformed bodies and content types.
        let client = srv.client();
        for (ct, body) in [("application/json", "{\"name\":"), ("application/json", "\u{0}"), ("text/plain", "hello"), ("application/json", "")] {
            let res = client.post(srv.url("/api/v1/departments")).bearer_auth(&admin).header("content-type", ct).body(body).send().await.unwrap();
            assert!(res.status().is_client_error(), "{ct} {body:?} -> {}", res.status());
        }
    }

    async fn oversized_bodies_are_refused(srv) {
        let admin = srv.admin_token().await;
        let big = "x".repeat(3 * 1024 * 1024);
        let res = srv.call("POST", "/api/v1/departments", Some(&admin), Some(json!({"name": big}))).await;
        assert_eq!(res.status, 413);
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        let list = srv.call("GET", "/api/v1/departments", Some(&admin), None).await;
        assert_eq!(list.json["total"], 6);
    }

    async fn health_metrics_docs_and_headers(srv) {
        let client = srv.client();
        let health = client.get(srv.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
        ] {
            assert_eq!(health.headers()[name], value);
        }
        assert!(health.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(client.get(srv.url("/readyz")).send().await.unwrap().status(), 200);

        srv.admin_token().await;
        let metrics = client.get(srv.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("http_requests_total{method=\"POST\",route=\"/api/v1/auth/login\",status=\"200\"}"), "{metrics}");
        assert!(metrics.contains("http_request_duration_seconds_bucket"));
        assert!(metrics.contains("db_pool_connections"));

        let docs = client.get(srv.url("/api/docs/")).send().await.unwrap();
        assert_eq!(docs.status(), 200);
        assert!(docs.text().await.unwrap().contains("swagger-ui"));

        let missing = srv.call("GET", "/api/v1/does-not-exist", None, None).await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.json["status"], 404);
    }
}

/// Polls `check` until it holds or 5 s pass; returns whether it held.
async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

/// Two nodes over one PostgreSQL database: a change on one is seen by the other's token
/// checks at once (LISTEN/NOTIFY), not after the cache expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_changes_through_postgres() {
    let Some(a) = TestServer::start(nexus_server::testing::Backend::Postgres).await else {
        return;
    };
    let b = a.second_node().await;
    let admin = a.admin_token().await;
    let bob_id = a.create_user(&admin, "bob", "staff").await;
    let bob = b.login("bob", "bob-password").await;
    assert_eq!(
        b.call("GET", "/api/v1/users", Some(&bob), None)
            .await
            .status,
        200
    );

    // A role change on node A reaches node B's cached principal.
    let res = a
        .call(
            "PATCH",
            &format!("/api/v1/users/{bob_id}"),
            Some(&admin),
            Some(json!({"role": "guest"})),
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(
        eventually(|| async {
            b.call("GET", "/api/v1/users", Some(&bob), None)
                .await
                .status
                == 403
        })
        .await
    );

    // Deactivation on node A ends bob's session on node B.
    let res = a
        .call(
            "PATCH",
            &format!("/api/v1/users/{bob_id}"),
            Some(&admin),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(
        eventually(|| async {
            b.call("GET", "/api/v1/auth/me", Some(&bob), None)
                .await
                .status
                == 401
        })
        .await
    );

    // Events published on one node arrive on the other.
    let mut rx = b.state.events.subscribe();
    a.call(
        "POST",
        "/api/v1/departments",
        Some(&admin),
        Some(json!({"name": "Shipping"})),
    )
    .await;
    let event = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let e = rx.recv().await.unwrap();
            if e.kind == "department.created" {
                return e;
            }
        }
    })
    .await
    .expect("event crosses nodes");
    assert_eq!(event.data["name"], "Shipping");

    // One too big for a NOTIFY (8,000 bytes) arrives whole, after a small one, in order.
    let text = "x".repeat(20_000);
    for (id, data) in [(1, json!({"text": text})), (2, json!({"text": "small"}))] {
        a.state.events.publish(nexus_core::Event::new(
            "note",
            "created",
            id,
            data,
            nexus_core::events::Audience::All,
        ));
    }
    let notes = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut notes = Vec::new();
        while notes.len() < 2 {
            let e = rx.recv().await.unwrap();
            if e.kind == "note.created" {
                notes.push((e.id, e.data["text"].as_str().unwrap_or_default().len()));
            }
        }
        notes
    })
    .await
    .expect("both events cross nodes");
    assert_eq!(notes, [(1, 20_000), (2, 5)]);
    b.finish().await;
    a.finish().await;
}

/// Sends `n` PATCHes of `path` at once, each with `If-Match: "version"`: their statuses.
async fn concurrent_patches(
    srv: &TestServer,
    token: &str,
    path: &str,
    version: i64,
    bodies: Vec<Value>,
) -> Vec<u16> {
    let sends = bodies.into_iter().map(|body| {
        let req = srv
            .client()
            .patch(srv.url(path))
            .bearer_auth(token)
            .header("if-match", format!("\"{version}\""))
            .json(&body);
        async move { req.send().await.expect("request").status().as_u16() }
    });
    futures_util::future::join_all(sends).await
}

backend_tests! {
    async fn concurrent_edits_of_one_version_one_wins(srv) {
        let admin = srv.admin_token().await;
        let location = srv.create("/api/v1/locations", &admin, json!({"name": "Hall"})).await;
        let asset = srv.create("/api/v1/assets", &admin, json!({"name": "Press 1"})).await;
        srv.create(&format!("/api/v1/assets/{asset}/metrics"), &admin, json!({"metric_name": "temp", "critical_threshold": 90.0})).await;
        let user = srv.create_user(&admin, "dora", "user").await;
        // Every versioned entity with a PATCH, and a body that changes it.
        let cases: Vec<(String, &str)> = vec![
            (format!("/api/v1/users/{user}"), "position"),
            (format!("/api/v1/roles/{}", srv.create("/api/v1/roles", &admin, json!({"name": "inspector", "permissions": []})).await), "description"),
            (format!("/api/v1/departments/{}", srv.create("/api/v1/departments", &admin, json!({"name": "Tooling"})).await), "description"),
            (format!("/api/v1/work-centers/{}", srv.create("/api/v1/work-centers", &admin, json!({"code": "WX", "name": "Weld"})).await), "name"),
            (format!("/api/v1/locations/{location}"), "description"),
            (format!("/api/v1/asset-types/{}", srv.create("/api/v1/asset-types", &admin, json!({"name": "Pump"})).await), "description"),
            (format!("/api/v1/assets/{asset}"), "description"),
            (format!("/api/v1/assets/{asset}/metrics/temp"), "critical_threshold"),
            (format!("/api/v1/parts/{}", srv.create("/api/v1/parts", &admin, json!({"sku": "B-1", "name": "Bearing"})).await), "description"),
            (format!("/api/v1/pm-schedules/{}", srv.create("/api/v1/pm-schedules", &admin, json!({"asset_id": asset, "title": "Grease", "interval_value": 7, "interval_unit": "days", "next_due": "2027-01-04"})).await), "description"),
            (format!("/api/v1/work-orders/{}", srv.create("/api/v1/work-orders", &admin, json!({"title": "Fix", "asset_id": asset})).await), "description"),
        ];
        for (path, field) in cases {
            let current = srv.get(&path, &admin).await;
            assert_eq!(current.status, 200, "{path}: {:?}", current.json);
            let version = current.json["version"].as_i64().expect("version");
            let mut statuses = concurrent_patches(srv, &admin, &path, version, (0..6).map(|i| if field == "critical_threshold" { json!({field: 90.0 + i as f64}) } else { json!({field: format!("v{i}")}) }).collect()).await;
            statuses.sort();
            assert_eq!(statuses, [200, 412, 412, 412, 412, 412], "{path}");
            let after = srv.get(&path, &admin).await;
            assert_eq!(after.json["version"].as_i64(), Some(version + 1), "{path}");
        }
    }

    async fn admins_removing_each_other_leave_one(srv) {
        let admin = srv.admin_token().await;
        let mut pair = (srv.create_user(&admin, "ada", "admin").await, srv.create_user(&admin, "bob", "admin").await);
        let mut tokens = (srv.login("ada", "ada-password").await, srv.login("bob", "bob-password").await);
        // The first admin steps back, so the pair are the only two.
        let first = srv.patch("/api/v1/users/1", &tokens.0, json!({"role": "user"})).await;
        assert_eq!(first.status, 200, "{:?}", first.json);
        // Twelve rounds stay under the sign-in rate limit.
        for round in 0..12 {
            let body = if round % 2 == 0 { json!({"role": "user"}) } else { json!({"is_active": false}) };
            let a = srv.client().patch(srv.url(&format!("/api/v1/users/{}", pair.1))).bearer_auth(&tokens.0).json(&body).send();
            let b = srv.client().patch(srv.url(&format!("/api/v1/users/{}", pair.0))).bearer_auth(&tokens.1).json(&body).send();
            let (a, b) = tokio::join!(a, b);
            let (a, b) = (a.unwrap().status().as_u16(), b.unwrap().status().as_u16());
            // The loser is refused as the last admin (409), or, when it came second, as no
            // longer an admin (403) or no longer signed in (401, a deactivation ends sessions).
            let a_won = a == 200;
            let loser = if a_won { b } else { a };
            assert!(a_won != (b == 200) && [401, 403, 409].contains(&loser), "round {round}: {a} {b}");
            // The survivor makes a new second admin for the next round.
            let (keeper, keeper_token) = if a_won { (pair.0, tokens.0.clone()) } else { (pair.1, tokens.1.clone()) };
            let name = format!("adm{round}");
            let next = srv.create_user(&keeper_token, &name, "admin").await;
            let users = srv.get("/api/v1/users?limit=500", &keeper_token).await;
            let admins = users.json["items"].as_array().unwrap().iter().filter(|u| u["role"] == "admin" && u["is_active"] == true).count();
            assert_eq!(admins, 2, "round {round}: exactly one admin survived and made another");
            pair = (keeper, next);
            tokens = (keeper_token, srv.login(&name, &format!("{name}-password")).await);
        }
    }
}

/// The API is registered only through `routes!`, so every route is documented by
/// construction; this checks what the macros cannot: path parameters as declared, and
/// schema names that mean one thing.
#[test]
fn the_document_matches_the_routes() {
    let mut faults = Vec::new();
    let doc = serde_json::to_value(nexus_server::document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut in_path: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        in_path.sort();
        for (method, op) in item.as_object().unwrap() {
            let mut declared: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            declared.sort();
            if declared != in_path {
                faults.push(format!(
                    "{method} {path} declares path parameters {declared:?}"
                ));
            }
        }
    }
    let mut seen: std::collections::HashMap<String, (&str, Value)> = Default::default();
    for domain in nexus_server::DOMAINS {
        let doc = serde_json::to_value((domain.api)().into_openapi()).unwrap();
        for (name, schema) in doc["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            match seen.get(name) {
                Some((other, earlier)) if earlier != schema => {
                    faults.push(format!(
                        "schema {name} means one thing in {other} and another in {}",
                        domain.name
                    ));
                }
                _ => {
                    seen.insert(name.clone(), (domain.name, schema.clone()));
                }
            }
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

backend_tests! {
    async fn ids_that_are_not_numbers_name_no_record(srv) {
        let admin = srv.admin_token().await;
        for path in ["/api/v1/assets/abc", "/api/v1/users/1e3", "/api/v1/work-orders/abc/labor"] {
            let res = srv.get(path, &admin).await;
            assert_eq!(res.status, 404, "{path}");
            assert_eq!(res.header("content-type"), Some("application/problem+json"), "{path}");
        }
        let (status, html) = srv.page("/maintenance/assets/abc", &admin).await;
        assert_eq!(status, 404);
        assert!(html.contains("<html"), "the styled page: {html}");
    }

    async fn control_characters_are_refused_by_field(srv) {
        let admin = srv.admin_token().await;
        let login = srv.call("POST", "/api/v1/auth/login", None, Some(json!({"username": "ad\u{0}min", "password": "x"}))).await;
        assert_eq!((login.status, login.error_fields()), (422, vec!["username".to_string()]));
        let search = srv.get("/api/v1/assets?q=%00", &admin).await;
        assert_eq!((search.status, search.error_fields()), (422, vec!["q".to_string()]));
        for name in ["\u{feff}Press", "Press\u{202e}1", "Press\u{7}"] {
            let res = srv.post("/api/v1/assets", &admin, json!({"name": name})).await;
            assert_eq!((res.status, res.error_fields()), (422, vec!["name".to_string()]), "{name:?}");
        }
        let assets = srv.get("/api/v1/assets", &admin).await;
        assert_eq!(assets.json["total"], 0, "nothing was stored");
        let res = srv.post("/api/v1/assets", &admin, json!({"name": "Line 1", "description": "two\nlines\tand a tab"})).await;
        assert_eq!(res.status, 201, "line breaks and tabs are text: {:?}", res.json);
        let csv = "name,description\nPress,ok\nLathe,b\u{0}ad\n";
        let res = srv.post_csv("/api/v1/assets/import", &admin, csv).await;
        assert_eq!((res.status, res.error_fields()), (422, vec!["line 3: description".to_string()]));
    }

    async fn exports_neutralise_formulas(srv) {
        let admin = srv.admin_token().await;
        srv.create("/api/v1/assets", &admin, json!({"name": "=cmd|' /C calc'!A0"})).await;
        let (status, _, body) = srv.download("/api/v1/assets/export", Some(&admin)).await;
        assert_eq!(status, 200);
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("'=cmd|"), "{text}");
        assert!(!text.contains(",=cmd|") && !text.contains("\n=cmd|"), "{text}");
    }
}

/// Reads a live stream until it ends (true) or 30 s pass (false, a safety bound only).
async fn stream_ends(res: &mut reqwest::Response) -> bool {
    let drained = async { while let Ok(Some(_)) = res.chunk().await {} };
    tokio::time::timeout(std::time::Duration::from_secs(30), drained)
        .await
        .is_ok()
}

backend_tests! {
    async fn live_streams_end_with_their_session(srv) {
        let admin = srv.admin_token().await;
        for how in ["logout", "deactivate", "reset"] {
            let name = format!("watcher_{how}");
            let id = srv.create_user(&admin, &name, "manager").await;
            let token = srv.login(&name, &format!("{name}-password")).await;
            let path = if how == "logout" { "/api/v1/events/stream" } else { "/api/v1/events/stream?topics=asset" };
            let mut res = srv.client().get(srv.url(path)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let done = match how {
                "logout" => srv.call("POST", "/api/v1/auth/logout", Some(&token), None).await,
                "deactivate" => srv.patch(&format!("/api/v1/users/{id}"), &admin, json!({"is_active": false})).await,
                _ => srv.post(&format!("/api/v1/users/{id}/password"), &admin, json!({"new_password": "another-password-9"})).await,
            };
            assert!(done.status < 300, "{how}: {:?}", done.json);
            assert!(stream_ends(&mut res).await, "{how}: the stream ended with the session");
        }
    }

    async fn a_role_change_refilters_a_live_stream(srv) {
        let admin = srv.admin_token().await;
        srv.create("/api/v1/roles", &admin, json!({"name": "line", "permissions": ["work_centers:read"]})).await;
        let id = srv.create_user(&admin, "ward", "manager").await;
        let token = srv.login("ward", "ward-password").await;
        let mut res = srv.client().get(srv.url("/api/v1/events/stream?topics=asset,work_center")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(srv.patch(&format!("/api/v1/users/{id}"), &admin, json!({"role": "line"})).await.status, 200);
        srv.create("/api/v1/assets", &admin, json!({"name": "Secret press"})).await;
        srv.create("/api/v1/work-centers", &admin, json!({"code": "WZ", "name": "Visible"})).await;
        let mut seen = String::new();
        let read = async {
            while let Ok(Some(chunk)) = res.chunk().await {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains("work_center.created") {
                    break;
                }
            }
        };
        assert!(tokio::time::timeout(std::time::Duration::from_secs(30), read).await.is_ok(), "{seen}");
        assert!(!seen.contains("asset.created"), "an asset event after losing assets:read: {seen}");
    }
}

// Every route for every built-in role: a role without the permission an operation
// documents is refused with 403 before anything else is looked at; one with it is never
// refused as unauthorised, and nothing answers 500.
backend_tests! {
    async fn access_matrix_follows_the_permission_catalogue(srv) {
        let admin = srv.admin_token().await;
        let roles = srv.get("/api/v1/roles?limit=500", &admin).await.json;
        let roles = roles.get("items").unwrap_or(&roles).as_array().unwrap().clone();
        let ops = operations(srv).await;
        let mut checked = 0;
        for role in ["manager", "staff", "user", "guest"] {
            let held: Vec<String> = roles
                .iter()
                .find(|r| r["name"] == role)
                .and_then(|r| r["permissions"].as_array())
                .unwrap()
                .iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect();
            let token = srv.user_token(&admin, &format!("matrix_{role}"), role).await;
            for (method, path, public, scopes) in &ops {
                if *public || scopes.is_empty() || path.contains("/events") || path.ends_with("/auth/logout") {
                    continue;
                }
                let path = path.replace(['{', '}'], "");
                let res = srv.call(&method.to_uppercase(), &path, Some(&token), Some(json!({}))).await;
                let allowed = scopes.iter().any(|s| held.contains(s));
                if allowed {
                    assert!(res.status != 401 && res.status < 500, "{role} {method} {path} -> {}", res.status);
                } else {
                    assert_eq!(res.status, 403, "{role} lacks {scopes:?}: {method} {path}");
                }
                checked += 1;
            }
        }
        assert!(checked > 300, "{checked} route and role pairs");
    }
}

/// A record one user made that others may not see, and the permissions that see every
/// record of its kind anyway.
struct Owned {
    /// The documented path of the record, `/api/v1/activities/{id}`.
    path: &'static str,
    id: i64,
    sees_all: &'static [&'static str],
    /// Who made it, and where they see it.
    owner: String,
    seen_at: String,
}

/// Records of a staff member `owner` (and an admin's draft announcement) that only they
/// (and whoever sees all of a kind) may see.
async fn owned_records(srv: &TestServer, admin: &str) -> Vec<Owned> {
    let owner_id = srv.create_user(admin, "owner", "staff").await;
    let owner = srv.login("owner", "owner-password").await;
    let now = nexus_core::Timestamp::now();
    let later = nexus_core::Timestamp(now.0 + 3_600_000_000);
    let activity = srv
        .create("/api/v1/activities", &owner, json!({
            "title": "Own planning", "type": "Maintenance", "start_time": now, "end_time": later,
        }))
        .await;
    let day = json!(now).as_str().unwrap()[..10].to_string();
    let project = srv
        .create(
            "/api/v1/projects",
            &owner,
            json!({"name": "Own project", "start_date": day, "end_date": day}),
        )
        .await;
    let task = srv
        .create(
            &format!("/api/v1/projects/{project}/tasks"),
            &owner,
            json!({"title": "Own task", "start_date": day}),
        )
        .await;
    let update = srv
        .create(
            "/api/v1/updates",
            admin,
            json!({"title": "Draft", "content": "Not yet", "type": "news"}),
        )
        .await;
    let part = reqwest::multipart::Part::bytes(b"private notes\n".to_vec()).file_name("notes.txt");
    let res = srv
        .client()
        .post(srv.url("/api/v1/files"))
        .bearer_auth(&owner)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let file = TestServer::read(res).await;
    assert_eq!(file.status, 201, "{:?}", file.json);
    // A work order assigned to the owner tells them, and only them, once comms hears of it.
    srv.create(
        "/api/v1/work-orders",
        admin,
        json!({"title": "Yours", "assigned_to_id": owner_id}),
    )
    .await;
    let mine =
        || async { srv.get("/api/v1/notifications", &owner).await.json["items"][0]["id"].as_i64() };
    assert!(
        eventually(|| async { mine().await.is_some() }).await,
        "the owner is told of the work order"
    );
    let notification = mine().await.unwrap();
    let owned = |path: &'static str, id: i64, sees_all, owner: &str| Owned {
        path,
        id,
        sees_all,
        owner: owner.to_string(),
        seen_at: match path {
            "/api/v1/notifications/{id}" => "/api/v1/notifications".to_string(),
            _ => path.replace("{id}", &id.to_string()),
        },
    };
    vec![
        owned(
            "/api/v1/activities/{id}",
            activity,
            &["activities:read_all"],
            &owner,
        ),
        owned(
            "/api/v1/projects/{id}",
            project,
            &["projects:read_all", "projects:manage"],
            &owner,
        ),
        owned(
            "/api/v1/tasks/{id}",
            task,
            &["projects:read_all", "projects:manage"],
            &owner,
        ),
        owned("/api/v1/updates/{id}", update, &["updates:manage"], admin),
        owned(
            "/api/v1/files/{id}",
            file.json["id"].as_i64().unwrap(),
            &["files:manage"],
            &owner,
        ),
        owned("/api/v1/notifications/{id}", notification, &[], &owner),
    ]
}

/// A body the request schema of `method path` accepts as far as types go (every required
/// field filled, the first of an enum), so that what answers is the record's lookup.
fn example_body(doc: &Value, path: &str, method: &str) -> Value {
    let content = &doc["paths"][path][method]["requestBody"]["content"];
    match content["application/json"]["schema"] {
        Value::Null => json!({}),
        ref schema => example(doc, schema, &mut 0),
    }
}

/// Integers count up from 1 (`n`), so two ids in one body differ.
fn example(doc: &Value, schema: &Value, n: &mut i64) -> Value {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return example(doc, &doc["components"]["schemas"][name], n);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(first) = schema[key]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["type"] != "null"))
        {
            return example(doc, first, n);
        }
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    let ty = match &schema["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or_default(),
        ty => ty.clone(),
    };
    match ty.as_str() {
        Some("string") => match schema["format"].as_str() {
            Some("date") => json!("2030-01-01"),
            Some("date-time") => json!("2030-01-01T00:00:00Z"),
            _ => json!("x"),
        },
        Some("integer") => {
            *n += 1;
            json!(schema["minimum"].as_i64().unwrap_or(1).max(*n))
        }
        Some("number") => json!(1.0),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        _ => {
            let required = schema["required"].as_array().into_iter().flatten();
            let fields = required.filter_map(Value::as_str).map(|name| {
                (
                    name.to_string(),
                    example(doc, &schema["properties"][name], n),
                )
            });
            Value::Object(fields.collect())
        }
    }
}

// Another user's record, for every route on it in the document: a role that may use the
// route but not see the record gets 404 (as for an absent one), one that may not use the
// route 403, a visitor on a public route 404; and the record is unchanged. Each request
// carries a body its schema accepts, so the answer is the record's.
backend_tests! {
    async fn another_users_records_are_not_found(srv) {
        let admin = srv.admin_token().await;
        let roles = srv.get("/api/v1/roles?limit=500", &admin).await.json;
        let roles = roles.get("items").unwrap_or(&roles).as_array().unwrap().clone();
        let owned = owned_records(srv, &admin).await;
        let ops = documented(srv).await;
        let doc = srv.call("GET", "/api/openapi.json", None, None).await.json;
        let mut people = Vec::new();
        for role in ["anonymous", "manager", "staff", "user", "guest"] {
            let held: Vec<String> = roles
                .iter()
                .find(|r| r["name"] == role)
                .and_then(|r| r["permissions"].as_array())
                .map(|p| p.iter().filter_map(|p| p.as_str().map(String::from)).collect())
                .unwrap_or_default();
            let token = match role {
                "anonymous" => None,
                _ => Some(srv.user_token(&admin, &format!("other_{role}"), role).await),
            };
            people.push((role, held, token));
        }
        let mut checked = 0;
        for record in &owned {
            let on: Vec<_> = ops.iter().filter(|(_, path, ..)| path.starts_with(record.path)).collect();
            assert!(!on.is_empty(), "the document has routes on {}", record.path);
            let before = srv.get(&record.seen_at, &record.owner).await;
            assert_eq!(before.status, 200, "{} {:?}", record.path, before.json);
            for (role, held, token) in &people {
                if record.sees_all.iter().any(|p| held.iter().any(|h| h == p)) {
                    continue;
                }
                for (method, path, public, scopes) in &on {
                    if token.is_none() && !public {
                        continue;
                    }
                    // Other parameters name a child of the record, which it hides too.
                    let concrete = path.replace("{id}", &record.id.to_string());
                    let concrete = concrete.split('{').map(|s| s.split_once('}').map_or(s.to_string(), |(_, rest)| format!("1{rest}"))).collect::<String>();
                    let body = example_body(&doc, path, method);
                    let res = srv.call(&method.to_uppercase(), &concrete, token.as_deref(), Some(body)).await;
                    let allowed = token.is_none() || scopes.is_empty() || scopes.iter().any(|s| held.contains(s));
                    let expected = if allowed { 404 } else { 403 };
                    assert_eq!(res.status, expected, "{role} {method} {concrete}: {:?}", res.json);
                    checked += 1;
                }
            }
            let after = srv.get(&record.seen_at, &record.owner).await;
            assert_eq!(after.json, before.json, "{} unchanged", record.path);
        }
        assert!(checked > 100, "{checked} route, role and record triples");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_require_a_token() {
    use nexus_server::testing::Backend;
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let tweak = |c: &mut nexus_core::Config| c.metrics_token = Some("scrape-me-please".into());
        let Some(srv) = TestServer::start_with(backend, tweak).await else {
            continue;
        };
        let client = srv.client();
        let open = client.get(srv.url("/metrics")).send().await.unwrap();
        assert_eq!(open.status(), 401, "{backend:?}: no token");
        let wrong = client
            .get(srv.url("/metrics"))
            .bearer_auth("guess")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "{backend:?}: a wrong token");
        let right = client
            .get(srv.url("/metrics"))
            .bearer_auth("scrape-me-please")
            .send()
            .await
            .unwrap();
        assert_eq!(right.status(), 200, "{backend:?}: the token");
        srv.finish().await;
    }
}

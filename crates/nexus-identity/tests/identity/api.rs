//! Identity API through real HTTP, on SQLite and on PostgreSQL.

use nexus_server::backend_tests;
use nexus_server::testing::{ADMIN_PASSWORD, TestServer};
use serde_json::json;

async fn audit_actions(srv: &TestServer, token: &str, query: &str) -> Vec<String> {
    let res = srv
        .call(
            "GET",
            &format!("/api/v1/audit-logs?{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    res.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

backend_tests! {
    async fn first_start_creates_defaults_once(srv) {
        let token = srv.admin_token().await;
        let me = srv.call("GET", "/api/v1/auth/me", Some(&token), None).await;
        assert_eq!(me.status, 200);
        assert_eq!(me.json["username"], "admin");
        assert_eq!(me.json["role"], "admin");
        assert_eq!(me.json["is_admin"], true);
        assert_eq!(me.json["permissions"], json!(["*"]));

        let depts = srv.call("GET", "/api/v1/departments?sort=id", Some(&token), None).await;
        let names: Vec<_> = depts.json["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(names, ["Engineering", "Production", "Quality Control", "Maintenance", "Operations", "Management"]);
        let roles = srv.call("GET", "/api/v1/roles", Some(&token), None).await;
        assert_eq!(roles.json["total"], 5, "the complete list in one page");
        let names: Vec<_> = roles.json["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(names, ["admin", "manager", "staff", "user", "guest"]);

        // A second start over the same database changes nothing, even with another password.
        let mut config = (*srv.state.config).clone();
        config.admin_password = Some("another-password-2".into());
        let again = nexus_server::prepare(config).await.unwrap();
        assert!(again.generated_admin_password.is_none());
        again.state.db.close().await;
        srv.login("admin", ADMIN_PASSWORD).await;
        let depts = srv.call("GET", "/api/v1/departments", Some(&token), None).await;
        assert_eq!(depts.json["total"], 6);
        let users = srv.call("GET", "/api/v1/users", Some(&token), None).await;
        assert_eq!(users.json["total"], 1);
    }

    async fn sign_in_errors_are_uniform_and_bodies_checked(srv) {
        srv.create_user(&srv.admin_token().await, "carol", "user").await;
        let wrong = srv.login_response("carol", "not-her-password").await;
        let unknown = srv.login_response("nobody", "not-her-password").await;
        assert_eq!(wrong.status, 401);
        assert_eq!(unknown.status, 401);
        assert_eq!(wrong.json["detail"], unknown.json["detail"]);
        assert_eq!(wrong.header("content-type"), Some("application/problem+json"));
        // Email works as the sign-in name too, case-insensitively.
        let token = srv.admin_token().await;
        let id = srv.call("GET", "/api/v1/users?q=carol", Some(&token), None).await.json["items"][0]["id"].as_i64().unwrap();
        let res = srv.call("PATCH", &format!("/api/v1/users/{id}"), Some(&token), Some(json!({"email": "Carol@Plant.example"}))).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        srv.login("CAROL@plant.example", "carol-password").await;

        let client = srv.client();
        let res = TestServer::read(client.post(srv.url("/api/v1/auth/login")).header("content-type", "application/json").body("{\"username\": ").send().await.unwrap()).await;
        assert_eq!(res.status, 400);
        let res = TestServer::read(client.post(srv.url("/api/v1/auth/login")).body("username=a").send().await.unwrap()).await;
        assert_eq!(res.status, 415);
        let res = srv.call("POST", "/api/v1/auth/login", None, Some(json!({"username": "carol"}))).await;
        assert_eq!(res.status, 422);
        assert_eq!(res.error_fields(), ["password"]);
        let res = srv.call("POST", "/api/v1/auth/login", None, Some(json!({"username": 5, "password": "x"}))).await;
        assert_eq!(res.status, 422);
        assert_eq!(res.error_fields(), ["username"]);
    }

    async fn repeated_failures_lock_the_account(srv) {
        let admin = srv.admin_token().await;
        let id = srv.create_user(&admin, "dave", "user").await;
        for _ in 0..5 {
            assert_eq!(srv.login_response("dave", "wrong-password-x").await.status, 401);
        }
        // Locked, the right password is refused with the very answer of a wrong password or
        // an unknown name, so that lockout tells no one the account exists.
        let unknown = srv.login_response("nobody", "dave-password").await;
        assert_eq!(unknown.status, 401);
        for password in ["dave-password", "wrong-password-x"] {
            let locked = srv.login_response("dave", password).await;
            assert_eq!((locked.status, &locked.json), (unknown.status, &unknown.json));
            assert_eq!(locked.header("content-type"), unknown.header("content-type"));
        }
        // The sign-in form too: the same page, but for the name typed.
        let form = |username: &'static str| srv.client().post(srv.url("/login")).form(&[("username", username), ("password", "dave-password"), ("next", "")]);
        let locked = form("dave").send().await.unwrap();
        let unknown = form("nemo").send().await.unwrap();
        assert_eq!((locked.status().as_u16(), unknown.status().as_u16()), (401, 401));
        let (locked, unknown) = (locked.text().await.unwrap(), unknown.text().await.unwrap());
        assert!(locked.contains("Invalid username or password."), "{locked}");
        assert_eq!(locked.replace("\"dave\"", "\"nemo\""), unknown);
        let user = srv.call("GET", &format!("/api/v1/users/{id}"), Some(&admin), None).await;
        assert!(user.json["locked_until"].is_string());
        assert!(audit_actions(srv, &admin, &format!("entity_type=user&entity_id={id}")).await.contains(&"account_locked".to_string()));
        assert!(audit_actions(srv, &admin, "action=login_failed").await.len() >= 5);

        // An admin reset unlocks it.
        let res = srv.call("POST", &format!("/api/v1/users/{id}/password"), Some(&admin), Some(json!({"new_password": "brand-new-password"}))).await;
        assert_eq!(res.status, 204);
        srv.login("dave", "brand-new-password").await;
    }

    async fn refresh_rotates_and_reuse_revokes_the_session(srv) {
        let first = srv.login_response("admin", ADMIN_PASSWORD).await.json;
        let refresh1 = first["refresh_token"].as_str().unwrap();
        let second = srv.call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh1}))).await;
        assert_eq!(second.status, 200, "{:?}", second.json);
        let access2 = second.json["access_token"].as_str().unwrap().to_string();
        assert_ne!(second.json["refresh_token"].as_str().unwrap(), refresh1);
        assert_eq!(srv.call("GET", "/api/v1/auth/me", Some(&access2), None).await.status, 200);

        // The spent token again: refused, and the whole session ends.
        let reuse = srv.call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh1}))).await;
        assert_eq!(reuse.status, 401);
        assert_eq!(srv.call("GET", "/api/v1/auth/me", Some(&access2), None).await.status, 401);
        let refresh2 = second.json["refresh_token"].as_str().unwrap();
        assert_eq!(srv.call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh2}))).await.status, 401);
        let admin = srv.admin_token().await;
        assert!(audit_actions(srv, &admin, "action=refresh_token_reuse").await.len() == 1);
        assert_eq!(srv.call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": "1.nonsense"}))).await.status, 401);
    }

    async fn logout_ends_the_session(srv) {
        let token = srv.admin_token().await;
        assert_eq!(srv.call("POST", "/api/v1/auth/logout", Some(&token), None).await.status, 204);
        assert_eq!(srv.call("GET", "/api/v1/auth/me", Some(&token), None).await.status, 401);
        assert_eq!(srv.call("GET", "/api/v1/auth/me", Some("garbage"), None).await.status, 401);
    }

    async fn changing_own_password(srv) {
        let admin = srv.admin_token().await;
        let token = srv.user_token(&admin, "erin", "user").await;
        let other_session = srv.login("erin", "erin-password").await;
        let res = srv.call("POST", "/api/v1/auth/password", Some(&token), Some(json!({"current_password": "wrong-one-here", "new_password": "erin-new-password"}))).await;
        assert_eq!(res.status, 422);
        assert_eq!(res.error_fields(), ["current_password"]);
        let res = srv.call("POST", "/api/v1/auth/password", Some(&token), Some(json!({"current_password": "erin-password", "new_password": "short"}))).await;
        assert_eq!(res.status, 422);
        assert_eq!(res.error_fields(), ["new_password"]);
        let res = srv.call("POST", "/api/v1/auth/password", Some(&token), Some(json!({"current_password": "erin-password", "new_password": "erin-new-password"}))).await;
        assert_eq!(res.status, 204);
        assert_eq!(srv.login_response("erin", "erin-password").await.status, 401);
        srv.login("erin", "erin-new-password").await;
        assert_eq!(srv.call("GET", "/api/v1/auth/me", Some(&token), None).await.status, 200);
        assert_eq!(srv.call("GET", "/api/v1/auth/me", Some(&other_session), None).await.status, 401);
    }

    async fn admins_manage_users(srv) {
        let admin = srv.admin_token().await;
        let res = srv.call("POST", "/api/v1/users", Some(&admin), Some(json!({
            "username": "  Frank ", "password": "frank-password", "email": "frank@plant.example",
            "first_name": "Frank", "last_name": "Miller", "phone": "+1 555 0100", "department_id": 2,
            "position": "Operator", "preferences": {"theme": "dark"}, "role": "staff"
        }))).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!(res.header("etag"), Some("\"1\""));
        let id = res.json["id"].as_i64().unwrap();
        assert_eq!(res.json["username"], "frank");
        assert_eq!(res.json["name"], "Frank Miller");
        assert_eq!(res.json["department"], "Production");
        assert_eq!(res.json["preferences"]["theme"], "dark");

        let dup = srv.call("POST", "/api/v1/users", Some(&admin), Some(json!({"username": "FRANK", "password": "frank-password"}))).await;
        assert_eq!(dup.status, 409);
        assert_eq!(dup.error_fields(), ["username"]);
        let dup = srv.call("POST", "/api/v1/users", Some(&admin), Some(json!({"username": "frank2", "password": "frank-password", "email": "FRANK@plant.example"}))).await;
        assert_eq!(dup.status, 409);
        assert_eq!(dup.error_fields(), ["email"]);
        let bad = srv.call("POST", "/api/v1/users", Some(&admin), Some(json!({"username": "gina", "password": "gina-password", "role": "overlord"}))).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["role"]);
        let bad = srv.call("POST", "/api/v1/users", Some(&admin), Some(json!({"username": "gina", "password": "gina-password", "department_id": 999}))).await;
        assert_eq!(bad.error_fields(), ["department_id"]);
        let bad = srv.call("POST", "/api/v1/users", Some(&admin), Some(json!({"username": "gina", "password": "gina-password", "first_name": "x".repeat(51), "phone": "call me"}))).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["first_name", "phone"]);
        let bad = srv.call("POST", "/api/v1/users", Some(&admin), Some(json!({"username": "gina", "password": "gina-password", "is_admin": true}))).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["is_admin"]);
        let total = srv.call("GET", "/api/v1/users", Some(&admin), None).await.json["total"].as_u64().unwrap();
        assert_eq!(total, 2, "rejected requests created nothing");

        for name in ["hank", "ivy", "jack"] {
            srv.create_user(&admin, name, "user").await;
        }
        let page = srv.call("GET", "/api/v1/users?limit=2&offset=1&sort=username", Some(&admin), None).await;
        assert_eq!(page.json["total"], 5);
        let names: Vec<_> = page.json["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["frank", "hank"]);
        let staff = srv.call("GET", "/api/v1/users?role=staff", Some(&admin), None).await;
        assert_eq!(staff.json["total"], 1);
        let prod = srv.call("GET", "/api/v1/users?department_id=2", Some(&admin), None).await;
        assert_eq!(prod.json["total"], 1);
        let q = srv.call("GET", "/api/v1/users?q=MILL", Some(&admin), None).await;
        assert_eq!(q.json["total"], 1);
        let q = srv.call("GET", "/api/v1/users?q=%25", Some(&admin), None).await;
        assert_eq!(q.json["total"], 0, "% is matched literally");
        let bad = srv.call("GET", "/api/v1/users?sort=password_hash", Some(&admin), None).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["sort"]);
        let bad = srv.call("GET", "/api/v1/users?limit=lots", Some(&admin), None).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["limit"]);
        assert_eq!(srv.call("GET", "/api/v1/users/424242", Some(&admin), None).await.status, 404);

        // Optimistic concurrency: a stale If-Match is refused and changes nothing.
        let res = srv.patch_if(&format!("/api/v1/users/{id}"), &admin, 1, json!({"position": "Lead"})).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("etag"), Some("\"2\""));
        let stale = srv.patch_if(&format!("/api/v1/users/{id}"), &admin, 1, json!({"position": "Boss"})).await;
        assert_eq!(stale.status, 412);
        let now = srv.call("GET", &format!("/api/v1/users/{id}"), Some(&admin), None).await;
        assert_eq!(now.json["position"], "Lead");
        // null clears an optional field; absent keeps it.
        let res = srv.call("PATCH", &format!("/api/v1/users/{id}"), Some(&admin), Some(json!({"phone": null}))).await;
        assert!(res.json["phone"].is_null());
        assert_eq!(res.json["position"], "Lead");

        // Deactivation ends the user's sessions; they cannot sign in.
        let frank = srv.login("frank", "frank-password").await;
        let res = srv.call("PATCH", &format!("/api/v1/users/{id}"), Some(&admin), Some(json!({"is_active": false}))).await;
        assert_eq!(res.status, 200);
        assert_eq!(srv.call("GET", "/api/v1/auth/me", Some(&frank), None).await.status, 401);
        assert_eq!(srv.login_response("frank", "frank-password").await.status, 401);
        let inactive = srv.call("GET", "/api/v1/users?is_active=false", Some(&admin), None).await;
        assert_eq!(inactive.json["total"], 1);

        // The last admin can be neither deactivated nor demoted.
        let me = srv.call("GET", "/api/v1/auth/me", Some(&admin), None).await.json["id"].as_i64().unwrap();
        assert_eq!(srv.call("PATCH", &format!("/api/v1/users/{me}"), Some(&admin), Some(json!({"is_active": false}))).await.status, 409);
        assert_eq!(srv.call("PATCH", &format!("/api/v1/users/{me}"), Some(&admin), Some(json!({"role": "user"}))).await.status, 409);

        // Every change is audited with previous and new state.
        let log = srv.call("GET", &format!("/api/v1/audit-logs?entity_type=user&entity_id={id}"), Some(&admin), None).await;
        let items = log.json["items"].as_array().unwrap();
        let update = items.iter().find(|e| e["action"] == "update" && e["previous_state"]["position"] == "Operator").unwrap();
        assert_eq!(update["new_state"]["position"], "Lead");
        assert_eq!(update["actor_id"], me);
        assert_eq!(update["ip_address"], "127.0.0.1");
        assert!(update["user_agent"].is_string() || update["user_agent"].is_null());
        assert!(update["new_state"].get("password_hash").is_none());
    }

    async fn custom_roles_grant_exactly_their_permissions(srv) {
        let admin = srv.admin_token().await;
        let perms = srv.call("GET", "/api/v1/permissions", Some(&admin), None).await;
        assert!(perms.json["items"].as_array().unwrap().iter().any(|p| p["name"] == "users:read"));
        let res = srv.call("POST", "/api/v1/roles", Some(&admin), Some(json!({"name": "auditor", "description": "Reads the trail", "permissions": ["audit:read", "users:read"]}))).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        let role_id = res.json["id"].as_i64().unwrap();
        let bad = srv.call("POST", "/api/v1/roles", Some(&admin), Some(json!({"name": "x-role", "permissions": ["users:fly"]}))).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["permissions"]);
        let dup = srv.call("POST", "/api/v1/roles", Some(&admin), Some(json!({"name": "Auditor", "permissions": []}))).await;
        assert_eq!(dup.status, 409);

        let token = srv.user_token(&admin, "kim", "auditor").await;
        assert_eq!(srv.call("GET", "/api/v1/audit-logs", Some(&token), None).await.status, 200);
        assert_eq!(srv.call("GET", "/api/v1/users", Some(&token), None).await.status, 200);
        assert_eq!(srv.call("GET", "/api/v1/departments", Some(&token), None).await.status, 403);
        let res = srv.call("POST", "/api/v1/users", Some(&token), Some(json!({"username": "sneaky", "password": "sneaky-password"}))).await;
        assert_eq!(res.status, 403);

        // Changing the role's permissions takes effect for signed-in holders at once.
        let res = srv.call("PATCH", &format!("/api/v1/roles/{role_id}"), Some(&admin), Some(json!({"permissions": ["departments:read"]}))).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(srv.call("GET", "/api/v1/departments", Some(&token), None).await.status, 200);
        assert_eq!(srv.call("GET", "/api/v1/audit-logs", Some(&token), None).await.status, 403);

        let builtin = srv.call("GET", "/api/v1/roles", Some(&admin), None).await.json["items"].as_array().unwrap().iter().find(|r| r["name"] == "guest").unwrap()["id"].as_i64().unwrap();
        assert_eq!(srv.call("PATCH", &format!("/api/v1/roles/{builtin}"), Some(&admin), Some(json!({"permissions": ["*"]}))).await.status, 409);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/roles/{builtin}"), Some(&admin), None).await.status, 409);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/roles/{role_id}"), Some(&admin), None).await.status, 409, "in use");
        let kim = srv.call("GET", "/api/v1/users?q=kim", Some(&admin), None).await.json["items"][0]["id"].as_i64().unwrap();
        srv.call("PATCH", &format!("/api/v1/users/{kim}"), Some(&admin), Some(json!({"role": "user"}))).await;
        assert_eq!(srv.call("DELETE", &format!("/api/v1/roles/{role_id}"), Some(&admin), None).await.status, 204);
        assert_eq!(srv.call("GET", &format!("/api/v1/roles/{role_id}"), Some(&admin), None).await.status, 404);
    }

    async fn departments_lifecycle(srv) {
        let admin = srv.admin_token().await;
        let res = srv.call("POST", "/api/v1/departments", Some(&admin), Some(json!({"name": "Logistics", "description": "Inbound and outbound"}))).await;
        assert_eq!(res.status, 201);
        let id = res.json["id"].as_i64().unwrap();
        let dup = srv.call("POST", "/api/v1/departments", Some(&admin), Some(json!({"name": "logistics"}))).await;
        assert_eq!(dup.status, 409);
        assert_eq!(dup.error_fields(), ["name"]);
        let bad = srv.call("POST", "/api/v1/departments", Some(&admin), Some(json!({"name": " "}))).await;
        assert_eq!(bad.status, 422);
        let long = srv.call("POST", "/api/v1/departments", Some(&admin), Some(json!({"name": "d".repeat(101)}))).await;
        assert_eq!(long.error_fields(), ["name"]);
        let res = srv.call("PATCH", &format!("/api/v1/departments/{id}"), Some(&admin), Some(json!({"is_active": false}))).await;
        assert_eq!(res.json["is_active"], false);
        let active = srv.call("GET", "/api/v1/departments?is_active=true", Some(&admin), None).await;
        assert_eq!(active.json["total"], 6);

        let prod = 2;
        let res = srv.call("POST", "/api/v1/users", Some(&admin), Some(json!({"username": "lee", "password": "lee-password", "department_id": prod}))).await;
        assert_eq!(res.status, 201);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/departments/{prod}"), Some(&admin), None).await.status, 409);
        let mut events = srv.state.events.subscribe();
        assert_eq!(srv.call("DELETE", &format!("/api/v1/departments/{id}"), Some(&admin), None).await.status, 204);
        // The deletion carries the record as it was, like every domain's.
        let gone = events.try_recv().expect("department.deleted");
        assert_eq!((gone.kind.as_str(), gone.id), ("department.deleted", id));
        assert_eq!((&gone.data["name"], &gone.data["is_active"]), (&json!("Logistics"), &json!(false)));
        assert_eq!(srv.call("DELETE", &format!("/api/v1/departments/{id}"), Some(&admin), None).await.status, 404);
        let actions = audit_actions(srv, &admin, &format!("entity_type=department&entity_id={id}")).await;
        assert_eq!(actions, ["delete", "update", "create"]);
    }

    async fn guests_read_and_change_nothing(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "guest1", "guest").await;
        assert_eq!(srv.call("GET", "/api/v1/departments", Some(&guest), None).await.status, 200);
        assert_eq!(srv.call("GET", "/api/v1/users", Some(&guest), None).await.status, 403);
        for (method, path, body) in [
            ("POST", "/api/v1/departments", json!({"name": "Nope"})),
            ("PATCH", "/api/v1/departments/1", json!({"name": "Nope"})),
            ("DELETE", "/api/v1/departments/1", json!({})),
            ("POST", "/api/v1/users", json!({"username": "nope", "password": "nope-password"})),
            ("POST", "/api/v1/roles", json!({"name": "nope", "permissions": []})),
        ] {
            let res = srv.call(method, path, Some(&guest), Some(body)).await;
            assert_eq!(res.status, 403, "{method} {path}");
        }
        assert_eq!(srv.call("GET", "/api/v1/departments/1", Some(&admin), None).await.json["name"], "Engineering");
    }

    async fn admin_pages_speak_in_names_not_codes(srv) {
        let admin = srv.admin_token().await;
        srv.create_user(&admin, "rita", "staff").await;
        let me = srv.get("/api/v1/auth/me", &admin).await.json["id"].as_i64().unwrap();
        let (status, html) = srv.page("/admin/audit?actor=admin", &admin).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Done by (username)") && html.contains("value=\"admin\""), "{html}");
        assert!(html.contains("<code>create</code>") && html.contains("user #"), "{html}");
        let (status, html) = srv.page("/admin/audit?actor=nobody", &admin).await;
        assert_eq!(status, 422);
        assert!(html.contains("No user is called nobody") || html.contains("no user is called nobody"), "{html}");
        // A link from an entry names the user in the field.
        let (status, html) = srv.page(&format!("/admin/audit?actor_id={me}"), &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"admin\""), "{html}");
        let (_, html) = srv.page("/admin/roles", &admin).await;
        assert!(html.contains(">List and view user accounts</li>"), "permissions in words: {html}");
    }

    async fn everyone_edits_their_own_profile_only(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "gail", "guest").await;
        let res = srv.patch("/api/v1/auth/me", &guest, json!({"first_name": "Gail", "phone": "+33 6 00", "email": "GAIL@example.com"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!((res.json["name"].as_str(), res.json["email"].as_str()), (Some("Gail"), Some("gail@example.com")));
        assert_eq!(srv.get("/api/v1/auth/me", &guest).await.json["first_name"], "Gail", "the session sees it");
        // Not a way to a role or to another account.
        let res = srv.patch("/api/v1/auth/me", &guest, json!({"role": "admin"})).await;
        assert_eq!(res.status, 422, "{:?}", res.json);
        assert_eq!(srv.get("/api/v1/auth/me", &guest).await.json["role"], "guest");
        let res = srv.patch("/api/v1/auth/me", &guest, json!({"email": "not an email"})).await;
        assert_eq!(res.error_fields(), ["email"]);
        let stale = srv.patch_if("/api/v1/auth/me", &guest, 1, json!({"last_name": "Old"})).await;
        assert_eq!(stale.status, 412, "{:?}", stale.json);

        // The page: saved, then a refused email keeps what was typed.
        let (_, html) = srv.page("/profile", &guest).await;
        assert!(html.contains("value=\"Gail\""), "{html}");
        let token = nexus_server::testing::csrf(&html);
        let version = srv.get("/api/v1/users?q=gail", &admin).await.json["items"][0]["version"].to_string();
        let (status, to, _) = srv.submit("/profile", &guest, &[("csrf", &token), ("first_name", "Gail"), ("last_name", "Lee"), ("email", "gail@example.com"), ("phone", ""), ("version", &version)]).await;
        assert_eq!((status, to.as_str()), (303, "/profile?done=saved"));
        assert_eq!(srv.get("/api/v1/auth/me", &guest).await.json["name"], "Gail Lee");
        let version = srv.get("/api/v1/users?q=gail", &admin).await.json["items"][0]["version"].to_string();
        let (status, _, html) = srv.submit("/profile", &guest, &[("csrf", &token), ("first_name", "Gaby"), ("last_name", "Lee"), ("email", "nope"), ("phone", ""), ("version", &version)]).await;
        assert_eq!(status, 422);
        assert!(html.contains("value=\"Gaby\"") && html.contains("id=\"email-error\""), "{html}");
        assert_eq!(srv.get("/api/v1/auth/me", &guest).await.json["name"], "Gail Lee", "nothing changed");
    }

    async fn not_found_pages_keep_the_shell(srv) {
        let admin = srv.admin_token().await;
        for path in ["/no/such/page", "/maintenance/work-orders/not-a-number"] {
            let (status, html) = srv.page(path, &admin).await;
            assert_eq!(status, 404, "{path}");
            assert!(html.contains("There is nothing at this address"), "{path}: {html}");
            assert!(html.contains("id=\"sidebar\"") && html.contains("Sign out"), "{path}: {html}");
        }
        let res = srv.client().get(srv.url("/no/such/page")).send().await.unwrap();
        assert_eq!(res.status(), 404);
        let html = res.text().await.unwrap();
        assert!(!html.contains("id=\"sidebar\""), "a visitor gets no navigation: {html}");
        // The counts behind the navigation need a session too.
        assert_eq!(srv.call("GET", "/api/v1/auth/me/attention", None, None).await.status, 401);
    }

    async fn audit_trail_pages_by_key_and_filters_by_time(srv) {
        let admin = srv.admin_token().await;
        for i in 0..5 {
            srv.call("POST", "/api/v1/departments", Some(&admin), Some(json!({"name": format!("Line {i}")}))).await;
        }
        let first = srv.call("GET", "/api/v1/audit-logs?entity_type=department&limit=3", Some(&admin), None).await;
        let items = first.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["new_state"]["name"], "Line 4");
        let after = first.json["next_after"].as_i64().unwrap();
        let second = srv.call("GET", &format!("/api/v1/audit-logs?entity_type=department&limit=3&after={after}"), Some(&admin), None).await;
        let names: Vec<_> = second.json["items"].as_array().unwrap().iter().map(|e| e["new_state"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Line 1", "Line 0"]);
        assert!(second.json["next_after"].is_null());

        // Timestamps compare correctly in the database on both engines.
        let at = items[1]["created_at"].as_str().unwrap().to_string();
        let since = srv.call("GET", &format!("/api/v1/audit-logs?entity_type=department&from={at}"), Some(&admin), None).await;
        assert_eq!(since.json["items"].as_array().unwrap().len(), 2);
        let before = srv.call("GET", &format!("/api/v1/audit-logs?entity_type=department&to={at}"), Some(&admin), None).await;
        assert_eq!(before.json["items"].as_array().unwrap().len(), 3);
        let bad = srv.call("GET", "/api/v1/audit-logs?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", Some(&admin), None).await;
        assert_eq!(bad.status, 422);
        let bad = srv.call("GET", "/api/v1/audit-logs?from=yesterday", Some(&admin), None).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["from"]);
        let manager = srv.user_token(&admin, "mia", "manager").await;
        assert_eq!(srv.call("GET", "/api/v1/audit-logs", Some(&manager), None).await.status, 200);
        let staff = srv.user_token(&admin, "ned", "staff").await;
        assert_eq!(srv.call("GET", "/api/v1/audit-logs", Some(&staff), None).await.status, 403);
    }
}

/// Sign-in attempts beyond the per-address limit get 429 with Retry-After, audited.
async fn rate_limit(backend: nexus_server::testing::Backend) {
    let Some(srv) = TestServer::start_with(backend, |c| c.login_rate_per_minute = 3).await else {
        return;
    };
    for _ in 0..3 {
        assert_eq!(
            srv.login_response("admin", "wrong-password-1").await.status,
            401
        );
    }
    let limited = srv.login_response("admin", ADMIN_PASSWORD).await;
    assert_eq!(limited.status, 429);
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    // The sign-in form shares the limit, and says when to try again in the same way.
    let page = srv
        .client()
        .post(srv.url("/login"))
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 429);
    let wait: u64 = page.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Too many sign-in attempts")
    );
    let rows = nexus_core::audit::list(
        srv.state.db.read(),
        &nexus_core::audit::AuditFilter {
            action: Some("login_rate_limited".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_rate_limit_sqlite() {
    rate_limit(nexus_server::testing::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_rate_limit_postgres() {
    rate_limit(nexus_server::testing::Backend::Postgres).await;
}

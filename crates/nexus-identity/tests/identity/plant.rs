//! The plant's currency and time zone: read by anyone signed in, set by admins (API and
//! page), and what the pages of every area then show: times in the plant's zone, times
//! typed into forms read as plant time, money in its currency. On SQLite and PostgreSQL.

use nexus_server::backend_tests;
use nexus_server::testing::{Backend, TestServer, csrf};
use serde_json::{Value, json};

async fn plant(srv: &TestServer, token: &str) -> Value {
    let res = srv.get("/api/v1/plant", token).await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    res.json
}

backend_tests! {
    async fn anyone_reads_the_plant_and_admins_set_it(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "gus", "guest").await;
        let manager = srv.user_token(&admin, "max", "manager").await;
        assert_eq!(srv.call("GET", "/api/v1/plant", None, None).await.status, 401);
        let default = json!({"currency": "USD", "timezone": "UTC"});
        assert_eq!(plant(srv, &guest).await, default);

        let put = |token: &str, body: Value| {
            let token = token.to_string();
            async move { srv.call("PUT", "/api/v1/plant", Some(&token), Some(body)).await }
        };
        let berlin = json!({"currency": "EUR", "timezone": "Europe/Berlin"});
        assert_eq!(put(&manager, berlin.clone()).await.status, 403);
        assert_eq!(put(&guest, berlin.clone()).await.status, 403);
        for (body, fields) in [
            (json!({"currency": "EURO", "timezone": "Europe/Berlin"}), vec!["currency"]),
            (json!({"currency": "E1", "timezone": "Europe/Berlin"}), vec!["currency"]),
            (json!({"currency": "EUR", "timezone": "Mars/Olympus"}), vec!["timezone"]),
            (json!({"currency": "EUR", "timezone": "+01:00"}), vec!["timezone"]),
            (json!({"currency": "", "timezone": ""}), vec!["currency", "timezone"]),
        ] {
            let res = put(&admin, body.clone()).await;
            assert_eq!(res.status, 422, "{body}");
            assert_eq!(res.header("content-type"), Some("application/problem+json"), "{body}");
            assert_eq!(res.error_fields(), fields, "{body}");
        }
        let res = put(&admin, json!({"currency": "EUR"})).await;
        assert_eq!(res.status, 422, "a field missing: {:?}", res.json);
        // Nothing refused changed anything.
        assert_eq!(plant(srv, &guest).await, default);
        assert_eq!(srv.get("/api/v1/audit-logs?entity_type=plant", &admin).await.json["items"], json!([]));

        // Codes in any case and zones in any case are taken, and answered as written.
        let res = put(&admin, json!({"currency": " eur", "timezone": "europe/berlin"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.json, berlin);
        assert_eq!(plant(srv, &guest).await, berlin);
        // Production's settings answer the plant's time zone.
        assert_eq!(srv.get("/api/v1/production/settings", &admin).await.json["timezone"], "Europe/Berlin");

        // Audited like other settings: before and after, by whom.
        let audit = srv.get("/api/v1/audit-logs?entity_type=plant", &admin).await.json;
        let entries = audit["items"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{audit}");
        assert_eq!(entries[0]["action"], "update");
        assert_eq!(entries[0]["previous_state"], default);
        assert_eq!(entries[0]["new_state"], berlin);
        assert!(entries[0]["actor_id"].is_i64());

        // A second node over the same PostgreSQL database reads it at start, and hears
        // later changes. (A second SQLite node would have a database of its own.)
        if srv.backend != Backend::Postgres {
            return;
        }
        let other = srv.second_node().await;
        assert_eq!(plant(&other, &guest).await, berlin);
        let chicago = json!({"currency": "USD", "timezone": "America/Chicago"});
        assert_eq!(put(&admin, chicago.clone()).await.status, 200);
        let mut seen = Value::Null;
        for _ in 0..100 {
            seen = plant(&other, &guest).await;
            if seen == chicago {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(seen, chicago, "the other node follows");
        other.finish().await;
    }

    async fn pages_show_and_read_plant_time_and_money(srv) {
        let admin = srv.admin_token().await;
        let manager = srv.user_token(&admin, "max", "manager").await;
        assert_eq!(srv.page("/admin/plant", &manager).await.0, 403);

        // The admin page: a refused form says why by the field and keeps what was typed.
        let (status, html) = srv.page("/admin/plant", &admin).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("href=\"/admin/plant\"") && html.contains("<option value=\"Europe/Berlin\">"), "{html}");
        let token = csrf(&html);
        let (status, _, html) = srv.submit("/admin/plant", &admin, &[("csrf", &token), ("currency", "EUR"), ("timezone", "Berlin")]).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("id=\"timezone-error\"") && html.contains("value=\"Berlin\"") && html.contains("value=\"EUR\""), "{html}");
        assert_eq!(plant(srv, &admin).await["timezone"], "UTC");
        let (status, to, _) = srv.submit("/admin/plant", &admin, &[("csrf", &token), ("currency", "EUR"), ("timezone", "Europe/Berlin")]).await;
        assert_eq!((status, to.as_str()), (303, "/admin/plant?done=saved"));
        let (_, html) = srv.page(&to, &admin).await;
        assert!(html.contains("Plant settings saved. Pages now show times in Europe/Berlin") && html.contains("€1,234.50"), "{html}");

        // Times on pages are Berlin's, with the zone's abbreviation.
        let me = srv.get("/api/v1/auth/me", &admin).await.json;
        let (_, html) = srv.page(&format!("/admin/users/{}", me["id"]), &admin).await;
        assert!(html.contains(" CET") || html.contains(" CEST"), "{html}");
        assert!(!html.contains(" UTC"), "{html}");

        // A time typed into a form is Berlin time: 09:30 in January is 08:30 UTC, shown
        // and put back into the form as typed.
        let (_, html) = srv.page("/updates/new", &admin).await;
        let token = csrf(&html);
        let form = |at: &'static str| vec![("csrf", token.clone()), ("title", "Shutdown".to_string()),
            ("content", "Plant closed".into()), ("type", "news".into()), ("priority", "low".into()),
            ("audience", "all".into()), ("publish_at", at.into()), ("action", "schedule".into())];
        // 02:30 on 31 March 2030 does not happen in Berlin: the clocks go from 02:00 to 03:00.
        let skipped = form("2030-03-31T02:30");
        let skipped: Vec<(&str, &str)> = skipped.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, html) = srv.submit("/updates", &admin, &skipped).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("id=\"publish_at-error\""), "{html}");
        let good = form("2030-01-15T09:30");
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, to, html) = srv.submit("/updates", &admin, &good).await;
        assert_eq!(status, 303, "{html}");
        let id = to.trim_start_matches("/updates/").split('?').next().unwrap().to_string();
        let stored = srv.get(&format!("/api/v1/updates/{id}"), &admin).await.json;
        assert_eq!(stored["publish_at"], "2030-01-15T08:30:00.000000Z", "the API stays UTC: {stored}");
        let (_, html) = srv.page(&format!("/updates/{id}"), &admin).await;
        assert!(html.contains("2030-01-15 09:30 CET"), "{html}");
        let (_, html) = srv.page(&format!("/updates/{id}/edit"), &admin).await;
        assert!(html.contains("value=\"2030-01-15T09:30\""), "{html}");

        // Money is in euros.
        srv.create("/api/v1/parts", &admin, json!({"sku": "S-1", "name": "Seal", "unit_cost_cents": 123_450})).await;
        let (_, html) = srv.page("/maintenance/parts", &admin).await;
        assert!(html.contains("€1,234.50"), "{html}");
        let res = srv.call("PUT", "/api/v1/plant", Some(&admin), Some(json!({"currency": "CHF", "timezone": "Europe/Zurich"}))).await;
        assert_eq!(res.status, 200);
        let (_, html) = srv.page("/maintenance/parts", &admin).await;
        assert!(html.contains("1,234.50 CHF"), "{html}");
    }
}

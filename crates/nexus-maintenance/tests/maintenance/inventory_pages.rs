//! The parts, PM schedule and KPI pages, and the parts block of the work order page,
//! through real HTTP (HTML answers; forms posted with the page's CSRF token).

use nexus_server::backend_tests;
use nexus_server::testing::csrf;
use serde_json::json;

backend_tests! {
    async fn parts_pm_and_kpi_pages(srv) {
        let admin = srv.admin_token().await;
        let site = srv.create("/api/v1/locations", &admin, json!({"name": "Stores"})).await;
        let pump = srv.create("/api/v1/assets", &admin, json!({"name": "Pump", "location_id": site})).await;

        // A part made through the list page's form; a refused one keeps its errors.
        let (status, html) = srv.page("/maintenance/parts", &admin).await;
        assert_eq!(status, 200);
        let token = csrf(&html);
        let (status, _, html) = srv.submit("/maintenance/parts", &admin, &[("csrf", &token), ("sku", "V-1"), ("name", ""), ("unit_cost", "1.234")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"name-error\"") && html.contains("id=\"unit_cost-error\""), "{html}");
        let (status, to, _) = srv.submit("/maintenance/parts", &admin, &[("csrf", &token), ("sku", "V-1"), ("name", "Valve"), ("unit_cost", "12.50"), ("reorder_point", "2")]).await;
        assert_eq!(status, 303);
        let part = srv.call("GET", "/api/v1/parts?q=V-1", Some(&admin), None).await.json["items"][0].clone();
        assert_eq!(part["unit_cost_cents"], 1250);
        let id = part["id"].as_i64().unwrap();
        assert_eq!(to, format!("/maintenance/parts/{id}?done=created"));

        // Receive on the part's page; taking more than there is says so by the field.
        let path = format!("/maintenance/parts/{id}");
        let (status, html) = srv.page(&path, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("Never stocked."));
        let site_s = site.to_string();
        let (status, _, _) = srv.submit(&format!("{path}/receive"), &admin, &[("csrf", &token), ("location_id", &site_s), ("quantity", "5")]).await;
        assert_eq!(status, 303);
        let (status, _, html) = srv.submit(&format!("{path}/adjust"), &admin, &[("csrf", &token), ("location_id", &site_s), ("quantity", "-9"), ("reason", "count")]).await;
        assert_eq!(status, 409);
        assert!(html.contains("id=\"quantity-error\""), "{html}");
        assert!(html.contains("value=\"-9\"") && html.contains("value=\"count\""), "the refused adjustment keeps what was typed: {html}");
        let (_, html) = srv.page(&path, &admin).await;
        assert!(html.contains("Stock: 5"), "{html}");
        let (status, _, _) = srv.submit(&format!("{path}/receive"), &admin, &[("csrf", "forged"), ("location_id", &site_s), ("quantity", "5")]).await;
        assert_eq!(status, 403);

        // The work order page shows the parts block and records a use.
        let wo = srv.create("/api/v1/work-orders", &admin, json!({"title": "Fix valve", "asset_id": pump})).await;
        let (status, html) = srv.page(&format!("/maintenance/work-orders/{wo}"), &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("No parts used yet.") && html.contains("V-1 Valve (5)"), "{html}");
        let id_s = id.to_string();
        let (status, to, _) = srv.submit(&format!("/maintenance/work-orders/{wo}/parts"), &admin, &[("csrf", &token), ("part_id", &id_s), ("location_id", &site_s), ("quantity", "2")]).await;
        assert_eq!((status, to.as_str()), (303, format!("/maintenance/work-orders/{wo}?done=parts#parts").as_str()));
        let (status, _, html) = srv.submit(&format!("/maintenance/work-orders/{wo}/parts"), &admin, &[("csrf", &token), ("part_id", &id_s), ("location_id", &site_s), ("quantity", "7")]).await;
        assert_eq!(status, 409);
        assert!(html.contains("Only 3 unit(s)"), "{html}");
        assert!(html.contains("name=\"quantity\" type=\"number\" value=\"7\"") && html.contains(&format!("<option value=\"{id}\" selected>")), "the refused use keeps what was typed: {html}");
        let (_, html) = srv.page(&format!("/maintenance/work-orders/{wo}"), &admin).await;
        assert!(html.contains("2 × V-1 Valve") && html.contains("25.00"), "{html}");

        // PM schedules: created through the form, generated with the button.
        let (status, _, html) = srv.submit("/maintenance/pm-schedules", &admin, &[("csrf", &token), ("asset", "Pump"), ("title", ""), ("interval_value", "1"), ("interval_unit", "months"), ("next_due", "2031-01-31")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"title-error\""));
        let (status, _, _) = srv.submit("/maintenance/pm-schedules", &admin, &[("csrf", &token), ("asset", "Pump"), ("title", "Lubricate"), ("interval_value", "1"), ("interval_unit", "months"), ("next_due", "2031-01-31"), ("checklist", "Grease\nCheck noise\n")]).await;
        assert_eq!(status, 303);
        let schedule = srv.call("GET", "/api/v1/pm-schedules", Some(&admin), None).await.json["items"][0].clone();
        assert_eq!(schedule["checklist"].as_array().unwrap().len(), 2);
        let (_, html) = srv.page("/maintenance/pm-schedules", &admin).await;
        assert!(html.contains("Lubricate") && html.contains("2031-01-31"));
        let (status, to, _) = srv.submit(&format!("/maintenance/pm-schedules/{}/generate", schedule["id"]), &admin, &[("csrf", &token)]).await;
        assert_eq!(status, 303);
        assert!(to.starts_with("/maintenance/work-orders/"));
        let (status, _, html) = srv.submit(&format!("/maintenance/pm-schedules/{}/generate", schedule["id"]), &admin, &[("csrf", &token)]).await;
        assert_eq!(status, 409);
        assert!(html.contains("still open"), "{html}");

        // Edited through its form: every field replaces the stored one, a kept step keeps
        // its flags, a stale version is refused with the values stored now.
        let sid = schedule["id"].as_i64().unwrap();
        let res = srv.call("PATCH", &format!("/api/v1/pm-schedules/{sid}"), Some(&admin), Some(json!({"checklist": [
            {"task": "Grease", "required": true}, {"task": "Check noise"}]}))).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let edit = format!("/maintenance/pm-schedules/{sid}/edit");
        let (_, html) = srv.page("/maintenance/pm-schedules", &admin).await;
        assert!(html.contains(&format!("href=\"{edit}\"")), "{html}");
        let (status, html) = srv.page(&edit, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"Lubricate\"") && html.contains("Grease\nCheck noise") && html.contains("name=\"version\" value=\"3\""), "{html}");
        let form = |version: &'static str, every: &'static str| [("csrf", token.as_str()), ("version", version), ("asset", "Pump"),
            ("title", "Lubricate bearings"), ("interval_value", every), ("interval_unit", "weeks"), ("basis", "scheduled"),
            ("next_due", "2031-02-07"), ("lead_days", "3"), ("priority", "high"), ("estimated_minutes", ""), ("checklist", "Grease\nWipe down")];
        let (status, _, html) = srv.submit(&edit, &admin, &form("3", "x")).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"interval_value-error\"") && html.contains("value=\"Lubricate bearings\""), "{html}");
        let (status, to, _) = srv.submit(&edit, &admin, &form("3", "2")).await;
        assert_eq!((status, to.as_str()), (303, "/maintenance/pm-schedules?done=saved"));
        let s = srv.call("GET", &format!("/api/v1/pm-schedules/{sid}"), Some(&admin), None).await.json;
        assert_eq!((&s["title"], &s["interval_value"], &s["interval_unit"], &s["priority"], &s["active"], &s["version"]),
            (&json!("Lubricate bearings"), &json!(2), &json!("weeks"), &json!("high"), &json!(false), &json!(4)));
        assert_eq!((&s["checklist"][0]["task"], &s["checklist"][0]["required"]), (&json!("Grease"), &json!(true)));
        assert_eq!((&s["checklist"][1]["task"], s["checklist"].as_array().unwrap().len()), (&json!("Wipe down"), 2));
        let (status, _, html) = srv.submit(&edit, &admin, &form("3", "3")).await;
        assert_eq!(status, 412);
        assert!(html.contains("Someone else changed this record after you opened the form") && html.contains("name=\"version\" value=\"4\""), "{html}");
        assert_eq!(srv.submit(&edit, &admin, &[("csrf", "forged")]).await.0, 403);
        assert_eq!(srv.page("/maintenance/pm-schedules/999999/edit", &admin).await.0, 404);

        // KPIs: figures and a chart drawn on the server; bad dates are marked.
        let (status, html) = srv.page("/maintenance/kpis", &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"kpis\"") && html.contains("<svg"), "{html}");
        let (status, html) = srv.page("/maintenance/kpis?from=soon", &admin).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"from-error\""));
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        assert_eq!(srv.page("/maintenance/kpis", &guest).await.0, 403);
        assert_eq!(srv.page("/maintenance/parts", &guest).await.0, 200);
    }
}

//! Creating and editing through the pages: assets (references chosen by name), locations,
//! asset types and work orders (dispatched to anyone who may work on them, checklists,
//! prefills), refused forms that keep what was typed, stale versions, the overdue mark
//! and the board's recent completions; through real HTTP on both engines.

use nexus_core::Timestamp;
use nexus_core::db::stmt;
use nexus_server::backend_tests;
use nexus_server::testing::{TestServer, csrf};
use sea_orm::ConnectionTrait;
use serde_json::json;

async fn sql(srv: &TestServer, sql: &str, values: Vec<sea_orm::Value>) {
    let db = srv.state.db.write();
    db.execute_raw(stmt(db.get_database_backend(), sql, values))
        .await
        .unwrap();
}

/// The id at the end of a redirect to `prefix<id>?...`.
fn id_in(to: &str, prefix: &str) -> i64 {
    let rest = to
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{to} starts with {prefix}"));
    rest.split(['?', '#', '&']).next().unwrap().parse().unwrap()
}

backend_tests! {
    async fn assets_locations_and_types_through_forms(srv) {
        let admin = srv.admin_token().await;
        let (status, html) = srv.page("/maintenance/asset-types", &admin).await;
        assert_eq!(status, 200);
        let token = csrf(&html);

        // An asset type and two locations, one inside the other, made through the forms.
        let (status, to, _) = srv.submit("/maintenance/asset-types", &admin, &[("csrf", &token), ("name", "Pump"), ("description", "Moves liquids")]).await;
        assert_eq!(status, 303);
        assert!(to.starts_with("/maintenance/asset-types?done=created"), "{to}");
        let (status, _, html) = srv.submit("/maintenance/asset-types", &admin, &[("csrf", &token), ("name", "Pump")]).await;
        assert_eq!(status, 409);
        assert!(html.contains("id=\"name-error\"") && html.contains("value=\"Pump\""), "{html}");
        let pump_type = srv.call("GET", "/api/v1/asset-types", Some(&admin), None).await.json["items"][0]["id"].as_i64().unwrap();

        let (status, to, _) = srv.submit("/maintenance/locations/new", &admin, &[("csrf", &token), ("name", "Plant North"), ("city", "Linz")]).await;
        assert_eq!(status, 303);
        let plant = id_in(&to, "/maintenance/assets?location_id=");
        let plant_s = plant.to_string();
        let (status, html) = srv.page(&format!("/maintenance/locations/new?parent_id={plant}"), &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("<option value=\"{plant}\" selected>Plant North</option>")), "{html}");
        let (status, _, html) = srv.submit("/maintenance/locations/new", &admin, &[("csrf", &token), ("name", ""), ("parent_id", &plant_s), ("latitude", "north")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"name-error\"") && html.contains("id=\"latitude-error\"") && html.contains("value=\"north\""), "{html}");
        let (status, to, _) = srv.submit("/maintenance/locations/new", &admin, &[("csrf", &token), ("name", "Hall A"), ("parent_id", &plant_s)]).await;
        assert_eq!(status, 303);
        let hall = id_in(&to, "/maintenance/assets?location_id=");
        let loc = srv.call("GET", &format!("/api/v1/locations/{hall}"), Some(&admin), None).await.json;
        assert_eq!(loc["parent_id"], plant);

        // Every location and type is offered by name on the new asset form.
        let line = srv.create("/api/v1/assets", &admin, json!({"name": "Line 1", "tag": "L-1"})).await;
        srv.create("/api/v1/assets", &admin, json!({"name": "Mixer A"})).await;
        srv.create("/api/v1/assets", &admin, json!({"name": "Mixer B"})).await;
        let (status, html) = srv.page("/maintenance/assets/new", &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("<option value=\"{hall}\">Plant North / Hall A</option>")), "{html}");
        assert!(html.contains(&format!("<option value=\"{pump_type}\">Pump</option>")));
        assert!(html.contains("<label for=\"parent\">") && html.contains("list=\"parent-choices\""));

        // Find offers the matches for what was typed, and saves nothing.
        let (status, html) = srv.page("/maintenance/assets/new?parent_q=mix", &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("<option value=\"Mixer A\">") && html.contains("<option value=\"Mixer B\">") && !html.contains("<option value=\"Line 1 · L-1\">"), "{html}");
        let (status, html) = srv.page("/maintenance/assets/choices?q=MIX", &admin).await;
        assert_eq!(status, 200);
        assert_eq!(html, "<option value=\"Mixer A\"></option>\n<option value=\"Mixer B\"></option>\n");
        let (status, _, html) = srv.submit("/maintenance/assets/new", &admin, &[("csrf", &token), ("name", "Pump 7"), ("parent", "Mixer"), ("find", "parent")]).await;
        assert_eq!(status, 200);
        assert!(html.contains("<option value=\"Mixer A\">") && html.contains("value=\"Pump 7\""), "{html}");
        assert_eq!(srv.call("GET", "/api/v1/assets?q=Pump", Some(&admin), None).await.json["total"], 0);

        // A refused form keeps what was typed and marks every field at fault at once.
        let (status, _, html) = srv.submit("/maintenance/assets/new", &admin, &[("csrf", &token), ("name", ""), ("parent", "Mixer"),
            ("purchase_cost", "12.345"), ("installation_date", "last spring"), ("serial_number", "SN-7"), ("location_id", &hall.to_string())]).await;
        assert_eq!(status, 422);
        for field in ["name", "parent", "purchase_cost", "installation_date"] {
            assert!(html.contains(&format!("id=\"{field}-error\"")), "{field}: {html}");
        }
        assert!(html.contains("choose one of the 2 assets matching “Mixer”"), "{html}");
        assert!(html.contains("value=\"Mixer\"") && html.contains("value=\"12.345\"") && html.contains("value=\"SN-7\""));
        assert!(html.contains(&format!("<option value=\"{hall}\" selected>")), "{html}");
        assert!(html.contains("<option value=\"Mixer A\">"), "the matches are offered");

        // Created with the parent typed by name, the location and type chosen by name.
        let (status, to, _) = srv.submit("/maintenance/assets/new", &admin, &[("csrf", &token), ("name", "Pump 7"), ("parent", "line 1"),
            ("location_id", &hall.to_string()), ("asset_type_id", &pump_type.to_string()), ("status", "operational"), ("tag", "P-7"),
            ("serial_number", "SN-7"), ("manufacturer", "Grundfos"), ("purchase_cost", "1500.50"), ("installation_date", "2025-03-01"),
            ("expected_lifetime", "120")]).await;
        assert_eq!(status, 303);
        let id = id_in(&to, "/maintenance/assets/");
        assert!(to.ends_with("?done=created"), "{to}");
        let a = srv.call("GET", &format!("/api/v1/assets/{id}"), Some(&admin), None).await.json;
        assert_eq!((&a["parent_asset_id"], &a["location_id"], &a["asset_type_id"]), (&json!(line), &json!(hall), &json!(pump_type)));
        assert_eq!((&a["purchase_cost_cents"], &a["installation_date"], &a["expected_lifetime"]), (&json!(150050), &json!("2025-03-01"), &json!(120)));

        // The asset page: edit, add a component, raise a work order on it.
        let (status, html) = srv.page(&to, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("Created.") && html.contains("Operational"), "{html}");
        assert!(html.contains(&format!("href=\"/maintenance/assets/{id}/edit\"")) && html.contains(&format!("href=\"/maintenance/work-orders/new?asset_id={id}\"")));

        // Edited: the stored parent is shown by name and kept; a stale version changes nothing.
        let edit = format!("/maintenance/assets/{id}/edit");
        let (status, html) = srv.page(&edit, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"Line 1 · L-1\"") && html.contains("name=\"version\" value=\"1\"") && html.contains("value=\"1500.50\""), "{html}");
        let form = |version: &'static str, name: &'static str| {
            vec![("csrf", token.clone()), ("version", version.into()), ("name", name.into()), ("parent", "Line 1 · L-1".into()),
                ("parent_id", line.to_string()), ("location_id", hall.to_string()), ("asset_type_id", pump_type.to_string()),
                ("status", "down".into()), ("downtime_reason", "Seal leaks".into()), ("tag", "P-7".into()), ("serial_number", "SN-7".into()),
                ("purchase_cost", "1500.50".into()), ("installation_date", "2025-03-01".into()), ("expected_lifetime", "120".into())]
        };
        let f1 = form("1", "Pump 7B");
        let f1: Vec<(&str, &str)> = f1.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, to, _) = srv.submit(&edit, &admin, &f1).await;
        assert_eq!((status, to.as_str()), (303, format!("/maintenance/assets/{id}?done=saved").as_str()));
        let a = srv.call("GET", &format!("/api/v1/assets/{id}"), Some(&admin), None).await.json;
        assert_eq!((&a["name"], &a["status"], &a["parent_asset_id"], &a["version"]), (&json!("Pump 7B"), &json!("down"), &json!(line), &json!(2)));
        let f2 = form("1", "Pump X");
        let f2: Vec<(&str, &str)> = f2.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, html) = srv.submit(&edit, &admin, &f2).await;
        assert_eq!(status, 412);
        assert!(html.contains("Someone else changed this record") && html.contains("value=\"Pump 7B\"") && html.contains("name=\"version\" value=\"2\""), "{html}");
        assert_eq!(srv.call("GET", &format!("/api/v1/assets/{id}"), Some(&admin), None).await.json["name"], "Pump 7B");
        // A component cannot become its own parent's parent: the field says so.
        let line_edit = format!("/maintenance/assets/{line}/edit");
        let (status, _, html) = srv.submit(&line_edit, &admin, &[("csrf", &token), ("version", "1"), ("name", "Line 1"), ("tag", "L-1"), ("parent", "P-7")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"parent-error\"") && html.contains("cannot be inside itself"), "{html}");

        // Locations and types are edited the same way.
        let loc_edit = format!("/maintenance/locations/{hall}/edit");
        let (status, html) = srv.page(&loc_edit, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"Hall A\"") && !html.contains(&format!("<option value=\"{hall}\"")), "a location cannot be inside itself: {html}");
        let (status, to, _) = srv.submit(&loc_edit, &admin, &[("csrf", &token), ("version", "1"), ("name", "Hall B"), ("parent_id", &plant_s), ("city", "Linz")]).await;
        assert_eq!((status, to.as_str()), (303, format!("/maintenance/assets?location_id={hall}&done=saved").as_str()));
        let (status, _, html) = srv.submit(&loc_edit, &admin, &[("csrf", &token), ("version", "1"), ("name", "Hall C")]).await;
        assert_eq!(status, 412);
        assert!(html.contains("value=\"Hall B\""), "{html}");
        let (_, html) = srv.page(&format!("/maintenance/assets?location_id={hall}"), &admin).await;
        assert!(html.contains("Assets at Hall B") && html.contains(&format!("href=\"/maintenance/locations/{hall}/edit\"")), "{html}");
        let type_edit = format!("/maintenance/asset-types/{pump_type}/edit");
        let (status, to, _) = srv.submit(&type_edit, &admin, &[("csrf", &token), ("version", "1"), ("name", "Centrifugal pump")]).await;
        assert_eq!(status, 303, "{to}");
        let (_, html) = srv.page("/maintenance/asset-types", &admin).await;
        assert!(html.contains("Centrifugal pump") && html.contains("<thead>"), "{html}");

        // The part form marks the field the API calls unit_cost_cents.
        let (status, _, html) = srv.submit("/maintenance/parts", &admin, &[("csrf", &token), ("sku", "B-1"), ("name", "Bolt"), ("unit_cost", "-2")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"unit_cost-error\"") && html.contains("value=\"-2\""), "{html}");

        // Without the permission, no forms.
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        assert_eq!(srv.page("/maintenance/assets/new", &guest).await.0, 403);
        assert_eq!(srv.page(&edit, &guest).await.0, 403);
        assert_eq!(srv.page("/maintenance/asset-types", &guest).await.0, 200);
        assert_eq!(srv.submit("/maintenance/assets/new", &admin, &[("csrf", "forged"), ("name", "X")]).await.0, 403);
        assert_eq!(srv.page("/maintenance/assets/999999/edit", &admin).await.0, 404);
    }

    async fn work_orders_dispatched_from_the_pages(srv) {
        let admin = srv.admin_token().await;
        let tech = srv.create_user(&admin, "tech1", "staff").await;
        let other = srv.create_user(&admin, "tech2", "staff").await;
        srv.create_user(&admin, "visitor", "guest").await;
        let press = srv.create("/api/v1/assets", &admin, json!({"name": "Press 9", "tag": "PR-9"})).await;

        // A link from an asset page, an alert or a risk row fills in the new form.
        let (status, html) = srv.page(&format!("/maintenance/work-orders/new?asset_id={press}&title=Hot%20bearing&priority=high"), &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"Press 9 · PR-9\"") && html.contains("value=\"Hot bearing\"") && html.contains("<option value=\"high\" selected>High</option>"), "{html}");
        assert!(html.contains(&format!("<option value=\"{tech}\">tech1</option>")) && html.contains(&format!("<option value=\"{other}\">tech2</option>")), "{html}");
        assert!(!html.contains(">visitor<"), "a guest may not work on work orders");
        let token = csrf(&html);

        // Refused: everything typed comes back, every field at fault is marked.
        let (status, _, html) = srv.submit("/maintenance/work-orders", &admin, &[("csrf", &token), ("title", ""), ("asset", "no such machine"),
            ("due_date", "soon"), ("checklist", "Check oil"), ("priority", "high")]).await;
        assert_eq!(status, 422);
        for field in ["title", "asset", "due_date"] {
            assert!(html.contains(&format!("id=\"{field}-error\"")), "{field}: {html}");
        }
        assert!(html.contains("value=\"no such machine\"") && html.contains("Check oil</textarea>") && html.contains("<option value=\"high\" selected>"), "{html}");

        // Created for someone else, on the asset typed by tag, with a checklist; due long ago.
        let press_label = "Press 9 · PR-9".to_string();
        let (status, to, _) = srv.submit("/maintenance/work-orders", &admin, &[("csrf", &token), ("title", "Hot bearing"), ("asset", &press_label),
            ("asset_id", &press.to_string()), ("type", "corrective"), ("priority", "high"), ("due_date", "2020-01-31"),
            ("assigned_to_id", &tech.to_string()), ("checklist", "Check oil\n\nTighten bolts\n")]).await;
        assert_eq!(status, 303);
        let wo = id_in(&to, "/maintenance/work-orders/");
        let w = srv.call("GET", &format!("/api/v1/work-orders/{wo}"), Some(&admin), None).await.json;
        assert_eq!((&w["asset_id"], &w["assigned_to_id"], &w["checklist"].as_array().unwrap().len()), (&json!(press), &json!(tech), &2));
        let by_tag = srv.submit("/maintenance/work-orders", &admin, &[("csrf", &token), ("title", "Noise"), ("asset", "pr-9")]).await;
        assert_eq!(by_tag.0, 303, "{}", by_tag.2);

        // The list: the asset by name, linked; the overdue order marked in words.
        let (status, html) = srv.page("/maintenance/work-orders", &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("<th>Asset</th>") && html.contains(&format!("<a href=\"/maintenance/assets/{press}\">Press 9</a>")), "{html}");
        let row = html.split("<tr").find(|r| r.contains(&format!("/maintenance/work-orders/{wo}\""))).unwrap();
        assert!(row.contains("class=\"overdue\"") && row.contains("Overdue") && row.contains("High"), "{row}");
        let row = html.split("<tr").find(|r| r.contains("Noise")).unwrap();
        assert!(!row.contains("Overdue"), "{row}");
        let (_, html) = srv.page(&format!("/maintenance/assets/{press}"), &admin).await;
        let open = &html[html.find("id=\"open-work-orders\"").unwrap()..];
        assert!(open.contains("Overdue") && open.contains("High"), "{open}");

        // The work order page links the asset, offers Edit and adding steps.
        let page = format!("/maintenance/work-orders/{wo}");
        let (_, html) = srv.page(&page, &admin).await;
        assert!(html.contains(&format!("<a href=\"/maintenance/assets/{press}\" id=\"wo-asset\">Press 9</a>")) && html.contains("id=\"wo-overdue\""), "{html}");
        assert!(html.contains(&format!("href=\"{page}/edit\"")) && html.contains("id=\"add-step\""));
        let (status, _, html) = srv.submit(&format!("{page}/checklist"), &admin, &[("csrf", &token), ("task", " "), ("kind", "number")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"task-error\"") && html.contains("<option value=\"number\" selected>"), "{html}");
        let (status, to, _) = srv.submit(&format!("{page}/checklist"), &admin, &[("csrf", &token), ("task", "Grease"), ("kind", "checkbox"), ("required", "on")]).await;
        assert_eq!(status, 303);
        assert!(to.starts_with(&format!("{page}?done=step_added#step-")), "{to}");
        let w = srv.call("GET", &page.replace("/maintenance/", "/api/v1/"), Some(&admin), None).await.json;
        assert_eq!((&w["checklist"][2]["task"], &w["checklist"][2]["required"], &w["checklist"][2]["sequence"]), (&json!("Grease"), &json!(true), &json!(3)));

        // Edited: re-prioritised, re-dated and given to someone else; a stale version is refused.
        let edit = format!("{page}/edit");
        let (status, html) = srv.page(&edit, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"Press 9 · PR-9\"") && html.contains(&format!("<option value=\"{tech}\" selected>")), "{html}");
        let version = w["version"].to_string();
        let (status, to, _) = srv.submit(&edit, &admin, &[("csrf", &token), ("version", &version), ("title", "Hot bearing, left side"),
            ("asset", &press_label), ("asset_id", &press.to_string()), ("type", "corrective"), ("priority", "critical"),
            ("due_date", "2031-05-01"), ("assigned_to_id", &other.to_string())]).await;
        assert_eq!((status, to.as_str()), (303, format!("{page}?done=saved#status").as_str()));
        let w = srv.call("GET", &format!("/api/v1/work-orders/{wo}"), Some(&admin), None).await.json;
        assert_eq!((&w["assigned_to_id"], &w["priority"], &w["due_date"], &w["title"]), (&json!(other), &json!("critical"), &json!("2031-05-01"), &json!("Hot bearing, left side")));
        let (_, html) = srv.page(&format!("/maintenance/work-orders?assigned={other}"), &admin).await;
        let table = &html[html.find("id=\"work-orders\"").unwrap()..];
        assert!(table.contains("Hot bearing, left side") && !table.contains("Noise") && html.contains(&format!("<option value=\"{other}\" selected>tech2</option>")), "{html}");
        let (status, _, html) = srv.submit(&edit, &admin, &[("csrf", &token), ("version", &version), ("title", "Stale"), ("priority", "low")]).await;
        assert_eq!(status, 412);
        assert!(html.contains("Someone else changed this record") && html.contains("value=\"Hot bearing, left side\""), "{html}");
        assert_eq!(srv.call("GET", &format!("/api/v1/work-orders/{wo}"), Some(&admin), None).await.json["priority"], "critical");

        // Without work_orders:manage, the only person on offer is oneself (and the current one).
        let tech_token = srv.login("tech1", "tech1-password").await;
        let (_, html) = srv.page("/maintenance/work-orders/new", &tech_token).await;
        assert!(html.contains(&format!("<option value=\"{tech}\">tech1 — me</option>")) && !html.contains(">tech2<"), "{html}");
        let (_, html) = srv.page(&edit, &tech_token).await;
        assert!(html.contains(&format!("<option value=\"{other}\" selected>tech2</option>")), "{html}");

        // The board: work to do, and only the completions of the last seven days.
        let done_now = srv.create("/api/v1/work-orders", &admin, json!({"title": "Done today"})).await;
        let done_long_ago = srv.create("/api/v1/work-orders", &admin, json!({"title": "Done last year"})).await;
        for id in [done_now, done_long_ago] {
            let res = srv.post(&format!("/api/v1/work-orders/{id}/status"), &admin, json!({"status": "completed"})).await;
            assert_eq!(res.status, 200, "{:?}", res.json);
        }
        let year_ago = Timestamp(Timestamp::now().0 - 365 * 24 * 3600 * 1_000_000);
        sql(srv, "UPDATE work_orders SET completed_at = $1 WHERE id = $2", vec![year_ago.0.into(), done_long_ago.into()]).await;
        let (status, html) = srv.page("/maintenance/work-orders/board", &admin).await;
        assert_eq!(status, 200);
        let completed = &html[html.find("id=\"col-completed\"").unwrap()..];
        assert!(completed.contains("Done today") && !completed.contains("Done last year"), "{completed}");
        assert!(html.contains("Completed in the last 7 days") && html.contains("Hot bearing, left side"), "{html}");

        // Closed work orders take no more edits or steps.
        let (status, _, html) = srv.submit(&format!("/maintenance/work-orders/{done_now}/checklist"), &admin, &[("csrf", &token), ("task", "Late")]).await;
        assert_eq!(status, 409, "{html}");
        let (_, html) = srv.page(&format!("/maintenance/work-orders/{done_now}"), &admin).await;
        assert!(!html.contains("id=\"add-step\"") && !html.contains("id=\"edit-work-order\""));
    }
}

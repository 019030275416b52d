//! Production tracking through real HTTP, on SQLite and on PostgreSQL.

use nexus_server::backend_tests;
use nexus_server::testing::{Resp, TestServer};
use serde_json::{Value, json};

pub async fn record(
    srv: &TestServer,
    token: &str,
    order: &str,
    wc: i64,
    qty: i64,
    ty: &str,
) -> Resp {
    srv.call(
        "POST",
        "/api/v1/production-orders",
        Some(token),
        Some(json!({"production_order": order, "workcenter_id": wc, "quantity": qty, "order_type": ty})),
    )
    .await
}

async fn wip(srv: &TestServer, token: &str, order: &str, wc: i64) -> i64 {
    let h = srv
        .call(
            "GET",
            &format!("/api/v1/production-orders/history/{order}"),
            Some(token),
            None,
        )
        .await;
    h.json["wip"]
        .as_array()
        .and_then(|a| a.iter().find(|w| w["workcenter_id"] == wc))
        .map(|w| w["wip"].as_i64().unwrap())
        .unwrap_or(0)
}

async fn movement_count(srv: &TestServer, token: &str) -> usize {
    srv.call(
        "GET",
        "/api/v1/production-orders?limit=500",
        Some(token),
        None,
    )
    .await
    .json["items"]
        .as_array()
        .unwrap()
        .len()
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Posts production orders as CSV to the import endpoint.
async fn import(srv: &TestServer, token: &str, csv: &str) -> Resp {
    srv.post_csv("/api/v1/production-orders/import", token, csv)
        .await
}

backend_tests! {
    async fn default_work_centers_exist(srv) {
        let token = srv.admin_token().await;
        let wcs = srv.call("GET", "/api/v1/work-centers", Some(&token), None).await;
        assert_eq!(wcs.json["total"], 5);
        let codes: Vec<_> = wcs.json["items"].as_array().unwrap().iter().map(|w| format!("{} - {}", w["code"].as_str().unwrap(), w["name"].as_str().unwrap())).collect();
        assert_eq!(codes, ["WC001 - Assembly", "WC002 - Machining", "WC003 - Welding", "WC004 - Painting", "WC005 - Quality Control"]);
        let qc = &wcs.json["items"][4];
        let dept = srv.call("GET", &format!("/api/v1/departments/{}", qc["department_id"]), Some(&token), None).await;
        assert_eq!(dept.json["name"], "Quality Control");

        let res = srv.call("POST", "/api/v1/work-centers", Some(&token), Some(json!({"code": "wc006", "name": "Packing"}))).await;
        assert_eq!(res.status, 201);
        assert_eq!(res.json["code"], "WC006");
        let dup = srv.call("POST", "/api/v1/work-centers", Some(&token), Some(json!({"code": "WC006", "name": "Again"}))).await;
        assert_eq!(dup.status, 409);
        assert_eq!(dup.error_fields(), ["code"]);
        let bad = srv.call("POST", "/api/v1/work-centers", Some(&token), Some(json!({"code": "has space", "name": ""}))).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["code", "name"]);
    }

    async fn recording_keeps_wip_and_refuses_what_is_not_there(srv) {
        let token = srv.admin_token().await;
        let res = record(srv, &token, "  PO-1 ", 1, 10, "IN").await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!(res.json["production_order"], "PO-1");
        assert_eq!(res.json["wip"], 10);
        assert!(res.json["created_at"].as_str().unwrap().ends_with('Z'));
        let res = record(srv, &token, "PO-1", 1, 4, "out").await;
        assert_eq!(res.status, 201);
        assert_eq!(res.json["order_type"], "OUT");
        assert_eq!(res.json["wip"], 6);
        let res = record(srv, &token, "PO-1", 1, 7, "OUT").await;
        assert_eq!(res.status, 409);
        assert!(res.json["detail"].as_str().unwrap().contains("only 6 unit(s) of order PO-1 are at WC001"), "{:?}", res.json);
        let res = record(srv, &token, "PO-1", 2, 1, "OUT").await;
        assert_eq!(res.status, 409, "nothing of PO-1 is at WC002");
        assert_eq!(wip(srv, &token, "PO-1", 1).await, 6);

        // Bad input: a clear 422 naming the field, and nothing recorded.
        let before = movement_count(srv, &token).await;
        for (body, field) in [
            (json!({"production_order": "PO-2", "workcenter_id": 1, "quantity": 0, "order_type": "IN"}), "quantity"),
            (json!({"production_order": "PO-2", "workcenter_id": 1, "quantity": -3, "order_type": "IN"}), "quantity"),
            (json!({"production_order": "PO-2", "workcenter_id": 1, "quantity": 1.5, "order_type": "IN"}), "quantity"),
            (json!({"production_order": "PO-2", "workcenter_id": 1, "quantity": "2", "order_type": "IN"}), "quantity"),
            (json!({"production_order": "PO-2", "workcenter_id": 1, "quantity": 2, "order_type": "SIDEWAYS"}), "order_type"),
            (json!({"production_order": "   ", "workcenter_id": 1, "quantity": 2, "order_type": "IN"}), "production_order"),
            (json!({"production_order": "P".repeat(51), "workcenter_id": 1, "quantity": 2, "order_type": "IN"}), "production_order"),
            (json!({"production_order": "PO-2", "workcenter_id": 999, "quantity": 2, "order_type": "IN"}), "workcenter_id"),
            (json!({"production_order": "PO-2", "workcenter_id": 1, "quantity": 2, "order_type": "IN", "user_id": 5}), "user_id"),
            (json!({"production_order": "PO-2", "workcenter_id": 1, "order_type": "IN"}), "quantity"),
        ] {
            let res = srv.call("POST", "/api/v1/production-orders", Some(&token), Some(body.clone())).await;
            assert_eq!(res.status, 422, "{body}");
            assert_eq!(res.error_fields(), [field], "{body}: {:?}", res.json);
        }
        // An inactive work center refuses new movements but keeps its history.
        let res = srv.call("PATCH", "/api/v1/work-centers/1", Some(&token), Some(json!({"is_active": false}))).await;
        assert_eq!(res.status, 200);
        let res = record(srv, &token, "PO-1", 1, 1, "IN").await;
        assert_eq!(res.status, 409);
        assert_eq!(res.error_fields(), ["workcenter_id"]);
        assert_eq!(movement_count(srv, &token).await, before);
        let list = srv.call("GET", "/api/v1/production-orders?workcenter_id=1", Some(&token), None).await;
        assert_eq!(list.json["items"].as_array().unwrap().len(), 2);

        // An admin setting allows an OUT beyond WIP.
        srv.call("PATCH", "/api/v1/work-centers/1", Some(&token), Some(json!({"is_active": true}))).await;
        let res = srv.call("PUT", "/api/v1/production/settings", Some(&token), Some(json!({"timezone": "UTC", "allow_negative_wip": true}))).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let res = record(srv, &token, "PO-1", 1, 8, "OUT").await;
        assert_eq!(res.status, 201);
        assert_eq!(res.json["wip"], -2);
    }

    async fn last_units_go_to_one_operator_only(srv) {
        let admin = srv.admin_token().await;
        let op1 = srv.user_token(&admin, "op1", "user").await;
        let op2 = srv.user_token(&admin, "op2", "user").await;
        assert_eq!(record(srv, &op1, "PO-LAST", 3, 5, "IN").await.status, 201);
        // Two operators take the same last 5 units at once: exactly one succeeds.
        let (a, b) = tokio::join!(record(srv, &op1, "PO-LAST", 3, 5, "OUT"), record(srv, &op2, "PO-LAST", 3, 5, "OUT"));
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [201, 409]);
        // Twenty one-unit OUTs at once against 8 units: exactly 8 succeed.
        assert_eq!(record(srv, &op1, "PO-MANY", 3, 8, "IN").await.status, 201);
        let tasks: Vec<_> = (0..20).map(|i| {
            let token = if i % 2 == 0 { op1.clone() } else { op2.clone() };
            async move { record(srv, &token, "PO-MANY", 3, 1, "OUT").await.status }
        }).collect();
        let results = futures_util::future::join_all(tasks).await;
        assert_eq!(results.iter().filter(|s| **s == 201).count(), 8);
        assert_eq!(results.iter().filter(|s| **s == 409).count(), 12);
        assert_eq!(wip(srv, &admin, "PO-MANY", 3).await, 0);
        let day = today();
        let summary = srv.call("GET", &format!("/api/v1/reports/production/daily?from={day}&to={day}&workcenter_id=3"), Some(&admin), None).await;
        let out = summary.json["rows"].as_array().unwrap().iter().find(|r| r["order_type"] == "OUT").unwrap().clone();
        assert_eq!(out["quantity"], 13);
        assert_eq!(out["movements"], 9);
    }

    async fn reversal_undoes_a_mistake(srv) {
        let admin = srv.admin_token().await;
        let staff = srv.user_token(&admin, "sam", "staff").await;
        let user = srv.user_token(&admin, "uma", "user").await;
        let wrong = record(srv, &user, "PO-R", 2, 12, "IN").await;
        let id = wrong.json["id"].as_i64().unwrap();
        assert_eq!(srv.call("POST", &format!("/api/v1/production-orders/{id}/reverse"), Some(&user), Some(json!({}))).await.status, 403);
        let res = srv.call("POST", &format!("/api/v1/production-orders/{id}/reverse"), Some(&staff), Some(json!({"note": "typed 12 instead of 2"}))).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!(res.json["reverses_id"], id);
        assert_eq!(res.json["wip"], 0);
        let rid = res.json["id"].as_i64().unwrap();
        assert_eq!(srv.call("POST", &format!("/api/v1/production-orders/{id}/reverse"), Some(&staff), Some(json!({}))).await.status, 409);
        assert_eq!(srv.call("POST", &format!("/api/v1/production-orders/{rid}/reverse"), Some(&staff), Some(json!({}))).await.status, 409);
        assert_eq!(srv.call("POST", "/api/v1/production-orders/987654/reverse", Some(&staff), Some(json!({}))).await.status, 404);
        // The original is untouched and still listed; the day's report nets it out.
        let original = srv.call("GET", &format!("/api/v1/production-orders/{id}"), Some(&admin), None).await;
        assert_eq!(original.json["quantity"], 12);
        let day = today();
        let summary = srv.call("GET", &format!("/api/v1/reports/production/daily?from={day}&to={day}"), Some(&admin), None).await;
        assert!(summary.json["rows"].as_array().unwrap().is_empty(), "{:?}", summary.json);
        let log = srv.call("GET", &format!("/api/v1/audit-logs?entity_type=production_order&entity_id={id}"), Some(&admin), None).await;
        assert_eq!(log.json["items"][0]["action"], "reverse");
        assert_eq!(log.json["items"][0]["new_state"]["note"], "typed 12 instead of 2");

        // An IN whose units already moved on cannot be reversed.
        let inn = record(srv, &user, "PO-R2", 2, 5, "IN").await.json["id"].as_i64().unwrap();
        assert_eq!(record(srv, &user, "PO-R2", 2, 4, "OUT").await.status, 201);
        let res = srv.call("POST", &format!("/api/v1/production-orders/{inn}/reverse"), Some(&staff), Some(json!({}))).await;
        assert_eq!(res.status, 409);
        assert_eq!(wip(srv, &admin, "PO-R2", 2).await, 1);
    }

    async fn lists_filter_and_page_newest_first(srv) {
        let admin = srv.admin_token().await;
        let op = srv.user_token(&admin, "olga", "user").await;
        for i in 0..7 {
            record(srv, if i % 2 == 0 { &admin } else { &op }, &format!("PO-L{}", i % 3), 1 + (i % 2), 1 + i, "IN").await;
        }
        let page1 = srv.call("GET", "/api/v1/production-orders?limit=3", Some(&admin), None).await;
        let items = page1.json["items"].as_array().unwrap();
        assert_eq!(items.iter().map(|m| m["quantity"].as_i64().unwrap()).collect::<Vec<_>>(), [7, 6, 5]);
        let next = page1.json["next_after"].as_str().unwrap();
        let page2 = srv.call("GET", &format!("/api/v1/production-orders?limit=3&after={next}"), Some(&admin), None).await;
        assert_eq!(page2.json["items"].as_array().unwrap().iter().map(|m| m["quantity"].as_i64().unwrap()).collect::<Vec<_>>(), [4, 3, 2]);
        let q = |s: &'static str| {
            let admin = admin.clone();
            async move { srv.call("GET", &format!("/api/v1/production-orders?{s}"), Some(&admin), None).await.json["items"].as_array().unwrap().len() }
        };
        assert_eq!(q("production_order=PO-L0").await, 3);
        assert_eq!(q("workcenter_id=2").await, 3);
        assert_eq!(q("order_type=IN").await, 7);
        assert_eq!(q("order_type=OUT").await, 0);
        let op_id = srv.call("GET", "/api/v1/auth/me", Some(&op), None).await.json["id"].as_i64().unwrap();
        assert_eq!(srv.call("GET", &format!("/api/v1/production-orders?user_id={op_id}"), Some(&admin), None).await.json["items"].as_array().unwrap().len(), 3);
        let at = items[1]["created_at"].as_str().unwrap();
        assert_eq!(srv.call("GET", &format!("/api/v1/production-orders?from={at}"), Some(&admin), None).await.json["items"].as_array().unwrap().len(), 2);
        assert_eq!(srv.call("GET", &format!("/api/v1/production-orders?to={at}"), Some(&admin), None).await.json["items"].as_array().unwrap().len(), 5);
        for bad in ["order_type=UP", "after=garbage", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from=tuesday", "workcenter_id=x"] {
            assert_eq!(srv.call("GET", &format!("/api/v1/production-orders?{bad}"), Some(&admin), None).await.status, 422, "{bad}");
        }
        let history = srv.call("GET", "/api/v1/production-orders/history/PO-L1", Some(&admin), None).await;
        assert_eq!(history.json["movements"].as_array().unwrap().len(), 2);
        assert_eq!(history.json["wip"].as_array().unwrap().len(), 2, "PO-L1 went to both work centers");
        assert_eq!(srv.call("GET", "/api/v1/production-orders/history/NOPE", Some(&admin), None).await.status, 404);
    }

    async fn reports_in_json_and_csv(srv) {
        let admin = srv.admin_token().await;
        record(srv, &admin, "PO-A", 1, 10, "IN").await;
        record(srv, &admin, "PO-A", 1, 6, "OUT").await;
        record(srv, &admin, "PO-B", 2, 3, "IN").await;
        record(srv, &admin, "PO-B", 2, 3, "OUT").await;
        let day = today();
        let res = srv.call("GET", &format!("/api/v1/reports/production/daily?from={day}&to={day}"), Some(&admin), None).await;
        assert_eq!(res.status, 200);
        let rows: Vec<(String, String, i64)> = res.json["rows"].as_array().unwrap().iter().map(|r| (r["workcenter_code"].as_str().unwrap().into(), r["order_type"].as_str().unwrap().into(), r["quantity"].as_i64().unwrap())).collect();
        assert_eq!(rows, [("WC001".into(), "IN".into(), 10), ("WC001".into(), "OUT".into(), 6), ("WC002".into(), "IN".into(), 3), ("WC002".into(), "OUT".into(), 3)]);
        let csv = srv.client().get(srv.url(&format!("/api/v1/reports/production/daily?from={day}&to={day}&format=csv"))).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        assert_eq!(text.lines().next().unwrap(), "day,workcenter_code,order_type,movements,quantity,scrap");
        assert!(text.contains(&format!("{day},WC001,OUT,1,6,0")), "{text}");
        let csv = srv.client().get(srv.url(&format!("/api/v1/reports/production/top-orders?from={day}&to={day}"))).bearer_auth(&admin).header("accept", "text/csv").send().await.unwrap().text().await.unwrap();
        assert!(csv.starts_with("production_order,movements,in_quantity,out_quantity\nPO-A,2,10,6\nPO-B,2,3,3"), "{csv}");
        let totals = srv.call("GET", &format!("/api/v1/reports/production/work-centers?from={day}&to={day}"), Some(&admin), None).await;
        assert_eq!(totals.json[0]["workcenter_code"], "WC001");
        assert_eq!(totals.json[0]["in_quantity"], 10);
        assert_eq!(totals.json[0]["out_quantity"], 6);
        let old = srv.call("GET", "/api/v1/reports/production/daily?from=2020-01-01&to=2020-01-31", Some(&admin), None).await;
        assert_eq!(old.json["rows"], json!([]));
        for (bad, field) in [("from=2026-02-01&to=2026-01-01", "to"), ("from=2020-01-01&to=2022-01-01", "to"), ("to=2026-01-01", "from"), ("from=2026-13-01&to=2026-12-01", "from")] {
            let res = srv.call("GET", &format!("/api/v1/reports/production/daily?{bad}"), Some(&admin), None).await;
            assert_eq!(res.status, 422, "{bad}");
            assert_eq!(res.error_fields(), [field], "{bad}");
        }
    }

    async fn time_zone_setting_recounts_days(srv) {
        let admin = srv.admin_token().await;
        record(srv, &admin, "PO-TZ", 1, 4, "IN").await;
        let bad = srv.call("PUT", "/api/v1/production/settings", Some(&admin), Some(json!({"timezone": "Mars/Olympus", "allow_negative_wip": false}))).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["timezone"]);
        let manager = srv.user_token(&admin, "max", "manager").await;
        assert_eq!(srv.call("PUT", "/api/v1/production/settings", Some(&manager), Some(json!({"timezone": "UTC", "allow_negative_wip": true}))).await.status, 403);
        // Kiritimati is 14 hours ahead of UTC: the movement's local day moves.
        let res = srv.call("PUT", "/api/v1/production/settings", Some(&admin), Some(json!({"timezone": "Pacific/Kiritimati", "allow_negative_wip": false}))).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let local = (chrono::Utc::now() + chrono::Duration::hours(14)).format("%Y-%m-%d").to_string();
        let res = srv.call("GET", &format!("/api/v1/reports/production/daily?from={local}&to={local}"), Some(&admin), None).await;
        assert_eq!(res.json["timezone"], "Pacific/Kiritimati");
        assert_eq!(res.json["rows"][0]["quantity"], 4, "{:?}", res.json);
        assert_eq!(srv.call("GET", "/api/v1/production/settings", Some(&manager), None).await.json["timezone"], "Pacific/Kiritimati");
        // The production setting is the plant's time zone, and leaves its currency be.
        assert_eq!(srv.get("/api/v1/plant", &manager).await.json, json!({"currency": "USD", "timezone": "Pacific/Kiritimati"}));
    }

    async fn an_earlier_production_time_zone_becomes_the_plant_s(srv) {
        use nexus_migration::{Migrator, MigratorTrait};
        let db = srv.state.db.write();
        // Back to before the plant setting, with a time zone set the way production kept it.
        let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_string()).collect();
        let at = names.iter().position(|n| n == "m0018_plant").expect("the plant migration");
        let undo = u32::try_from(names.len() - at).unwrap();
        let back = |production: Value| async move {
            Migrator::down(db, Some(undo)).await.unwrap();
            assert!(nexus_core::settings::get::<_, Value>(db, "plant").await.unwrap().is_none());
            nexus_core::settings::set(db, "production", &production).await.unwrap();
        };
        back(json!({"timezone": "Europe/Berlin", "allow_negative_wip": true})).await;
        Migrator::up(db, None).await.unwrap();
        let plant = nexus_core::settings::get::<_, Value>(db, "plant").await.unwrap();
        assert_eq!(plant, Some(json!({"currency": "USD", "timezone": "Europe/Berlin"})));
        // A plant set already is kept; no production time zone leaves the plant unset.
        back(json!({"allow_negative_wip": false})).await;
        Migrator::up(db, None).await.unwrap();
        assert!(nexus_core::settings::get::<_, Value>(db, "plant").await.unwrap().is_none());
        Migrator::down(db, Some(undo)).await.unwrap();
        nexus_core::settings::set(db, "production", &json!({"timezone": "Asia/Tokyo", "allow_negative_wip": false})).await.unwrap();
        nexus_core::settings::set(db, "plant", &json!({"currency": "JPY", "timezone": "Asia/Seoul"})).await.unwrap();
        Migrator::up(db, None).await.unwrap();
        let plant = nexus_core::settings::get::<_, Value>(db, "plant").await.unwrap();
        assert_eq!(plant, Some(json!({"currency": "JPY", "timezone": "Asia/Seoul"})));
    }

    async fn the_plant_time_zone_counts_production_days(srv) {
        let admin = srv.admin_token().await;
        record(srv, &admin, "PO-PL", 1, 4, "IN").await;
        // Changed for the whole plant: production re-counts its days in it, and its
        // settings say so.
        let res = srv.call("PUT", "/api/v1/plant", Some(&admin), Some(json!({"currency": "EUR", "timezone": "Pacific/Kiritimati"}))).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let settings = srv.get("/api/v1/production/settings", &admin).await.json;
        assert_eq!(settings, json!({"timezone": "Pacific/Kiritimati", "allow_negative_wip": false}));
        let local = (chrono::Utc::now() + chrono::Duration::hours(14)).format("%Y-%m-%d").to_string();
        let mut report = Value::Null;
        for _ in 0..100 {
            report = srv.get(&format!("/api/v1/reports/production/daily?from={local}&to={local}"), &admin).await.json;
            if report["timezone"] == "Pacific/Kiritimati" && report["rows"][0]["quantity"] == 4 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(report["timezone"], "Pacific/Kiritimati", "{report}");
        assert_eq!(report["rows"][0]["quantity"], 4, "{report}");
        // Counted once, not once per node or per event.
        record(srv, &admin, "PO-PL", 1, 3, "IN").await;
        let report = srv.get(&format!("/api/v1/reports/production/daily?from={local}&to={local}"), &admin).await.json;
        assert_eq!(report["rows"][0]["quantity"], 7, "{report}");
        // And back through production's settings: the plant follows, the currency stays.
        let res = srv.call("PUT", "/api/v1/production/settings", Some(&admin), Some(json!({"timezone": "UTC", "allow_negative_wip": true}))).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(srv.get("/api/v1/plant", &admin).await.json, json!({"currency": "EUR", "timezone": "UTC"}));
        let report = srv.get(&format!("/api/v1/reports/production/daily?from={}&to={}", today(), today()), &admin).await.json;
        assert_eq!((report["timezone"].as_str(), report["rows"][0]["quantity"].as_i64()), (Some("UTC"), Some(7)), "{report}");
    }

    async fn csv_import_is_all_or_nothing(srv) {
        let admin = srv.admin_token().await;
        let good = "production_order,workcenter_code,quantity,order_type,scrap_quantity,shift,created_at\n\
                    PO-I1,WC001,10,IN,,A,2026-01-05T08:00:00Z\n\
                    PO-I1,wc001,4,OUT,1,A,2026-01-05T09:00:00Z\n\
                    PO-I2,WC002,3,in,,B,\n";
        let res = import(srv, &admin, good).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!(res.json["imported"], 3);
        assert_eq!(wip(srv, &admin, "PO-I1", 1).await, 6);
        let summary = srv.call("GET", "/api/v1/reports/production/daily?from=2026-01-05&to=2026-01-05", Some(&admin), None).await;
        assert_eq!(summary.json["rows"].as_array().unwrap().len(), 2);
        assert_eq!(summary.json["rows"][1]["scrap"], 1);
        let count = movement_count(srv, &admin).await;

        let bad = "production_order,workcenter_code,quantity,order_type\n\
                   PO-X,WC001,5,IN\n\
                   PO-X,WC999,5,IN\n\
                   ,WC001,0,SIDEWAYS\n\
                   PO-X,WC001,2.5,OUT\n";
        let res = import(srv, &admin, bad).await;
        assert_eq!(res.status, 422);
        let fields = res.error_fields();
        assert_eq!(fields, ["line 3: workcenter_code", "line 4: production_order", "line 4: order_type", "line 4: quantity", "line 5: quantity"], "{:?}", res.json);
        let res = import(srv, &admin, "production_order,quantity,order_type\nPO-X,5,IN\n").await;
        assert_eq!(res.status, 422);
        assert!(res.json["detail"].as_str().unwrap().contains("workcenter_code"));
        let res = import(srv, &admin, "production_order,workcenter_code,quantity,order_type\nPO-Y,WC001,5,IN\nPO-Y,WC001,6,OUT\n").await;
        assert_eq!(res.status, 422, "an OUT beyond WIP rejects the file");
        assert_eq!(res.error_fields(), ["line 3: quantity"]);
        assert_eq!(movement_count(srv, &admin).await, count, "rejected files change nothing");

        let res = srv.client().post(srv.url("/api/v1/production-orders/import")).bearer_auth(&admin).json(&json!({"rows": []})).send().await.unwrap();
        assert_eq!(res.status(), 415);
        let user = srv.user_token(&admin, "ivan", "user").await;
        assert_eq!(import(srv, &user, good).await.status, 403);
    }

    async fn movements_are_live_over_sse_and_websocket(srv) {
        use futures_util::StreamExt;
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "gus", "guest").await;
        let mut stream = srv.client().get(srv.url("/api/v1/events/stream?topics=production_order")).bearer_auth(&guest).send().await.unwrap();
        assert_eq!(stream.headers()["content-type"], "text/event-stream");
        let ws_url = format!("{}/api/v1/events?topics=production_order.created", srv.base_url.replace("http://", "ws://"));
        let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url).unwrap();
        req.headers_mut().insert("authorization", format!("Bearer {guest}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();

        // A change of another topic is filtered out; the movement arrives.
        srv.call("POST", "/api/v1/departments", Some(&admin), Some(json!({"name": "Night shift"}))).await;
        let rec = record(srv, &admin, "PO-LIVE", 1, 2, "IN").await;
        let wait = std::time::Duration::from_secs(5);
        let mut buf = String::new();
        let got = tokio::time::timeout(wait, async {
            while let Some(chunk) = stream.chunk().await.unwrap() {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                if buf.contains("PO-LIVE") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(got, Ok(true), "{buf}");
        assert!(buf.contains("event: production_order.created"));
        assert!(!buf.contains("Night shift"));
        let msg = tokio::time::timeout(wait, ws.next()).await.unwrap().unwrap().unwrap();
        let event: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        assert_eq!(event["type"], "production_order.created");
        assert_eq!(event["id"], rec.json["id"]);
        assert_eq!(event["data"]["wip"], 2);
        ws.close(None).await.unwrap();

        assert_eq!(srv.call("GET", "/api/v1/events/stream", None, None).await.status, 401);
    }

    async fn roles_decide_who_records(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "gwen", "guest").await;
        let user = srv.user_token(&admin, "ursula", "user").await;
        assert_eq!(record(srv, &guest, "PO-G", 1, 1, "IN").await.status, 403);
        assert_eq!(srv.call("GET", "/api/v1/production-orders", Some(&guest), None).await.status, 200);
        assert_eq!(record(srv, &user, "PO-U", 1, 1, "IN").await.status, 201);
        assert_eq!(srv.call("POST", "/api/v1/work-centers", Some(&user), Some(json!({"code": "X1", "name": "X"}))).await.status, 403);
        let rec = srv.call("GET", "/api/v1/production-orders?production_order=PO-U", Some(&admin), None).await;
        let me = srv.call("GET", "/api/v1/auth/me", Some(&user), None).await;
        assert_eq!(rec.json["items"][0]["user_id"], me.json["id"], "the server sets the user");
    }
}

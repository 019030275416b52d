//! Parts, stock per location and the stock ledger through real HTTP, on SQLite and on
//! PostgreSQL.

use futures_util::future::join_all;
use nexus_server::backend_tests;
use nexus_server::testing::{Resp, TestServer};
use serde_json::{Value, json};

fn skus(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sku"].as_str().unwrap().to_string())
        .collect()
}

/// (location id, quantity) of each row of a part's stock.
async fn levels(srv: &TestServer, token: &str, part: i64) -> (i64, Vec<(i64, i64)>) {
    let res = srv.get(&format!("/api/v1/parts/{part}/stock"), token).await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    let rows = res.json["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location_id"].as_i64().unwrap(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    (res.json["quantity_in_stock"].as_i64().unwrap(), rows)
}

/// Every ledger line of a part, newest first, walking the key pages.
async fn ledger(srv: &TestServer, token: &str, part: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let res = srv
            .get(
                &format!("/api/v1/stock-movements?part_id={part}&limit=7{after}"),
                token,
            )
            .await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        out.extend(res.json["items"].as_array().unwrap().iter().cloned());
        match res.json["next_after"].as_i64() {
            Some(next) => after = format!("&after={next}"),
            None => return out,
        }
    }
}

async fn send_csv(srv: &TestServer, token: &str, content_type: &str, body: &str) -> Resp {
    srv.post_body("/api/v1/parts/import", token, content_type, body)
        .await
}

backend_tests! {
    async fn parts_csv_round_trip_and_all_or_nothing(srv) {
        let admin = srv.admin_token().await;
        let kept = srv.create("/api/v1/parts", &admin, json!({"sku": "KEEP-1", "name": "Kept", "supplier": "Acme", "unit_cost_cents": 300})).await;
        let site = srv.create("/api/v1/locations", &admin, json!({"name": "Stores"})).await;
        assert_eq!(srv.post(&format!("/api/v1/parts/{kept}/receive"), &admin, json!({"location_id": site, "quantity": 4})).await.status, 201);

        // A bad file changes nothing and names every bad line and field.
        let bad = "sku,name,unit_cost_cents,reorder_point\nNEW-1,Fine part,100,2\nNEW-2,,abc,-1\nnew-1,Again,1,1\n";
        let res = send_csv(srv, &admin, "text/csv", bad).await;
        assert_eq!(res.status, 422, "{:?}", res.json);
        assert_eq!(res.error_fields(), ["line 3: unit_cost_cents", "line 3: name", "line 3: reorder_point", "line 4: sku"]);
        assert_eq!(srv.get("/api/v1/parts", &admin).await.json["total"], 1);
        assert_eq!(send_csv(srv, &admin, "text/csv", "sku,colour\nA,red\n").await.error_fields(), ["columns", "columns"]);
        assert_eq!(send_csv(srv, &admin, "text/csv", "sku,name\n").await.error_fields(), ["file"]);
        assert_eq!(send_csv(srv, &admin, "application/json", "{}").await.status, 415);
        let staff = srv.user_token(&admin, "stores", "staff").await;
        assert_eq!(send_csv(srv, &staff, "text/csv", "sku,name\nS,S\n").await.status, 403);

        // New SKUs create parts; a known one (any case) updates only the columns given.
        let good = "sku,name,category,reorder_point\nkeep-1,Kept part,seals,2\nNEW-1,\"Gasket, large\",seals,\nNEW-2,Washer,,\n";
        let res = send_csv(srv, &admin, "text/csv; charset=utf-8", good).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.json, json!({"created": 2, "updated": 1}));
        let k = srv.get(&format!("/api/v1/parts/{kept}"), &admin).await.json;
        assert_eq!((k["sku"].as_str(), k["name"].as_str(), k["supplier"].as_str()), (Some("keep-1"), Some("Kept part"), Some("Acme")));
        assert_eq!((k["unit_cost_cents"].as_i64(), k["reorder_point"].as_i64(), k["quantity_in_stock"].as_i64()), (Some(300), Some(2), Some(4)));
        assert_eq!(k["version"], 2);

        // Export, then import the export: nothing changes (stock included, and ignored).
        let export = srv.client().get(srv.url("/api/v1/parts/export")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(export.status(), 200);
        assert!(export.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let text = export.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "sku,name,description,category,unit_cost_cents,supplier,image_url,reorder_point,reorder_quantity,quantity_in_stock");
        assert_eq!(lines.len(), 4);
        assert!(lines.contains(&"NEW-1,\"Gasket, large\",,seals,0,,,,,0"), "{text}");
        assert!(lines.contains(&"keep-1,Kept part,,seals,300,Acme,,2,,4"), "{text}");
        let again = send_csv(srv, &admin, "text/csv", &text).await;
        assert_eq!(again.json, json!({"created": 0, "updated": 0}));
        let audit = srv.get(&format!("/api/v1/audit-logs?entity_type=part&entity_id={kept}"), &admin).await;
        assert_eq!(audit.json["items"].as_array().unwrap().len(), 2);
    }

    async fn parts_crud_unique_sku_and_roles(srv) {
        let admin = srv.admin_token().await;
        let res = srv.post("/api/v1/parts", &admin, json!({
            "sku": "BRG-6204", "name": "Bearing 6204", "category": "bearings",
            "unit_cost_cents": 1250, "supplier": "SKF", "reorder_point": 4, "reorder_quantity": 20,
            "image_url": "https://example.com/6204.jpg"
        })).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!(res.header("etag"), Some("\"1\""));
        assert_eq!(res.json["quantity_in_stock"], 0);
        assert_eq!(res.json["low_stock"], true);
        let bearing = res.json["id"].as_i64().unwrap();

        let dup = srv.post("/api/v1/parts", &admin, json!({"sku": " brg-6204 ", "name": "Other"})).await;
        assert_eq!(dup.status, 409);
        assert_eq!(dup.error_fields(), ["sku"]);
        let bad = srv.post("/api/v1/parts", &admin, json!({"sku": "", "name": "x", "unit_cost_cents": -1, "reorder_point": -3})).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["sku", "unit_cost_cents", "reorder_point"]);
        let unknown = srv.post("/api/v1/parts", &admin, json!({"sku": "A", "name": "A", "colour": "red"})).await;
        assert_eq!(unknown.status, 422, "{:?}", unknown.json);

        let belt = srv.create("/api/v1/parts", &admin, json!({"sku": "BLT-A42", "name": "V-belt A42", "category": "belts"})).await;
        assert_eq!(skus(&srv.get("/api/v1/parts", &admin).await.json["items"]), ["BLT-A42", "BRG-6204"]);
        assert_eq!(skus(&srv.get("/api/v1/parts?q=bearing", &admin).await.json["items"]), ["BRG-6204"]);
        assert_eq!(skus(&srv.get("/api/v1/parts?q=a42", &admin).await.json["items"]), ["BLT-A42"]);
        assert_eq!(skus(&srv.get("/api/v1/parts?category=belts", &admin).await.json["items"]), ["BLT-A42"]);
        assert_eq!(skus(&srv.get("/api/v1/parts?low_stock=true", &admin).await.json["items"]), ["BRG-6204"]);
        assert_eq!(skus(&srv.get("/api/v1/parts?low_stock=false", &admin).await.json["items"]), ["BLT-A42"]);
        assert_eq!(skus(&srv.get("/api/v1/parts?sort=-sku&limit=1", &admin).await.json["items"]), ["BRG-6204"]);
        assert_eq!(srv.get("/api/v1/parts?sort=secret", &admin).await.error_fields(), ["sort"]);

        // Renaming onto another SKU, whatever its case, is the same conflict.
        let path = format!("/api/v1/parts/{belt}");
        let clash = srv.call("PATCH", &path, Some(&admin), Some(json!({"sku": "brg-6204"}))).await;
        assert_eq!(clash.status, 409);
        assert_eq!(clash.error_fields(), ["sku"]);
        let up = srv.call("PATCH", &path, Some(&admin), Some(json!({"unit_cost_cents": 899, "category": null}))).await;
        assert_eq!(up.status, 200, "{:?}", up.json);
        assert_eq!(up.json["unit_cost_cents"], 899);
        assert_eq!(up.json["category"], Value::Null);
        assert_eq!(up.json["version"], 2);
        let stale = srv.client().patch(srv.url(&path)).bearer_auth(&admin).header("if-match", "\"1\"")
            .json(&json!({"name": "Stale"})).send().await.unwrap();
        assert_eq!(stale.status(), 412);
        assert_eq!(srv.get("/api/v1/parts/999999", &admin).await.status, 404);

        // Roles: staff move stock but do not define parts; a guest only reads.
        let staff = srv.user_token(&admin, "stores", "staff").await;
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        assert_eq!(srv.post("/api/v1/parts", &staff, json!({"sku": "S-1", "name": "S"})).await.status, 403);
        assert_eq!(srv.get("/api/v1/parts", &guest).await.json["total"], 2);
        let site = srv.create("/api/v1/locations", &admin, json!({"name": "Stores"})).await;
        let receive = json!({"location_id": site, "quantity": 3});
        assert_eq!(srv.post(&format!("/api/v1/parts/{belt}/receive"), &guest, receive.clone()).await.status, 403);
        assert_eq!(srv.post(&format!("/api/v1/parts/{belt}/receive"), &staff, receive).await.status, 201);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/parts/{bearing}"), Some(&staff), None).await.status, 403);

        // A part that moved stays for its ledger; one that never moved can go.
        assert_eq!(srv.call("DELETE", &path, Some(&admin), None).await.status, 409);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/parts/{bearing}"), Some(&admin), None).await.status, 204);
        assert_eq!(srv.get(&format!("/api/v1/parts/{bearing}"), &admin).await.status, 404);

        let audit = srv.get(&format!("/api/v1/audit-logs?entity_type=part&entity_id={belt}"), &admin).await;
        let actions: Vec<_> = audit.json["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["update", "create"]);
    }

    async fn stock_moves_only_through_the_ledger(srv) {
        let admin = srv.admin_token().await;
        let part = srv.create("/api/v1/parts", &admin, json!({"sku": "FLT-10", "name": "Oil filter", "unit_cost_cents": 700})).await;
        let a = srv.create("/api/v1/locations", &admin, json!({"name": "A stores"})).await;
        let b = srv.create("/api/v1/locations", &admin, json!({"name": "B line side"})).await;
        let p = |op: &str| format!("/api/v1/parts/{part}/{op}");

        let r = srv.post(&p("receive"), &admin, json!({"location_id": a, "quantity": 10, "unit_cost_cents": 650, "reason": "PO-7"})).await;
        assert_eq!(r.status, 201, "{:?}", r.json);
        assert_eq!((r.json["kind"].as_str(), r.json["quantity"].as_i64(), r.json["balance_after"].as_i64()), (Some("receive"), Some(10), Some(10)));
        assert_eq!(r.json["unit_cost_cents"], 650);
        let c = srv.post(&p("consume"), &admin, json!({"location_id": a, "quantity": 3})).await;
        assert_eq!(c.status, 201);
        assert_eq!((c.json["quantity"].as_i64(), c.json["balance_after"].as_i64(), c.json["unit_cost_cents"].as_i64()), (Some(-3), Some(7), Some(700)));

        // Bad input changes nothing.
        let no_reason = srv.post(&p("adjust"), &admin, json!({"location_id": a, "quantity": -2, "reason": "  "})).await;
        assert_eq!(no_reason.status, 422);
        assert_eq!(no_reason.error_fields(), ["reason"]);
        assert_eq!(srv.post(&p("adjust"), &admin, json!({"location_id": a, "quantity": 0, "reason": "x"})).await.error_fields(), ["quantity"]);
        assert_eq!(srv.post(&p("receive"), &admin, json!({"location_id": a, "quantity": 0})).await.error_fields(), ["quantity"]);
        assert_eq!(srv.post(&p("consume"), &admin, json!({"location_id": a, "quantity": -1})).await.error_fields(), ["quantity"]);
        assert_eq!(srv.post(&p("receive"), &admin, json!({"location_id": 999999, "quantity": 1})).await.error_fields(), ["location_id"]);
        assert_eq!(srv.post("/api/v1/parts/999999/receive", &admin, json!({"location_id": a, "quantity": 1})).await.status, 404);
        let greedy = srv.post(&p("consume"), &admin, json!({"location_id": a, "quantity": 8})).await;
        assert_eq!(greedy.status, 409);
        assert_eq!(greedy.error_fields(), ["quantity"]);
        assert!(greedy.json["errors"][0]["message"].as_str().unwrap().contains("only 7"));
        assert_eq!(srv.post(&p("consume"), &admin, json!({"location_id": b, "quantity": 1})).await.status, 409);
        let too_low = srv.post(&p("adjust"), &admin, json!({"location_id": a, "quantity": -8, "reason": "count"})).await;
        assert_eq!(too_low.status, 409);
        assert_eq!(too_low.error_fields(), ["quantity"]);
        assert_eq!(levels(srv, &admin, part).await, (7, vec![(a, 7)]));

        let adj = srv.post(&p("adjust"), &admin, json!({"location_id": a, "quantity": -1, "reason": "cycle count"})).await;
        assert_eq!(adj.status, 201);
        assert_eq!(adj.json["reason"], "cycle count");

        // A transfer is two lines sharing one id, or nothing at all.
        let t = srv.post(&p("transfer"), &admin, json!({"from_location_id": a, "to_location_id": b, "quantity": 4})).await;
        assert_eq!(t.status, 201, "{:?}", t.json);
        let legs = t.json.as_array().unwrap();
        assert_eq!((legs[0]["kind"].as_str(), legs[0]["quantity"].as_i64(), legs[0]["balance_after"].as_i64()), (Some("transfer_out"), Some(-4), Some(2)));
        assert_eq!((legs[1]["kind"].as_str(), legs[1]["quantity"].as_i64(), legs[1]["balance_after"].as_i64()), (Some("transfer_in"), Some(4), Some(4)));
        assert_eq!(legs[0]["transfer_id"], legs[0]["id"]);
        assert_eq!(legs[1]["transfer_id"], legs[0]["id"]);
        let short = srv.post(&p("transfer"), &admin, json!({"from_location_id": a, "to_location_id": b, "quantity": 3})).await;
        assert_eq!(short.status, 409);
        assert_eq!(short.error_fields(), ["quantity"]);
        assert_eq!(srv.post(&p("transfer"), &admin, json!({"from_location_id": a, "to_location_id": a, "quantity": 1})).await.error_fields(), ["to_location_id"]);
        assert_eq!(srv.post(&p("transfer"), &admin, json!({"from_location_id": a, "to_location_id": 999999, "quantity": 1})).await.error_fields(), ["to_location_id"]);
        assert_eq!(levels(srv, &admin, part).await, (6, vec![(a, 2), (b, 4)]));

        // The ledger: newest first, paged by key, and it adds up to the stock.
        let lines = ledger(srv, &admin, part).await;
        let kinds: Vec<_> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["transfer_in", "transfer_out", "adjust", "consume", "receive"]);
        assert_eq!(lines.iter().map(|l| l["quantity"].as_i64().unwrap()).sum::<i64>(), 6);
        assert!(lines.iter().all(|l| l["actor_id"].as_i64().is_some()));
        let page = srv.get(&format!("/api/v1/stock-movements?part_id={part}&limit=2"), &admin).await;
        assert_eq!(page.json["items"].as_array().unwrap().len(), 2);
        let next = page.json["next_after"].as_i64().unwrap();
        let rest = srv.get(&format!("/api/v1/stock-movements?part_id={part}&after={next}"), &admin).await;
        assert_eq!(rest.json["items"].as_array().unwrap().len(), 3);
        assert_eq!(rest.json["next_after"], Value::Null);
        let at_b = srv.get(&format!("/api/v1/stock-movements?location_id={b}"), &admin).await;
        assert_eq!(at_b.json["items"].as_array().unwrap().len(), 1);
        assert_eq!(srv.get("/api/v1/stock-movements?kind=consume", &admin).await.json["items"].as_array().unwrap().len(), 1);
        assert_eq!(srv.get("/api/v1/stock-movements?kind=theft", &admin).await.error_fields(), ["kind"]);
        let audit = srv.get("/api/v1/audit-logs?entity_type=stock_movement", &admin).await;
        assert_eq!(audit.json["items"].as_array().unwrap().len(), 5);
    }

    async fn low_stock_is_published_once_per_crossing(srv) {
        let admin = srv.admin_token().await;
        let part = srv.create("/api/v1/parts", &admin, json!({"sku": "SEAL-1", "name": "Seal", "reorder_point": 5, "reorder_quantity": 25})).await;
        let a = srv.create("/api/v1/locations", &admin, json!({"name": "A"})).await;
        let b = srv.create("/api/v1/locations", &admin, json!({"name": "B"})).await;
        let mut events = srv.state.events.subscribe();
        let p = |op: &str| format!("/api/v1/parts/{part}/{op}");
        let mv = |loc: i64, q: i64| json!({"location_id": loc, "quantity": q});
        assert_eq!(srv.post(&p("receive"), &admin, mv(a, 8)).await.status, 201);
        assert_eq!(srv.post(&p("receive"), &admin, mv(b, 2)).await.status, 201);
        assert_eq!(srv.post(&p("consume"), &admin, mv(a, 4)).await.status, 201); // 10 -> 6
        let t = json!({"from_location_id": a, "to_location_id": b, "quantity": 4});
        assert_eq!(srv.post(&p("transfer"), &admin, t).await.status, 201); // total unchanged
        assert_eq!(srv.post(&p("consume"), &admin, mv(b, 1)).await.status, 201); // 6 -> 5: crossing
        assert_eq!(srv.post(&p("consume"), &admin, mv(b, 1)).await.status, 201); // 5 -> 4: still low
        assert_eq!(srv.post(&p("receive"), &admin, mv(a, 10)).await.status, 201); // 14
        assert_eq!(srv.post(&p("adjust"), &admin, json!({"location_id": a, "quantity": -10, "reason": "damaged"})).await.status, 201); // 14 -> 4: crossing

        let mut low = Vec::new();
        let mut moved = 0;
        while let Ok(e) = events.try_recv() {
            match e.kind.as_str() {
                "part.low_stock" => low.push(e.data.clone()),
                "stock_movement.created" => moved += 1,
                _ => {}
            }
        }
        assert_eq!(moved, 9);
        assert_eq!(low.len(), 2, "{low:?}");
        assert_eq!((low[0]["quantity_in_stock"].as_i64(), low[0]["location_id"].as_i64()), (Some(5), Some(b)));
        assert_eq!((low[1]["quantity_in_stock"].as_i64(), low[1]["reorder_point"].as_i64(), low[1]["reorder_quantity"].as_i64()), (Some(4), Some(5), Some(25)));
        let listed = srv.get("/api/v1/parts?low_stock=true", &admin).await;
        assert_eq!(skus(&listed.json["items"]), ["SEAL-1"]);
    }

    async fn concurrent_consumption_never_goes_negative(srv) {
        let admin = srv.admin_token().await;
        let part = srv.create("/api/v1/parts", &admin, json!({"sku": "LAST-10", "name": "Scarce", "unit_cost_cents": 100, "reorder_point": 2})).await;
        let site = srv.create("/api/v1/locations", &admin, json!({"name": "Stores"})).await;
        let path = format!("/api/v1/parts/{part}/consume");
        assert_eq!(srv.post(&format!("/api/v1/parts/{part}/receive"), &admin, json!({"location_id": site, "quantity": 10})).await.status, 201);
        let mut events = srv.state.events.subscribe();

        let answers = join_all((0..100).map(|_| srv.post(&path, &admin, json!({"location_id": site, "quantity": 1})))).await;
        let ok = answers.iter().filter(|r| r.status == 201).count();
        let short: Vec<_> = answers.iter().filter(|r| r.status == 409).collect();
        assert_eq!(ok, 10, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
        assert_eq!(short.len(), 90);
        assert!(short.iter().all(|r| r.error_fields() == ["quantity"]));

        assert_eq!(levels(srv, &admin, part).await, (0, vec![(site, 0)]));
        let lines = ledger(srv, &admin, part).await;
        assert_eq!(lines.len(), 11);
        assert_eq!(lines.iter().map(|l| l["quantity"].as_i64().unwrap()).sum::<i64>(), 0);
        let mut balances: Vec<i64> = lines.iter().filter(|l| l["kind"] == "consume").map(|l| l["balance_after"].as_i64().unwrap()).collect();
        balances.sort();
        assert_eq!(balances, (0..10).collect::<Vec<_>>());
        let mut low = 0;
        while let Ok(e) = events.try_recv() {
            low += usize::from(e.kind == "part.low_stock");
        }
        assert_eq!(low, 1);
    }
}

backend_tests! {
    async fn parts_used_on_work_orders(srv) {
        let admin = srv.admin_token().await;
        let site = srv.create("/api/v1/locations", &admin, json!({"name": "Plant"})).await;
        let pump = srv.create("/api/v1/assets", &admin, json!({"name": "Pump", "location_id": site})).await;
        let wo = srv.create("/api/v1/work-orders", &admin, json!({"title": "Replace seal", "asset_id": pump})).await;
        let seal = srv.create("/api/v1/parts", &admin, json!({"sku": "SEAL-9", "name": "Seal kit", "unit_cost_cents": 2500})).await;
        let oil = srv.create("/api/v1/parts", &admin, json!({"sku": "OIL-1", "name": "Oil, litre", "unit_cost_cents": 450})).await;
        for (part, n) in [(seal, 3), (oil, 10)] {
            assert_eq!(srv.post(&format!("/api/v1/parts/{part}/receive"), &admin, json!({"location_id": site, "quantity": n})).await.status, 201);
        }
        let path = format!("/api/v1/work-orders/{wo}/parts");

        let used = srv.post(&path, &admin, json!({"part_id": oil, "location_id": site, "quantity": 4})).await;
        assert_eq!(used.status, 201, "{:?}", used.json);
        assert_eq!((used.json["quantity"].as_i64(), used.json["unit_cost_cents"].as_i64(), used.json["cost_cents"].as_i64()), (Some(4), Some(450), Some(1800)));
        assert_eq!(used.json["sku"], "OIL-1");
        // Ten technicians reach for the last three seal kits at once.
        let one = json!({"part_id": seal, "location_id": site, "quantity": 1});
        let answers = join_all((0..10).map(|_| srv.post(&path, &admin, one.clone()))).await;
        assert_eq!(answers.iter().filter(|r| r.status == 201).count(), 3);
        assert!(answers.iter().filter(|r| r.status != 201).all(|r| r.status == 409 && r.error_fields() == ["quantity"]));

        // The cost is the one at the time of use.
        let p = srv.call("PATCH", &format!("/api/v1/parts/{oil}"), Some(&admin), Some(json!({"unit_cost_cents": 500}))).await;
        assert_eq!(p.status, 200);
        assert_eq!(srv.post(&path, &admin, json!({"part_id": oil, "location_id": site, "quantity": 1})).await.status, 201);
        let list = srv.get(&path, &admin).await;
        assert_eq!(list.status, 200);
        let items = list.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(items.iter().map(|i| i["cost_cents"].as_i64().unwrap()).collect::<Vec<_>>(), [1800, 2500, 2500, 2500, 500]);
        assert_eq!(list.json["total_cost_cents"], 1800 + 3 * 2500 + 500);
        assert_eq!(srv.get(&format!("/api/v1/stock-movements?work_order_id={wo}"), &admin).await.json["items"].as_array().unwrap().len(), 5);
        assert_eq!(levels(srv, &admin, oil).await, (5, vec![(site, 5)]));

        // Bad input, missing rights and closed orders change nothing.
        assert_eq!(srv.post(&path, &admin, json!({"part_id": 999999, "location_id": site, "quantity": 1})).await.error_fields(), ["part_id"]);
        assert_eq!(srv.post(&path, &admin, json!({"part_id": oil, "location_id": 999999, "quantity": 1})).await.error_fields(), ["location_id"]);
        assert_eq!(srv.post(&path, &admin, json!({"part_id": oil, "location_id": site, "quantity": 0})).await.error_fields(), ["quantity"]);
        assert_eq!(srv.post("/api/v1/work-orders/999999/parts", &admin, json!({"part_id": oil, "location_id": site, "quantity": 1})).await.status, 404);
        assert_eq!(srv.get("/api/v1/work-orders/999999/parts", &admin).await.status, 404);
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        assert_eq!(srv.post(&path, &guest, json!({"part_id": oil, "location_id": site, "quantity": 1})).await.status, 403);
        assert_eq!(srv.get(&path, &guest).await.json["items"].as_array().unwrap().len(), 5);
        assert_eq!(srv.post(&format!("/api/v1/work-orders/{wo}/status"), &admin, json!({"status": "completed"})).await.status, 200);
        let closed = srv.post(&path, &admin, json!({"part_id": oil, "location_id": site, "quantity": 1})).await;
        assert_eq!(closed.status, 409);
        assert_eq!(closed.error_fields(), ["status"]);
        assert_eq!(levels(srv, &admin, oil).await, (5, vec![(site, 5)]));
    }
}

//! Locations, asset types and assets through real HTTP, on SQLite and on PostgreSQL.

use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
use serde_json::{Value, json};

fn names(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

backend_tests! {
    async fn asset_crud_and_filters(srv) {
        let admin = srv.admin_token().await;
        let pump = srv.create("/api/v1/asset-types", &admin, json!({"name": "Pump", "icon": "pump"})).await;
        let dup = srv.post("/api/v1/asset-types", &admin, json!({"name": "PUMP"})).await;
        assert_eq!(dup.status, 409);
        assert_eq!(dup.error_fields(), ["name"]);
        let site = srv.create("/api/v1/locations", &admin, json!({"name": "Plant 1", "city": "Lyon", "latitude": 45.75, "longitude": 4.85})).await;

        let res = srv.post("/api/v1/assets", &admin, json!({
            "name": "Cooling pump", "asset_type_id": pump, "location_id": site, "health_score": 87,
            "manufacturer": "Grundfos", "model": "CR 5", "serial_number": "SN-ABC-1",
            "installation_date": "2024-03-01", "purchase_cost_cents": 1234567, "expected_lifetime": 120,
            "warranty_expiry_date": "2027-03-01", "next_maintenance_date": "2026-12-01",
            "image_url": "https://example.com/pump.jpg", "tag": "CP-0001"
        })).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!(res.header("etag"), Some("\"1\""));
        let a = &res.json;
        assert_eq!(a["status"], "operational");
        assert_eq!(a["purchase_cost_cents"], 1234567);
        assert_eq!(a["installation_date"], "2024-03-01");
        assert!(a["qr_code"].as_str().unwrap().len() >= 16);
        let pump_id = a["id"].as_i64().unwrap();
        let other = srv.create("/api/v1/assets", &admin, json!({"name": "Air compressor", "status": "down", "serial_number": "X-9"})).await;
        let b = srv.get(&format!("/api/v1/assets/{other}"), &admin).await;
        assert_ne!(b.json["qr_code"], a["qr_code"]);

        let all = srv.get("/api/v1/assets", &admin).await;
        assert_eq!(all.json["total"], 2);
        assert_eq!(names(&all.json["items"]), ["Air compressor", "Cooling pump"]);
        let by_serial = srv.get("/api/v1/assets?q=sn-abc", &admin).await;
        assert_eq!(names(&by_serial.json["items"]), ["Cooling pump"]);
        let by_name = srv.get("/api/v1/assets?q=COMPRESS", &admin).await;
        assert_eq!(names(&by_name.json["items"]), ["Air compressor"]);
        assert_eq!(srv.get("/api/v1/assets?q=%25", &admin).await.json["total"], 0);
        assert_eq!(names(&srv.get("/api/v1/assets?q=n-a", &admin).await.json["items"]), ["Cooling pump"]);
        assert_eq!(names(&srv.get("/api/v1/assets?status=down", &admin).await.json["items"]), ["Air compressor"]);
        assert_eq!(names(&srv.get(&format!("/api/v1/assets?asset_type_id={pump}"), &admin).await.json["items"]), ["Cooling pump"]);
        assert_eq!(names(&srv.get(&format!("/api/v1/assets?location_id={site}"), &admin).await.json["items"]), ["Cooling pump"]);
        assert_eq!(names(&srv.get("/api/v1/assets?sort=-name&limit=1", &admin).await.json["items"]), ["Cooling pump"]);
        assert_eq!(names(&srv.get("/api/v1/assets?q=cp-00", &admin).await.json["items"]), ["Cooling pump"]);
        // A tag belongs to one asset, whatever its case; refused tags change nothing.
        let taken = srv.post("/api/v1/assets", &admin, json!({"name": "Second pump", "tag": "cp-0001"})).await;
        assert_eq!(taken.status, 409, "{:?}", taken.json);
        assert_eq!(taken.error_fields(), ["tag"]);
        let retag = srv.patch(&format!("/api/v1/assets/{other}"), &admin, json!({"tag": "CP-0001"})).await;
        assert_eq!(retag.status, 409);
        assert_eq!(retag.error_fields(), ["tag"]);
        assert_eq!(srv.get(&format!("/api/v1/assets/{other}"), &admin).await.json["tag"], Value::Null);
        assert_eq!(srv.get("/api/v1/assets", &admin).await.json["total"], 2);
        assert_eq!(srv.post("/api/v1/assets", &admin, json!({"name": "Long", "tag": "x".repeat(51)})).await.error_fields(), ["tag"]);
        assert_eq!(srv.get("/api/v1/assets?status=broken", &admin).await.error_fields(), ["status"]);
        assert_eq!(srv.get("/api/v1/assets?sort=secret", &admin).await.error_fields(), ["sort"]);

        let up = srv.patch(&format!("/api/v1/assets/{pump_id}"), &admin, json!({"status": "maintenance", "health_score": 40, "manufacturer": null})).await;
        assert_eq!(up.status, 200, "{:?}", up.json);
        assert_eq!(up.json["status"], "maintenance");
        assert_eq!(up.json["health_score"], 40);
        assert_eq!(up.json["manufacturer"], Value::Null);
        assert_eq!(up.json["model"], "CR 5");
        assert_eq!(up.json["version"], 2);
        assert_eq!(srv.get("/api/v1/assets/999999", &admin).await.status, 404);

        let t = srv.patch(&format!("/api/v1/asset-types/{pump}"), &admin, json!({"description": "Centrifugal"})).await;
        assert_eq!(t.status, 200);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/asset-types/{pump}"), Some(&admin), None).await.status, 409);
        let spare = srv.create("/api/v1/asset-types", &admin, json!({"name": "Spare"})).await;
        assert_eq!(srv.call("DELETE", &format!("/api/v1/asset-types/{spare}"), Some(&admin), None).await.status, 204);
        assert_eq!(srv.get("/api/v1/asset-types", &admin).await.json["items"].as_array().unwrap().len(), 1);

        let audit = srv.get(&format!("/api/v1/audit-logs?entity_type=asset&entity_id={pump_id}"), &admin).await;
        let actions: Vec<_> = audit.json["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["update", "create"]);
    }

    async fn asset_tree_moves_refuse_cycles(srv) {
        let admin = srv.admin_token().await;
        let a = srv.create("/api/v1/assets", &admin, json!({"name": "A"})).await;
        let b = srv.create("/api/v1/assets", &admin, json!({"name": "B", "parent_asset_id": a})).await;
        let c = srv.create("/api/v1/assets", &admin, json!({"name": "C", "parent_asset_id": b})).await;
        let d = srv.create("/api/v1/assets", &admin, json!({"name": "D"})).await;

        let tree = srv.get(&format!("/api/v1/assets/{a}/subtree"), &admin).await;
        let got: Vec<(String, i64)> = tree.json["items"].as_array().unwrap().iter().map(|n| (n["name"].as_str().unwrap().to_string(), n["depth"].as_i64().unwrap())).collect();
        assert_eq!(got, [("A".to_string(), 0), ("B".to_string(), 1), ("C".to_string(), 2)]);

        for target in [c, a] {
            let res = srv.patch(&format!("/api/v1/assets/{a}"), &admin, json!({"parent_asset_id": target, "name": "A2"})).await;
            assert_eq!(res.status, 422);
            assert_eq!(res.error_fields(), ["parent_asset_id"]);
            assert!(res.json["errors"][0]["message"].as_str().unwrap().contains("cannot be inside itself"));
        }
        let unchanged = srv.get(&format!("/api/v1/assets/{a}"), &admin).await;
        assert_eq!(unchanged.json["name"], "A");
        assert_eq!(unchanged.json["parent_asset_id"], Value::Null);
        assert_eq!(unchanged.json["version"], 1);

        // Moving B (with C) under D.
        let moved = srv.patch(&format!("/api/v1/assets/{b}"), &admin, json!({"parent_asset_id": d})).await;
        assert_eq!(moved.status, 200);
        let tree = srv.get(&format!("/api/v1/assets/{d}/subtree"), &admin).await;
        assert_eq!(names(&tree.json["items"]), ["D", "B", "C"]);
        assert_eq!(tree.json["items"][2]["depth"], 2);
        assert_eq!(names(&srv.get(&format!("/api/v1/assets/{a}/subtree"), &admin).await.json["items"]), ["A"]);
        assert_eq!(names(&srv.get(&format!("/api/v1/assets?parent_asset_id={b}"), &admin).await.json["items"]), ["C"]);
        assert_eq!(srv.get("/api/v1/assets/999999/subtree", &admin).await.status, 404);
    }

    async fn bad_asset_input_changes_nothing(srv) {
        let admin = srv.admin_token().await;
        let cases = [
            (json!({"name": "X", "health_score": 101}), "health_score"),
            (json!({"name": "X", "health_score": -1}), "health_score"),
            (json!({"name": "X", "location_id": 999999}), "location_id"),
            (json!({"name": "X", "asset_type_id": 999999}), "asset_type_id"),
            (json!({"name": "X", "parent_asset_id": 999999}), "parent_asset_id"),
            (json!({"name": "X", "status": "melted"}), "status"),
            (json!({"name": "X", "purchase_cost_cents": -5}), "purchase_cost_cents"),
            (json!({"name": "X", "expected_lifetime": -1}), "expected_lifetime"),
            (json!({"name": "  "}), "name"),
        ];
        for (body, field) in cases {
            let res = srv.post("/api/v1/assets", &admin, body.clone()).await;
            assert_eq!(res.status, 422, "{body}: {:?}", res.json);
            assert_eq!(res.error_fields(), [field], "{body}");
        }
        let bad_date = srv.post("/api/v1/assets", &admin, json!({"name": "X", "installation_date": "2024-02-30"})).await;
        assert!(bad_date.status == 400 || bad_date.status == 422, "{:?}", bad_date.json);
        assert_eq!(srv.get("/api/v1/assets", &admin).await.json["total"], 0);

        let id = srv.create("/api/v1/assets", &admin, json!({"name": "Lathe", "health_score": 50})).await;
        for (body, field) in [
            (json!({"health_score": 200}), "health_score"),
            (json!({"location_id": 999999}), "location_id"),
            (json!({"asset_type_id": 999999}), "asset_type_id"),
        ] {
            let res = srv.patch(&format!("/api/v1/assets/{id}"), &admin, body.clone()).await;
            assert_eq!(res.status, 422, "{body}");
            assert_eq!(res.error_fields(), [field]);
        }
        let same = srv.get(&format!("/api/v1/assets/{id}"), &admin).await;
        assert_eq!(same.json["health_score"], 50);
        assert_eq!(same.json["version"], 1);

        let loc = srv.post("/api/v1/locations", &admin, json!({"name": "Far", "latitude": 91.0, "longitude": -181.0})).await;
        assert_eq!(loc.status, 422);
        assert_eq!(loc.error_fields(), ["latitude", "longitude"]);
        let loc = srv.post("/api/v1/locations", &admin, json!({"name": "Orphan", "parent_id": 999999})).await;
        assert_eq!(loc.error_fields(), ["parent_id"]);
        assert_eq!(srv.get("/api/v1/locations", &admin).await.json["total"], 0);
    }

    async fn stale_if_match_is_refused(srv) {
        let admin = srv.admin_token().await;
        let id = srv.create("/api/v1/assets", &admin, json!({"name": "Press"})).await;
        let path = srv.url(&format!("/api/v1/assets/{id}"));
        let ok = srv.client().patch(&path).bearer_auth(&admin).header("if-match", "\"1\"").json(&json!({"name": "Press 1"})).send().await.unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.headers()["etag"], "\"2\"");
        let stale = srv.client().patch(&path).bearer_auth(&admin).header("if-match", "\"1\"").json(&json!({"name": "Press 2"})).send().await.unwrap();
        assert_eq!(stale.status(), 412);
        assert_eq!(srv.get(&format!("/api/v1/assets/{id}"), &admin).await.json["name"], "Press 1");

        let loc = srv.create("/api/v1/locations", &admin, json!({"name": "Hall"})).await;
        let del = srv.client().delete(srv.url(&format!("/api/v1/locations/{loc}"))).bearer_auth(&admin).header("if-match", "\"7\"").send().await.unwrap();
        assert_eq!(del.status(), 412);
        assert_eq!(srv.get(&format!("/api/v1/locations/{loc}"), &admin).await.status, 200);
    }

    async fn location_tree_and_its_assets(srv) {
        let admin = srv.admin_token().await;
        let site = srv.create("/api/v1/locations", &admin, json!({"name": "Site", "country": "FR"})).await;
        let building = srv.create("/api/v1/locations", &admin, json!({"name": "Building 1", "parent_id": site})).await;
        let area = srv.create("/api/v1/locations", &admin, json!({"name": "Area A", "parent_id": building})).await;
        let other = srv.create("/api/v1/locations", &admin, json!({"name": "Other site"})).await;
        srv.create("/api/v1/assets", &admin, json!({"name": "Site gate", "location_id": site})).await;
        srv.create("/api/v1/assets", &admin, json!({"name": "Boiler", "location_id": building})).await;
        srv.create("/api/v1/assets", &admin, json!({"name": "Conveyor", "location_id": area})).await;
        srv.create("/api/v1/assets", &admin, json!({"name": "Elsewhere", "location_id": other})).await;

        let direct = srv.get(&format!("/api/v1/locations/{site}/assets"), &admin).await;
        assert_eq!(names(&direct.json["items"]), ["Site gate"]);
        let all = srv.get(&format!("/api/v1/locations/{site}/assets?include_descendants=true"), &admin).await;
        assert_eq!(all.json["total"], 3);
        assert_eq!(names(&all.json["items"]), ["Boiler", "Conveyor", "Site gate"]);
        let below = srv.get(&format!("/api/v1/locations/{building}/assets?include_descendants=true"), &admin).await;
        assert_eq!(names(&below.json["items"]), ["Boiler", "Conveyor"]);
        assert_eq!(srv.get("/api/v1/locations/999999/assets", &admin).await.status, 404);

        let cycle = srv.patch(&format!("/api/v1/locations/{site}"), &admin, json!({"parent_id": area})).await;
        assert_eq!(cycle.status, 422);
        assert_eq!(cycle.error_fields(), ["parent_id"]);
        let renamed = srv.patch(&format!("/api/v1/locations/{area}"), &admin, json!({"name": "Area B", "latitude": -33.9, "longitude": 151.2})).await;
        assert_eq!(renamed.status, 200);
        assert_eq!(renamed.json["latitude"], -33.9);
        assert_eq!(renamed.json["parent_id"], building);

        // In use: children or assets.
        assert_eq!(srv.call("DELETE", &format!("/api/v1/locations/{site}"), Some(&admin), None).await.status, 409);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/locations/{other}"), Some(&admin), None).await.status, 409);
        let empty = srv.create("/api/v1/locations", &admin, json!({"name": "Empty", "parent_id": site})).await;
        assert_eq!(srv.call("DELETE", &format!("/api/v1/locations/{empty}"), Some(&admin), None).await.status, 204);
        assert_eq!(srv.get(&format!("/api/v1/locations/{empty}"), &admin).await.status, 404);
        let all = srv.get("/api/v1/locations", &admin).await.json;
        assert_eq!((all["total"].as_u64(), all["items"].as_array().unwrap().len()), (Some(4), 4));
        // Paged and sorted like every list; an unknown sort key is refused on `sort`.
        let page = srv.get("/api/v1/locations?limit=2&offset=1&sort=-name", &admin).await.json;
        assert_eq!((page["total"].as_u64(), page["limit"].as_u64(), page["offset"].as_u64()), (Some(4), Some(2), Some(1)));
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        assert_eq!(srv.get("/api/v1/locations?sort=secret", &admin).await.error_fields(), ["sort"]);
    }

    async fn roles_decide_who_writes(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "gina", "guest").await;
        let staff = srv.user_token(&admin, "sam", "staff").await;
        let loc = srv.create("/api/v1/locations", &admin, json!({"name": "Hall"})).await;
        let asset = srv.create("/api/v1/assets", &admin, json!({"name": "Drill"})).await;

        assert_eq!(srv.post("/api/v1/assets", &guest, json!({"name": "G"})).await.status, 403);
        assert_eq!(srv.patch(&format!("/api/v1/assets/{asset}"), &guest, json!({"name": "G"})).await.status, 403);
        assert_eq!(srv.post("/api/v1/asset-types", &guest, json!({"name": "G"})).await.status, 403);
        assert_eq!(srv.post("/api/v1/locations", &guest, json!({"name": "G"})).await.status, 403);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/locations/{loc}"), Some(&guest), None).await.status, 403);
        assert_eq!(srv.get("/api/v1/assets", &guest).await.status, 200);
        assert_eq!(srv.get("/api/v1/locations", &guest).await.status, 200);

        // Staff maintain assets but not locations.
        assert_eq!(srv.post("/api/v1/assets", &staff, json!({"name": "S"})).await.status, 201);
        assert_eq!(srv.post("/api/v1/locations", &staff, json!({"name": "S"})).await.status, 403);
        assert_eq!(srv.get(&format!("/api/v1/assets/{asset}"), &admin).await.json["name"], "Drill");
        assert_eq!(srv.call("GET", "/api/v1/assets", None, None).await.status, 401);
    }
}

/// How many rows a list endpoint has.
async fn count(srv: &TestServer, token: &str, path: &str) -> usize {
    srv.get(path, token).await.json["items"]
        .as_array()
        .unwrap()
        .len()
}

backend_tests! {
    async fn csv_export_round_trips_and_import_updates(srv) {
        let admin = srv.admin_token().await;
        // Children before their parents, in any order: the import sorts by depth.
        let locs = "path,city,latitude\n\
                    Plant 1 / Hall A / Bay 3,,\n\
                    Plant 1,Lyon,45.75\n\
                    Plant 1 / Hall A,,\n";
        let res = srv.post_csv("/api/v1/locations/import", &admin, locs).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.json, json!({"created": 3, "updated": 0}));
        srv.create("/api/v1/asset-types", &admin, json!({"name": "Pump"})).await;

        let assets = "qr_code,name,asset_type,location,parent_qr_code,health_score,installation_date,purchase_cost_cents\n\
                      seal-1,Seal,,Plant 1 / Hall A / Bay 3,pump-1,90,,\n\
                      pump-1,Cooling pump,pump,plant 1/hall a,,75,2024-03-01,125000\n";
        let res = srv.post_csv("/api/v1/assets/import", &admin, assets).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.json, json!({"created": 2, "updated": 0}));
        let list = srv.get("/api/v1/assets?q=pump", &admin).await;
        let pump = &list.json["items"][0];
        assert_eq!(pump["qr_code"], "pump-1");
        assert_eq!(pump["purchase_cost_cents"], 125000);
        let sub = srv.get(&format!("/api/v1/assets/{}/subtree", pump["id"]), &admin).await;
        assert_eq!(sub.json["items"].as_array().unwrap().len(), 2, "{:?}", sub.json);

        // Export, then import the export unchanged: nothing to do.
        let (status, locs_csv) = srv.page("/api/v1/locations/export", &admin).await;
        assert_eq!(status, 200);
        assert!(locs_csv.starts_with("path,description,address,city"), "{locs_csv}");
        assert!(locs_csv.contains("Plant 1 / Hall A / Bay 3,"), "{locs_csv}");
        let (_, assets_csv) = srv.page("/api/v1/assets/export", &admin).await;
        assert!(assets_csv.contains("seal-1,Seal,,,operational,90,Plant 1 / Hall A / Bay 3,pump-1"), "{assets_csv}");
        let again = srv.post_csv("/api/v1/locations/import", &admin, &locs_csv).await;
        assert_eq!(again.json, json!({"created": 0, "updated": 0}));
        let again = srv.post_csv("/api/v1/assets/import", &admin, &assets_csv).await;
        assert_eq!(again.json, json!({"created": 0, "updated": 0}));

        // An edited export updates just the edited row, audited.
        let edited = assets_csv.replace("Cooling pump,,Pump", "Main pump,,Pump");
        let res = srv.post_csv("/api/v1/assets/import", &admin, &edited).await;
        assert_eq!(res.json, json!({"created": 0, "updated": 1}));
        let p = srv.get(&format!("/api/v1/assets/{}", pump["id"]), &admin).await;
        assert_eq!(p.json["name"], "Main pump");
        assert_eq!(p.json["version"], 2);

        // A status set by a file opens and closes downtime as the API does.
        let res = srv.post_csv("/api/v1/assets/import", &admin, "qr_code,name,status\ndown-1,Broken press,down\n").await;
        assert_eq!(res.json, json!({"created": 1, "updated": 0}));
        let press = srv.get("/api/v1/assets?q=broken", &admin).await.json["items"][0]["id"].as_i64().unwrap();
        let path = format!("/api/v1/assets/{press}/downtime");
        let spans = srv.get(&path, &admin).await.json;
        assert_eq!(spans["items"].as_array().unwrap().len(), 1, "{spans:?}");
        assert_eq!(spans["items"][0]["ended_at"], Value::Null);
        let res = srv.post_csv("/api/v1/assets/import", &admin, "qr_code,name,status\ndown-1,Broken press,operational\n").await;
        assert_eq!(res.json, json!({"created": 0, "updated": 1}));
        let spans = srv.get(&path, &admin).await.json;
        assert_eq!(spans["total"], 1);
        assert_ne!(spans["items"][0]["ended_at"], Value::Null, "{spans:?}");
    }

    async fn a_bad_csv_row_rejects_the_whole_file(srv) {
        let admin = srv.admin_token().await;
        srv.create("/api/v1/locations", &admin, json!({"name": "Plant"})).await;
        let a = srv.create("/api/v1/assets", &admin, json!({"name": "Press"})).await;
        let press = srv.get(&format!("/api/v1/assets/{a}"), &admin).await.json["qr_code"].as_str().unwrap().to_string();

        let bad = format!("qr_code,name,asset_type,location,parent_qr_code,health_score,installation_date\n\
                   ok-1,Fine,,Plant,,50,\n\
                   ok-2,Too healthy,,,,150,\n\
                   ok-3,No type,Robot,Nowhere,,,\n\
                   ok-4,Orphan,,,ghost,,2024-13-01\n\
                   {press},Press,,,ok-5,,\n\
                   ok-5,Loop,,,{press},,\n\
                   ok-1,Twice,,,,,\n");
        let res = srv.post_csv("/api/v1/assets/import", &admin, &bad).await;
        assert_eq!(res.status, 422, "{:?}", res.json);
        let fields = res.error_fields();
        for f in ["line 3: health_score", "line 4: asset_type", "line 4: location", "line 5: parent_qr_code",
                  "line 5: installation_date", "line 6: parent_qr_code", "line 7: parent_qr_code", "line 8: qr_code"] {
            assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
        }
        assert_eq!(count(srv, &admin, "/api/v1/assets").await, 1, "nothing was imported");

        let res = srv.post_csv("/api/v1/assets/import", &admin, "name,colour\nX,red\n").await;
        assert_eq!(res.status, 422);
        assert_eq!(res.error_fields(), ["columns"]);
        let res = srv.post_csv("/api/v1/locations/import", &admin, "path\nPlant / Hall\nNowhere / Hall\nA //B\n").await;
        assert_eq!(res.error_fields(), ["line 3: path", "line 4: path"]);
        assert_eq!(count(srv, &admin, "/api/v1/locations").await, 1);

        // Tags stay unique once the file is applied: against the file and the database.
        srv.patch(&format!("/api/v1/assets/{a}"), &admin, json!({"tag": "P-1"})).await;
        let res = srv.post_csv("/api/v1/assets/import", &admin, "qr_code,name,tag\nt-1,One,AB\nt-2,Two,ab\nt-3,Three,p-1\nt-4,Four,C\n").await;
        assert_eq!(res.status, 422, "{:?}", res.json);
        let mut fields = res.error_fields();
        fields.sort();
        assert_eq!(fields, ["line 2: tag", "line 3: tag", "line 4: tag"]);
        assert_eq!(count(srv, &admin, "/api/v1/assets").await, 1);

        let json_body = srv.call("POST", "/api/v1/assets/import", Some(&admin), Some(json!({"name": "x"}))).await;
        assert_eq!(json_body.status, 415);
        let guest = srv.user_token(&admin, "gus", "guest").await;
        assert_eq!(srv.post_csv("/api/v1/assets/import", &guest, "name\nX\n").await.status, 403);
        assert_eq!(srv.page("/api/v1/assets/export", &guest).await.0, 200);
        let staff = srv.user_token(&admin, "stu", "staff").await;
        assert_eq!(srv.post_csv("/api/v1/locations/import", &staff, "path\nX\n").await.status, 403);
    }
}

backend_tests! {
    async fn assets_carry_criticality_and_purchase_date(srv) {
        let admin = srv.admin_token().await;
        let res = srv.post("/api/v1/assets", &admin, json!({"name": "Kiln 2", "criticality": " b ", "purchase_date": "2019-04-01"})).await;
        assert_eq!(res.status, 201, "{:?}", res.json);
        assert_eq!((res.json["criticality"].as_str(), res.json["purchase_date"].as_str()), (Some("B"), Some("2019-04-01")));
        let id = res.json["id"].as_i64().unwrap();
        assert_eq!(srv.post("/api/v1/assets", &admin, json!({"name": "x", "criticality": "D"})).await.error_fields(), ["criticality"]);
        let res = srv.patch(&format!("/api/v1/assets/{id}"), &admin, json!({"criticality": "A"})).await;
        assert_eq!(res.json["criticality"], "A");
        let res = srv.patch(&format!("/api/v1/assets/{id}"), &admin, json!({"criticality": null})).await;
        assert!(res.json["criticality"].is_null());
        let (_, _, csv) = srv.download("/api/v1/assets/export", Some(&admin)).await;
        let header = String::from_utf8(csv).unwrap();
        assert!(header.lines().next().unwrap().contains("criticality,purchase_date"), "{header}");
    }
}

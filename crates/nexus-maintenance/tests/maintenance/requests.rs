//! QR codes, label sheets and public work requests through real HTTP, on SQLite and on
//! PostgreSQL.

use nexus_server::backend_tests;
use nexus_server::testing::{ADMIN_PASSWORD, Resp, TestServer, csrf};
use serde_json::{Value, json};

/// Signs in through the web form; the `Cookie` header value of the session.
async fn web_session(srv: &TestServer, username: &str, password: &str) -> String {
    let res = srv
        .client()
        .post(srv.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("nexus_session="))
        .expect("session cookie");
    cookie.split(';').next().unwrap().to_string()
}

/// (status, headers, body) of a GET with an optional cookie.
async fn page(
    srv: &TestServer,
    cookie: Option<&str>,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = srv.client().get(srv.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

async fn post_form(
    srv: &TestServer,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let res = srv
        .client()
        .post(srv.url(path))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

/// The text a QR code PNG holds, read back as a phone's camera would.
fn decode_qr(png_bytes: &[u8]) -> String {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let width = info.width as usize;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, info.height as usize, |x, y| {
            pixels[y * width + x]
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one code in the image");
    grids[0].decode().unwrap().1
}

async fn create_asset(srv: &TestServer, token: &str, body: Value) -> Value {
    let res = srv
        .call("POST", "/api/v1/assets", Some(token), Some(body))
        .await;
    assert_eq!(res.status, 201, "{:?}", res.json);
    res.json
}

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Sends a request the way a phone does: multipart, anonymous, with an optional photo.
async fn send_multipart(
    srv: &TestServer,
    fields: &[(&str, &str)],
    photo: Option<(&str, &[u8])>,
) -> Resp {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some((name, bytes)) = photo {
        form = form.part(
            "photo",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    TestServer::read(
        srv.client()
            .post(srv.url("/api/v1/work-requests"))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

backend_tests! {
    async fn qr_codes_and_label_sheet(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "gail", "guest").await;
        let pump = create_asset(srv, &admin, json!({"name": "Pump <7>", "serial_number": "SN-1"})).await;
        let fan = create_asset(srv, &admin, json!({"name": "Fan"})).await;
        let (id, qr) = (pump["id"].as_i64().unwrap(), pump["qr_code"].as_str().unwrap().to_string());

        let (status, ct, svg) = srv.download(&format!("/api/v1/assets/{id}/qr.svg"), Some(&guest)).await;
        assert_eq!((status, ct.as_str()), (200, "image/svg+xml"));
        assert!(String::from_utf8(svg.clone()).unwrap().contains("<svg"));
        let (status, ct, png) = srv.download(&format!("/api/v1/assets/{id}/qr.png"), Some(&guest)).await;
        assert_eq!((status, ct.as_str()), (200, "image/png"));
        assert_eq!(decode_qr(&png), format!("{}/a/{qr}", srv.base_url));
        assert_eq!(srv.download("/api/v1/assets/999999/qr.png", Some(&guest)).await.0, 404);
        assert_eq!(srv.call("GET", &format!("/api/v1/assets/{id}/qr.svg"), None, None).await.status, 401);

        // The label sheet names each asset and the address its code holds.
        let admin_web = web_session(srv, "admin", ADMIN_PASSWORD).await;
        let (status, _, html) = page(srv, Some(&admin_web), &format!("/maintenance/assets/labels?ids={id},{},999999", fan["id"])).await;
        assert_eq!(status, 200);
        assert_eq!(html.matches("<figure class=\"label\">").count(), 2);
        assert!(html.contains("Pump &#60;7&#62;") || html.contains("Pump &lt;7&gt;"), "{html}");
        assert!(html.contains(&format!("{}/a/{qr}", srv.base_url)));
        assert!(html.contains("S/N SN-1"));
        assert_eq!(page(srv, Some(&admin_web), "/maintenance/assets/labels?ids=1,x").await.0, 422);
        assert_eq!(page(srv, Some(&admin_web), "/maintenance/assets/labels").await.0, 422);
        let (status, headers, _) = page(srv, None, "/maintenance/assets/labels?ids=1").await;
        assert_eq!(status, 303);
        assert!(headers["location"].to_str().unwrap().starts_with("/login"));

        // A configured public address replaces the request's host.
        let bad = srv.call("PUT", "/api/v1/maintenance/settings", Some(&admin), Some(json!({"public_url": "ftp://x"}))).await;
        assert_eq!((bad.status, bad.error_fields()), (422, vec!["public_url".to_string()]));
        let staff = srv.user_token(&admin, "stan", "staff").await;
        assert_eq!(srv.call("PUT", "/api/v1/maintenance/settings", Some(&staff), Some(json!({"public_url": "https://x.example"}))).await.status, 403);
        let ok = srv.call("PUT", "/api/v1/maintenance/settings", Some(&admin), Some(json!({"public_url": "https://nexus.example/"}))).await;
        assert_eq!(ok.json["public_url"], "https://nexus.example");
        assert_eq!(srv.call("GET", "/api/v1/maintenance/settings", Some(&guest), None).await.json["public_url"], "https://nexus.example");
        let (_, _, html) = page(srv, Some(&admin_web), &format!("/maintenance/assets/labels?ids={id}")).await;
        assert!(html.contains(&format!("https://nexus.example/a/{qr}")));
        let (_, _, moved) = srv.download(&format!("/api/v1/assets/{id}/qr.svg"), Some(&guest)).await;
        assert_ne!(moved, svg);
        let (_, _, png) = srv.download(&format!("/api/v1/assets/{id}/qr.png"), Some(&guest)).await;
        assert_eq!(decode_qr(&png), format!("https://nexus.example/a/{qr}"));
    }

    async fn public_requests_are_approved_into_work_orders(srv) {
        let admin = srv.admin_token().await;
        let site = srv.call("POST", "/api/v1/locations", Some(&admin), Some(json!({"name": "Hall 2"}))).await.json["id"].as_i64().unwrap();
        let press = create_asset(srv, &admin, json!({"name": "Press", "location_id": site})).await;
        let (press_id, qr) = (press["id"].as_i64().unwrap(), press["qr_code"].as_str().unwrap().to_string());

        // Anyone with the code, no account: JSON, or multipart with a photo.
        let plain = srv.call("POST", "/api/v1/work-requests", None, Some(json!({
            "qr_code": qr, "title": "Oil leak", "requester_name": "Pat", "requester_contact": "+33 6 12"
        }))).await;
        assert_eq!(plain.status, 201, "{:?}", plain.json);
        assert_eq!(plain.json["status"], "pending");
        assert!(plain.json.get("client_ip").is_none());
        let with_photo = send_multipart(srv, &[("qr_code", &qr), ("title", "Guard cracked"), ("description", "Left side"), ("requester_name", "Lou")], Some(("guard.png", PNG))).await;
        assert_eq!(with_photo.status, 201, "{:?}", with_photo.json);

        // Bad input names its field and records nothing.
        let bad = srv.call("POST", "/api/v1/work-requests", None, Some(json!({"qr_code": qr, "title": " ", "requester_name": ""}))).await;
        assert_eq!((bad.status, bad.error_fields()), (422, vec!["title".to_string(), "requester_name".to_string()]));
        let unknown = srv.call("POST", "/api/v1/work-requests", None, Some(json!({"qr_code": "nope", "title": "x", "requester_name": "y"}))).await;
        assert_eq!(unknown.error_fields(), ["qr_code"]);
        let not_photo = send_multipart(srv, &[("qr_code", &qr), ("title", "x"), ("requester_name", "y")], Some(("notes.txt", b"hello"))).await;
        assert_eq!((not_photo.status, not_photo.error_fields()), (422, vec!["photo".to_string()]));
        assert_eq!(srv.call("PUT", "/api/v1/files/settings", Some(&admin), Some(json!({"max_upload_bytes": 10}))).await.status, 200);
        let big = send_multipart(srv, &[("qr_code", &qr), ("title", "x"), ("requester_name", "y")], Some(("big.png", PNG))).await;
        assert_eq!((big.status, big.error_fields()), (413, vec!["photo".to_string()]));
        let text = srv.client().post(srv.url("/api/v1/work-requests")).body("title=x").header("content-type", "text/plain").send().await.unwrap();
        assert_eq!(text.status().as_u16(), 415);

        // Managers see and decide; other roles may not.
        let staff = srv.user_token(&admin, "stu", "staff").await;
        let list = srv.call("GET", "/api/v1/work-requests?status=pending", Some(&staff), None).await;
        assert_eq!(list.json["total"], 2);
        let newest = &list.json["items"][0];
        assert_eq!(newest["title"], "Guard cracked");
        assert_eq!(newest["location_id"], site);
        assert_eq!(newest["client_ip"], "127.0.0.1");
        let photo = newest["photo_file_id"].as_i64().unwrap();
        let guard_id = newest["id"].as_i64().unwrap();
        let leak_id = plain.json["id"].as_i64().unwrap();
        assert_eq!(srv.call("GET", "/api/v1/work-requests?status=open", Some(&staff), None).await.error_fields(), ["status"]);
        assert_eq!(srv.call("GET", "/api/v1/work-requests", None, None).await.status, 401);
        let attached = srv.call("GET", &format!("/api/v1/attachments/work_request/{guard_id}"), Some(&staff), None).await;
        assert_eq!(attached.json["items"][0]["file"]["id"], photo);
        assert_eq!(attached.json["items"][0]["file"]["is_public"], false);

        let approve = format!("/api/v1/work-requests/{guard_id}/approve");
        assert_eq!(srv.call("POST", &approve, Some(&staff), Some(json!({}))).await.status, 403);
        let bad_priority = srv.call("POST", &approve, Some(&admin), Some(json!({"priority": "asap"}))).await;
        assert_eq!(bad_priority.error_fields(), ["priority"]);
        let stale = srv.client().post(srv.url(&approve)).bearer_auth(&admin).header("if-match", "\"7\"").json(&json!({})).send().await.unwrap();
        assert_eq!(stale.status().as_u16(), 412);
        let ok = srv.call("POST", &approve, Some(&admin), Some(json!({"priority": "high", "type": "corrective"}))).await;
        assert_eq!(ok.status, 200, "{:?}", ok.json);
        assert_eq!(ok.json["status"], "approved");
        assert_eq!(ok.json["version"], 2);
        assert!(ok.json["decided_at"].is_string());
        let wo_id = ok.json["work_order_id"].as_i64().unwrap();
        let wo = srv.call("GET", &format!("/api/v1/work-orders/{wo_id}"), Some(&admin), None).await;
        assert_eq!(wo.status, 200, "{:?}", wo.json);
        let wo = if wo.json.get("work_order").is_some() { wo.json["work_order"].clone() } else { wo.json };
        assert_eq!(wo["title"], "Guard cracked");
        assert_eq!(wo["asset_id"], press_id);
        assert_eq!(wo["priority"], "high");
        assert!(wo["description"].as_str().unwrap().contains("Requested by Lou"));
        let wo_files = srv.call("GET", &format!("/api/v1/attachments/work_order/{wo_id}"), Some(&admin), None).await;
        assert_eq!(wo_files.json["items"][0]["file"]["id"], photo);
        let twice = srv.call("POST", &approve, Some(&admin), Some(json!({}))).await;
        assert_eq!(twice.status, 409);

        let reject = format!("/api/v1/work-requests/{leak_id}/reject");
        assert_eq!(srv.call("POST", &reject, Some(&admin), Some(json!({"reason": "  "}))).await.error_fields(), ["reason"]);
        let no = srv.call("POST", &reject, Some(&admin), Some(json!({"reason": "Duplicate of WO-000001"}))).await;
        assert_eq!((no.status, no.json["status"].as_str()), (200, Some("rejected")));
        assert_eq!(no.json["work_order_id"], Value::Null);
        assert_eq!(srv.call("POST", &format!("/api/v1/work-requests/{leak_id}/approve"), Some(&admin), Some(json!({}))).await.status, 409);
        assert_eq!(srv.call("POST", "/api/v1/work-requests/999999/reject", Some(&admin), Some(json!({"reason": "x"}))).await.status, 404);

        let audit = srv.call("GET", &format!("/api/v1/audit-logs?entity_type=work_request&entity_id={leak_id}"), Some(&admin), None).await;
        let actions: Vec<_> = audit.json["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["update", "create"]);
    }

    async fn public_form_and_rate_limit(srv) {
        let admin = srv.admin_token().await;
        let press = create_asset(srv, &admin, json!({"name": "Lathe"})).await;
        let qr = press["qr_code"].as_str().unwrap().to_string();
        let (status, _, html) = page(srv, None, &format!("/a/{qr}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Lathe") && html.contains("enctype=\"multipart/form-data\""));
        assert_eq!(page(srv, None, "/a/no-such-code").await.0, 404);
        let admin_web = web_session(srv, "admin", ADMIN_PASSWORD).await;
        let (status, headers, _) = page(srv, Some(&admin_web), &format!("/a/{qr}")).await;
        assert_eq!(status, 303);
        assert_eq!(headers["location"], format!("/maintenance/assets/{}", press["id"]).as_str());

        // The form shows refused fields next to their inputs.
        let form = reqwest::multipart::Form::new().text("title", "").text("requester_name", "Kim");
        let res = srv.client().post(srv.url(&format!("/a/{qr}"))).multipart(form).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 422);
        assert!(res.text().await.unwrap().contains("id=\"title-error\""));
        let form = reqwest::multipart::Form::new().text("title", "Noise").text("requester_name", "Kim");
        let res = srv.client().post(srv.url(&format!("/a/{qr}"))).multipart(form).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        assert!(res.text().await.unwrap().contains("id=\"sent\""));

        // Ten attempts an hour per address, counted across the form and the API.
        let body = json!({"qr_code": qr, "title": "Noise", "requester_name": "Kim"});
        for _ in 2..10 {
            assert_eq!(srv.call("POST", "/api/v1/work-requests", None, Some(body.clone())).await.status, 201);
        }
        let limited = srv.call("POST", "/api/v1/work-requests", None, Some(body.clone())).await;
        assert_eq!(limited.status, 429);
        let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=3600).contains(&wait));
        let form = reqwest::multipart::Form::new().text("title", "Noise").text("requester_name", "Kim");
        let res = srv.client().post(srv.url(&format!("/a/{qr}"))).multipart(form).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 429);
        assert!(res.headers().get("retry-after").is_some());
        assert_eq!(srv.call("GET", "/api/v1/work-requests", Some(&admin), None).await.json["total"], 9);
    }

    async fn asset_tree_and_asset_page(srv) {
        let admin = srv.admin_token().await;
        let plant = srv.call("POST", "/api/v1/locations", Some(&admin), Some(json!({"name": "Plant North", "city": "Lille"}))).await.json["id"].as_i64().unwrap();
        let hall = srv.call("POST", "/api/v1/locations", Some(&admin), Some(json!({"name": "Hall A", "parent_id": plant}))).await.json["id"].as_i64().unwrap();
        let press = create_asset(srv, &admin, json!({"name": "Stamping press", "location_id": hall, "serial_number": "SP-77", "purchase_cost_cents": 1234505})).await;
        let press_id = press["id"].as_i64().unwrap();
        create_asset(srv, &admin, json!({"name": "Main motor", "location_id": hall, "parent_asset_id": press_id})).await;
        create_asset(srv, &admin, json!({"name": "Dock fan"})).await;
        let cookie = web_session(srv, "admin", ADMIN_PASSWORD).await;

        // The trees open a branch at a time: top-level locations first, a location's
        // inner ones and a machine's components when asked for.
        let (status, _, html) = page(srv, Some(&cookie), "/maintenance/assets").await;
        assert_eq!(status, 200);
        assert!(html.contains("Plant North") && !html.contains("Hall A"), "{html}");
        assert!(html.contains(&format!("data-tree=\"/maintenance/assets/tree?inside={plant}\"")), "{html}");
        let (status, _, branch) = page(srv, Some(&cookie), &format!("/maintenance/assets/tree?inside={plant}")).await;
        assert_eq!(status, 200);
        assert!(branch.trim_start().starts_with("<li>") && branch.contains(&format!("href=\"/maintenance/assets?location_id={hall}\">Hall A</a>")), "{branch}");
        let (_, _, html) = page(srv, Some(&cookie), &format!("/maintenance/assets?location_id={hall}")).await;
        assert!(html.contains("Assets at Hall A") && html.contains("In <a href=\"/maintenance/assets?location_id="), "{html}");
        assert!(html.contains(">Stamping press<") && html.contains("1 component") && !html.contains(">Main motor<"), "{html}");
        assert!(!html.contains("Dock fan"));
        let (_, _, branch) = page(srv, Some(&cookie), &format!("/maintenance/assets/tree?asset={press_id}")).await;
        assert!(branch.contains(">Main motor<"), "{branch}");
        for bad in ["/maintenance/assets/tree?asset=abc", "/maintenance/assets/tree?offset=-1"] {
            assert_eq!(page(srv, Some(&cookie), bad).await.0, 400, "{bad}");
        }
        assert_eq!(page(srv, Some(&cookie), "/maintenance/assets/tree?asset=999999").await.0, 200);
        let (_, _, html) = page(srv, Some(&cookie), "/maintenance/assets?q=sp-7").await;
        assert!(html.contains("Stamping press") && !html.contains(">Main motor<"));

        let up = srv.call("PATCH", &format!("/api/v1/assets/{press_id}"), Some(&admin), Some(json!({"status": "maintenance", "health_score": 60}))).await;
        assert_eq!(up.status, 200);
        let wo = srv.call("POST", "/api/v1/work-orders", Some(&admin), Some(json!({"title": "Replace seal", "asset_id": press_id}))).await;
        assert_eq!(wo.status, 201, "{:?}", wo.json);
        srv.call("POST", "/api/v1/work-requests", None, Some(json!({"qr_code": press["qr_code"], "title": "Squeaks", "requester_name": "Ana"}))).await;
        let (status, _, html) = page(srv, Some(&cookie), &format!("/maintenance/assets/{press_id}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("SP-77") && html.contains("$12,345.05") && html.contains("Hall A"));
        assert!(html.contains(&format!("/a/{}", press["qr_code"].as_str().unwrap())));
        assert!(html.contains("<svg"));
        assert!(html.contains(">Main motor<"));
        assert!(html.contains("Replace seal") && html.contains(wo.json["number"].as_str().unwrap()));
        assert!(html.contains("Squeaks"));
        assert!(html.contains("update: status, health score") || html.contains("update: health score, status"), "{html}");
        assert_eq!(page(srv, Some(&cookie), "/maintenance/assets/999999").await.0, 404);
    }

    async fn a_big_branch_opens_a_page_at_a_time(srv) {
        let admin = srv.admin_token().await;
        let hall = srv.call("POST", "/api/v1/locations", Some(&admin), Some(json!({"name": "Big hall"}))).await.json["id"].as_i64().unwrap();
        let line = create_asset(srv, &admin, json!({"name": "Line 1", "location_id": hall})).await["id"].as_i64().unwrap();
        for i in 0..105 {
            create_asset(srv, &admin, json!({"name": format!("Station {i:03}"), "location_id": hall, "parent_asset_id": line})).await;
        }
        let cookie = web_session(srv, "admin", ADMIN_PASSWORD).await;
        let (_, _, html) = page(srv, Some(&cookie), &format!("/maintenance/assets/{line}")).await;
        assert!(html.contains(">Station 000<") && html.contains(">Station 099<") && !html.contains(">Station 100<"), "first page of components");
        assert!(html.contains(&format!("data-tree-more=\"/maintenance/assets/tree?asset={line}&#38;offset=100\">Show 5 more</a>")), "{html}");
        let (_, _, rest) = page(srv, Some(&cookie), &format!("/maintenance/assets/tree?asset={line}&offset=100")).await;
        assert_eq!(rest.matches("<li>").count(), 5, "{rest}");
        assert!(rest.contains(">Station 104<") && !rest.contains("Show"), "{rest}");
        let (_, _, html) = page(srv, Some(&cookie), &format!("/maintenance/assets?location_id={hall}")).await;
        assert!(html.contains("106 asset(s) here") && html.contains("105 components"), "{html}");
        // Searching pages its matches.
        let (_, _, html) = page(srv, Some(&cookie), "/maintenance/assets?q=station").await;
        assert!(html.contains("105 asset(s) match") && html.contains("offset=50\">Next"), "{html}");
    }

    async fn managers_decide_on_the_requests_page(srv) {
        let admin = srv.admin_token().await;
        let pump = create_asset(srv, &admin, json!({"name": "Pump 9"})).await;
        for title in ["Leaking", "Noisy"] {
            let res = srv.call("POST", "/api/v1/work-requests", None, Some(json!({"qr_code": pump["qr_code"], "title": title, "requester_name": "Eve"}))).await;
            assert_eq!(res.status, 201);
        }
        let cookie = web_session(srv, "admin", ADMIN_PASSWORD).await;
        let (status, _, html) = page(srv, Some(&cookie), "/maintenance/requests").await;
        assert_eq!(status, 200);
        assert!(html.contains("Leaking") && html.contains("Noisy") && html.contains("Pump 9"));
        let token = csrf(&html);
        let list = srv.call("GET", "/api/v1/work-requests", Some(&admin), None).await;
        let noisy = list.json["items"][0]["id"].as_i64().unwrap();
        let leaking = list.json["items"][1]["id"].as_i64().unwrap();

        let (status, _, html) = post_form(srv, &cookie, &format!("/maintenance/requests/{leaking}/reject"), &[("csrf", &token), ("version", "1"), ("reason", " ")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"reason-error\""));
        let (status, _, _) = post_form(srv, &cookie, &format!("/maintenance/requests/{noisy}/approve"), &[("csrf", "forged"), ("version", "1"), ("priority", "high")]).await;
        assert_eq!(status, 403);
        let (status, headers, _) = post_form(srv, &cookie, &format!("/maintenance/requests/{noisy}/approve"), &[("csrf", &token), ("version", "1"), ("priority", "high")]).await;
        assert_eq!(status, 303);
        assert_eq!(headers["location"], "/maintenance/requests?done=approved");
        let (_, _, html) = page(srv, Some(&cookie), "/maintenance/requests?done=approved").await;
        assert!(html.contains("Approved: the work order is open."));
        assert!(!html.contains("Noisy"));
        let (status, _, html) = post_form(srv, &cookie, &format!("/maintenance/requests/{noisy}/approve"), &[("csrf", &token), ("version", "2")]).await;
        assert_eq!(status, 409);
        assert!(html.contains("approved already"));
        let (status, _, _) = post_form(srv, &cookie, &format!("/maintenance/requests/{leaking}/reject"), &[("csrf", &token), ("version", "1"), ("reason", "Not ours")]).await;
        assert_eq!(status, 303);
        let (_, _, html) = page(srv, Some(&cookie), "/maintenance/requests?status=rejected").await;
        assert!(html.contains("Rejected: Not ours"));
        let approved = srv.call("GET", &format!("/api/v1/work-requests/{noisy}"), Some(&admin), None).await;
        let wo = approved.json["work_order_id"].as_i64().unwrap();
        let wo = srv.call("GET", &format!("/api/v1/work-orders/{wo}"), Some(&admin), None).await;
        assert_eq!(wo.json["priority"], "high");

        // Staff may read requests, but not decide.
        srv.create_user(&admin, "sid", "staff").await;
        let staff = web_session(srv, "sid", "sid-password").await;
        let (status, _, html) = page(srv, Some(&staff), "/maintenance/requests?status=approved").await;
        assert_eq!(status, 200);
        assert!(!html.contains("/approve\""));
    }
}

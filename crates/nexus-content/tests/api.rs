//! Files and attachments through real HTTP, on SQLite and on PostgreSQL.

#[path = "api/s3.rs"]
mod s3;

use nexus_server::backend_tests;
use nexus_server::testing::{Resp, TestServer};
use serde_json::{Value, json};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn upload(
    srv: &TestServer,
    token: Option<&str>,
    name: &str,
    bytes: &[u8],
    claimed: &str,
    extra: &[(&str, &str)],
) -> Resp {
    let part = reqwest::multipart::Part::bytes(bytes.to_vec())
        .file_name(name.to_string())
        .mime_str(claimed)
        .unwrap();
    let mut form = reqwest::multipart::Form::new().part("file", part);
    for (k, v) in extra {
        form = form.text(k.to_string(), v.to_string());
    }
    let mut req = srv.client().post(srv.url("/api/v1/files")).multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    TestServer::read(req.send().await.unwrap()).await
}

/// (status, content type, body) of a download.
async fn download(srv: &TestServer, token: Option<&str>, id: i64) -> (u16, String, Vec<u8>) {
    let path = format!("/api/v1/files/{id}/content");
    srv.download(&path, token).await
}

fn blobs(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() { blobs(&path) } else { 1 }
        })
        .sum()
}

backend_tests! {
    async fn same_bytes_stored_once_and_downloads_counted(srv) {
        let admin = srv.admin_token().await;
        let a = upload(srv, Some(&admin), "pump.png", PNG, "application/octet-stream", &[("description", "Nameplate")]).await;
        assert_eq!(a.status, 201, "{:?}", a.json);
        assert_eq!(a.json["mime_type"], "image/png");
        assert_eq!(a.json["file_size"], PNG.len());
        assert_eq!(a.json["is_public"], false);
        assert_eq!(a.json["description"], "Nameplate");
        assert_eq!(a.json["file_hash"].as_str().unwrap().len(), 64);
        let b = upload(srv, Some(&admin), "C:\\photos\\copy.png", PNG, "image/png", &[("is_public", "true")]).await;
        assert_eq!(b.status, 201, "{:?}", b.json);
        assert_eq!(b.json["filename"], "copy.png");
        assert_ne!(a.json["id"], b.json["id"]);
        assert_eq!(a.json["file_hash"], b.json["file_hash"]);
        assert_eq!(blobs(&srv.data_dir.join("files")), 1);
        let c = upload(srv, Some(&admin), "notes.txt", b"line one\nline two\n", "text/plain", &[]).await;
        assert_eq!(c.json["mime_type"], "text/plain");
        assert_eq!(blobs(&srv.data_dir.join("files")), 2);

        let (private, public) = (a.json["id"].as_i64().unwrap(), b.json["id"].as_i64().unwrap());
        for _ in 0..2 {
            let (status, ct, body) = download(srv, Some(&admin), private).await;
            assert_eq!((status, ct.as_str()), (200, "image/png"));
            assert_eq!(body, PNG);
        }
        let meta = srv.call("GET", &format!("/api/v1/files/{private}"), Some(&admin), None).await;
        assert_eq!(meta.json["download_count"], 2);
        // Private files are invisible without `files:read`; public ones are open to all.
        assert_eq!(download(srv, None, private).await.0, 404);
        assert_eq!(srv.call("GET", &format!("/api/v1/files/{private}"), None, None).await.status, 404);
        assert_eq!(download(srv, None, public).await.0, 200);
        assert_eq!(srv.call("GET", &format!("/api/v1/files/{public}"), None, None).await.json["download_count"], 1);
        let meta = srv.call("GET", &format!("/api/v1/files/{private}"), Some(&admin), None).await;
        assert_eq!(meta.json["download_count"], 2);
        assert_eq!(download(srv, Some(&admin), 999_999).await.0, 404);

        let audit = srv.call("GET", &format!("/api/v1/audit-logs?entity_type=file&entity_id={private}"), Some(&admin), None).await;
        assert_eq!(audit.json["items"][0]["action"], "create");
    }

    async fn size_limit_and_forbidden_types(srv) {
        let admin = srv.admin_token().await;
        assert_eq!(srv.call("GET", "/api/v1/files/settings", Some(&admin), None).await.json["max_upload_bytes"], 20 * 1024 * 1024);
        let bad = srv.call("PUT", "/api/v1/files/settings", Some(&admin), Some(json!({"max_upload_bytes": 0}))).await;
        assert_eq!((bad.status, bad.error_fields()), (422, vec!["max_upload_bytes".to_string()]));
        let staff = srv.user_token(&admin, "stella", "staff").await;
        assert_eq!(srv.call("PUT", "/api/v1/files/settings", Some(&staff), Some(json!({"max_upload_bytes": 5}))).await.status, 403);
        let ok = srv.call("PUT", "/api/v1/files/settings", Some(&admin), Some(json!({"max_upload_bytes": 1000}))).await;
        assert_eq!(ok.status, 200, "{:?}", ok.json);

        let big = upload(srv, Some(&staff), "big.txt", &[b'a'; 1001], "text/plain", &[]).await;
        assert_eq!(big.status, 413);
        assert_eq!(big.error_fields(), ["file"]);
        assert_eq!(upload(srv, Some(&staff), "edge.txt", &[b'a'; 1000], "text/plain", &[]).await.status, 201);

        // The content decides, not the name or the type the client claims.
        for (name, bytes) in [
            ("setup.png", &b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0"[..]),
            ("page.txt", &b"<!DOCTYPE html><script>alert(1)</script>"[..]),
            ("archive.pdf", &b"PK\x03\x04\x14\0\0\0\x08\0"[..]),
            ("binary.txt", &b"abc\0def"[..]),
        ] {
            let res = upload(srv, Some(&staff), name, bytes, "image/png", &[]).await;
            assert_eq!(res.status, 422, "{name}: {:?}", res.json);
            assert_eq!(res.error_fields(), ["file"]);
        }
        let csv = upload(srv, Some(&staff), "parts.csv", b"sku,qty\nA-1,3\n", "application/octet-stream", &[]).await;
        assert_eq!(csv.json["mime_type"], "text/csv");
        let pdf = upload(srv, Some(&staff), "manual", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "text/plain", &[]).await;
        assert_eq!(pdf.json["mime_type"], "application/pdf");

        assert_eq!(upload(srv, Some(&staff), "empty.txt", b"", "text/plain", &[]).await.error_fields(), ["file"]);
        let flag = upload(srv, Some(&staff), "a.txt", b"x", "text/plain", &[("is_public", "maybe")]).await;
        assert_eq!(flag.error_fields(), ["is_public"]);
        let stray = upload(srv, Some(&staff), "a.txt", b"x", "text/plain", &[("owner", "me")]).await;
        assert_eq!(stray.error_fields(), ["owner"]);
        let json_body = srv.call("POST", "/api/v1/files", Some(&staff), Some(json!({"file": "x"}))).await;
        assert_eq!(json_body.status, 415);
        let none = srv.client().post(srv.url("/api/v1/files")).bearer_auth(&staff)
            .multipart(reqwest::multipart::Form::new().text("description", "no file")).send().await.unwrap();
        assert_eq!(TestServer::read(none).await.error_fields(), ["file"]);
        // Nothing refused left a record or a blob behind.
        assert_eq!(blobs(&srv.data_dir.join("files")), 3);
    }

    async fn attachments_follow_record_permissions(srv) {
        let admin = srv.admin_token().await;
        let guest = srv.user_token(&admin, "gus", "guest").await;
        let user = srv.user_token(&admin, "ulla", "user").await;
        let staff = srv.user_token(&admin, "sam", "staff").await;
        assert_eq!(upload(srv, None, "a.png", PNG, "image/png", &[]).await.status, 401);
        assert_eq!(upload(srv, Some(&guest), "a.png", PNG, "image/png", &[]).await.status, 403);
        let theirs = upload(srv, Some(&user), "theirs.png", PNG, "image/png", &[]).await;
        assert_eq!(theirs.status, 201);
        let theirs = theirs.json["id"].as_i64().unwrap();
        let asset = srv.call("POST", "/api/v1/assets", Some(&admin), Some(json!({"name": "Press"}))).await;
        let asset_id = asset.json["id"].as_i64().unwrap();
        let path = format!("/api/v1/attachments/asset/{asset_id}");

        // `user` may upload but not change assets.
        assert_eq!(srv.call("POST", &path, Some(&user), Some(json!({"file_id": theirs}))).await.status, 403);
        // Nor may anyone attach (and so read) a private file they cannot see: refused as
        // if there were no such file.
        let hidden = srv.call("POST", &path, Some(&staff), Some(json!({"file_id": theirs}))).await;
        assert_eq!((hidden.status, hidden.error_fields()), (422, vec!["file_id".to_string()]));
        assert_eq!(srv.call("GET", &format!("/api/v1/files/{theirs}"), Some(&staff), None).await.status, 404);
        let file = upload(srv, Some(&staff), "a.png", PNG, "image/png", &[]).await;
        assert_eq!(file.status, 201);
        let file_id = file.json["id"].as_i64().unwrap();
        let made = srv.call("POST", &path, Some(&staff), Some(json!({"file_id": file_id}))).await;
        assert_eq!(made.status, 201, "{:?}", made.json);
        assert_eq!(made.json["file"]["filename"], "a.png");
        let again = srv.call("POST", &path, Some(&staff), Some(json!({"file_id": file_id}))).await;
        assert_eq!((again.status, again.error_fields()), (409, vec!["file_id".to_string()]));
        let missing = srv.call("POST", &path, Some(&staff), Some(json!({"file_id": 999_999}))).await;
        assert_eq!((missing.status, missing.error_fields()), (422, vec!["file_id".to_string()]));
        assert_eq!(srv.call("POST", "/api/v1/attachments/asset/999999", Some(&staff), Some(json!({"file_id": file_id}))).await.status, 404);
        assert_eq!(srv.call("POST", "/api/v1/attachments/spaceship/1", Some(&staff), Some(json!({"file_id": file_id}))).await.status, 404);

        let list = srv.call("GET", &path, Some(&guest), None).await;
        assert_eq!(list.status, 200);
        assert_eq!((list.json["total"].as_u64(), list.json["offset"].as_u64()), (Some(1), Some(0)));
        let ids: Vec<i64> = list.json["items"].as_array().unwrap().iter().map(|a| a["file"]["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [file_id]);
        assert_eq!(srv.call("GET", &path, None, None).await.status, 401);

        let one = format!("{path}/{file_id}");
        assert_eq!(srv.call("DELETE", &one, Some(&guest), None).await.status, 403);
        assert_eq!(srv.call("DELETE", &one, Some(&staff), None).await.status, 204);
        assert_eq!(srv.call("DELETE", &one, Some(&staff), None).await.status, 404);
        assert_eq!(srv.call("GET", &path, Some(&guest), None).await.json["items"], Value::Array(vec![]));
        assert_eq!(srv.call("GET", &format!("{path}?sort=size"), Some(&guest), None).await.status, 422);
        // The file outlives its attachment, for its uploader only.
        assert_eq!(srv.call("GET", &format!("/api/v1/files/{file_id}"), Some(&staff), None).await.status, 200);
        assert_eq!(srv.call("GET", &format!("/api/v1/files/{file_id}"), Some(&guest), None).await.status, 404);
        let audit = srv.call("GET", "/api/v1/audit-logs?entity_type=attachment", Some(&admin), None).await;
        let actions: Vec<_> = audit.json["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["delete", "create"]);
    }

    async fn private_files_are_read_through_their_records(srv) {
        let admin = srv.admin_token().await;
        let staff = srv.user_token(&admin, "sam", "staff").await;
        let guest = srv.user_token(&admin, "gus", "guest").await;
        let role = json!({"name": "clerk", "permissions": ["files:read"]});
        assert_eq!(srv.call("POST", "/api/v1/roles", Some(&admin), Some(role)).await.status, 201);
        let clerk = srv.user_token(&admin, "cleo", "clerk").await;

        let wo = srv.create("/api/v1/work-orders", &staff, json!({"title": "Replace the seal"})).await;
        let photo = upload(srv, Some(&staff), "seal.png", PNG, "image/png", &[]).await.json["id"].as_i64().unwrap();
        let attached = format!("/api/v1/attachments/work_order/{wo}");
        assert_eq!(srv.call("POST", &attached, Some(&staff), Some(json!({"file_id": photo}))).await.status, 201);
        let loose = upload(srv, Some(&staff), "loose.txt", b"draft", "text/plain", &[]).await.json["id"].as_i64().unwrap();
        let public = upload(srv, Some(&staff), "notice.txt", b"open", "text/plain", &[("is_public", "true")]).await.json["id"].as_i64().unwrap();

        // `files:read` alone reads neither the work order's attachments nor its files,
        // whose answers are those of a file that does not exist.
        assert_eq!(srv.call("GET", &attached, Some(&clerk), None).await.status, 403);
        let absent = srv.call("GET", "/api/v1/files/999999", Some(&clerk), None).await;
        assert_eq!(absent.status, 404);
        for id in [photo, loose] {
            let meta = srv.call("GET", &format!("/api/v1/files/{id}"), Some(&clerk), None).await;
            assert_eq!((meta.status, &meta.json), (404, &absent.json), "file {id}");
            assert_eq!(download(srv, Some(&clerk), id).await, download(srv, Some(&clerk), 999_999).await, "file {id}");
        }
        // Whoever may read the work order reads its files; the uploader reads their own.
        let meta = srv.call("GET", &format!("/api/v1/files/{photo}"), Some(&guest), None).await;
        assert_eq!((meta.status, meta.json["filename"].as_str()), (200, Some("seal.png")));
        assert_eq!(download(srv, Some(&guest), photo).await, (200, "image/png".to_string(), PNG.to_vec()));
        assert_eq!(download(srv, Some(&guest), loose).await.0, 404);
        assert_eq!(download(srv, Some(&staff), loose).await.0, 200);
        // The work order page shows the photo, and the browser may fetch it.
        let (status, html) = srv.page(&format!("/maintenance/work-orders/{wo}"), &guest).await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("<img src=\"/api/v1/files/{photo}/content\"")), "{html}");
        // Public files stay open to anyone.
        assert_eq!(download(srv, Some(&clerk), public).await.0, 200);
        assert_eq!(download(srv, None, public).await.0, 200);
        assert_eq!(download(srv, None, photo).await.0, 404);
    }
}

backend_tests! {
    async fn files_are_listed_and_deleted_by_who_may(srv) {
        let admin = srv.admin_token().await;
        let sam = srv.user_token(&admin, "sam", "staff").await;
        let una = srv.user_token(&admin, "una", "user").await;
        let mine = upload(srv, Some(&sam), "pump.png", PNG, "image/png", &[]).await.json["id"].as_i64().unwrap();
        let copy = upload(srv, Some(&una), "same.png", PNG, "image/png", &[]).await.json["id"].as_i64().unwrap();
        let open = upload(srv, Some(&una), "manual.txt", b"read me\n", "text/plain", &[("is_public", "true")]).await.json["id"].as_i64().unwrap();
        let names = |r: &nexus_server::testing::Resp| -> Vec<String> {
            r.json["items"].as_array().unwrap().iter().map(|f| f["filename"].as_str().unwrap().to_string()).collect()
        };
        // Sam sees his upload and the public manual, not Una's private copy.
        let listed = srv.get("/api/v1/files?sort=filename", &sam).await;
        assert_eq!(names(&listed), ["manual.txt", "pump.png"]);
        assert_eq!(listed.json["total"], 2);
        assert_eq!(srv.get("/api/v1/files", &admin).await.json["total"], 3, "files:manage sees all");
        assert_eq!(names(&srv.get("/api/v1/files?q=MAN", &una).await), ["manual.txt"]);
        assert_eq!(srv.get("/api/v1/files?sort=secret", &una).await.error_fields(), ["sort"]);

        // Nobody deletes another's file but a manager; the shared bytes stay while used.
        assert_eq!(srv.call("DELETE", &format!("/api/v1/files/{copy}"), Some(&sam), None).await.status, 404);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/files/{mine}"), Some(&sam), None).await.status, 204);
        assert_eq!(blobs(&srv.data_dir.join("files")), 2);
        assert_eq!(download(srv, Some(&una), copy).await.0, 200);
        assert_eq!(srv.call("DELETE", &format!("/api/v1/files/{copy}"), Some(&admin), None).await.status, 204);
        assert_eq!(blobs(&srv.data_dir.join("files")), 1, "the last file of those bytes takes them along");
        assert_eq!(srv.call("DELETE", &format!("/api/v1/files/{copy}"), Some(&admin), None).await.status, 404);
        assert_eq!(srv.get(&format!("/api/v1/files/{open}"), &sam).await.status, 200);
        let audit = srv.get(&format!("/api/v1/audit-logs?entity_type=file&entity_id={mine}"), &admin).await;
        assert_eq!(audit.json["items"][0]["action"], "delete");
    }
}

/// Writes a blob no file names, as the store lays blobs out.
fn orphan(dir: &std::path::Path, hash: &str) -> std::path::PathBuf {
    let path = dir.join(&hash[..2]).join(&hash[2..4]).join(hash);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"lost bytes").unwrap();
    path
}

backend_tests! {
    async fn sweep_removes_blobs_orphaned_for_a_whole_period(srv) {
        let admin = srv.admin_token().await;
        let dir = srv.data_dir.join("files");
        let mut sweep = nexus_content::sweep::Sweep::default();
        let old = orphan(&dir, &"ab".repeat(32));
        assert_eq!(sweep.pass(&srv.state).await.unwrap(), 0, "a first sighting only marks it");
        assert!(old.exists());

        // Between two passes: a named blob, and one whose upload may still be on its way.
        let up = upload(srv, Some(&admin), "pump.png", PNG, "image/png", &[]).await;
        assert_eq!(up.status, 201, "{:?}", up.json);
        let fresh = orphan(&dir, &"cd".repeat(32));
        assert_eq!(sweep.pass(&srv.state).await.unwrap(), 1);
        assert!(!old.exists(), "an orphan on two passes goes");
        assert!(fresh.exists(), "one first seen now stays");
        assert_eq!(blobs(&dir), 2);

        // Named blobs stay on every pass; the new orphan goes on the next.
        assert_eq!(sweep.pass(&srv.state).await.unwrap(), 1);
        assert!(!fresh.exists());
        assert_eq!(blobs(&dir), 1);
        let id = up.json["id"].as_i64().unwrap();
        assert_eq!(download(srv, Some(&admin), id).await.2, PNG);
        assert_eq!(sweep.pass(&srv.state).await.unwrap(), 0);
    }
}

backend_tests! {
    async fn an_archived_work_orders_files_stay_readable_and_stop_changing(srv) {
        use sea_orm::ConnectionTrait;
        let admin = srv.admin_token().await;
        let staff = srv.user_token(&admin, "sam", "staff").await;
        let guest = srv.user_token(&admin, "gus", "guest").await;
        let wo = srv.create("/api/v1/work-orders", &staff, json!({"title": "Replace the seal"})).await;
        let comment = srv.create(&format!("/api/v1/work-orders/{wo}/comments"), &staff, json!({"content": "Cracked"})).await;
        let photo = upload(srv, Some(&staff), "seal.png", PNG, "image/png", &[]).await.json["id"].as_i64().unwrap();
        let note = upload(srv, Some(&staff), "note.txt", b"torque 40 Nm", "text/plain", &[]).await.json["id"].as_i64().unwrap();
        let late = upload(srv, Some(&staff), "late.txt", b"too late", "text/plain", &[]).await.json["id"].as_i64().unwrap();
        let on_order = format!("/api/v1/attachments/work_order/{wo}");
        let on_comment = format!("/api/v1/attachments/work_order_comment/{comment}");
        assert_eq!(srv.post(&on_order, &staff, json!({"file_id": photo})).await.status, 201);
        assert_eq!(srv.post(&on_comment, &staff, json!({"file_id": note})).await.status, 201);
        let done = srv.post(&format!("/api/v1/work-orders/{wo}/status"), &admin, json!({"status": "completed"})).await;
        assert_eq!(done.status, 200, "{:?}", done.json);
        // Completed 400 days ago, so the archiving moves it.
        let long_ago = nexus_core::Timestamp::now().plus_seconds(-400 * 86_400).0;
        let db = srv.state.db.write();
        db.execute_raw(nexus_core::db::stmt(db.get_database_backend(),
            "UPDATE work_orders SET completed_at = $1, updated_at = $1 WHERE id = $2",
            vec![long_ago.into(), wo.into()])).await.unwrap();
        let run = srv.archive_run("/api/v1/maintenance/archive", &admin).await;
        assert_eq!(run["report"]["counts"][0], json!({"kind": "work_orders", "archived": 1, "deleted": 0}), "{run:?}");
        assert!(srv.get(&format!("/api/v1/work-orders/{wo}"), &staff).await.json["archived_at"].is_string());

        // Its files and its comment's are listed and downloaded as before.
        for (path, file) in [(&on_order, photo), (&on_comment, note)] {
            let listed = srv.get(path, &guest).await;
            assert_eq!((listed.status, listed.json["total"].as_i64()), (200, Some(1)), "{path}: {:?}", listed.json);
            assert_eq!(listed.json["items"][0]["file"]["id"], file);
        }
        assert_eq!(download(srv, Some(&guest), photo).await, (200, "image/png".to_string(), PNG.to_vec()));
        assert_eq!(download(srv, Some(&guest), note).await.2, b"torque 40 Nm");

        // They no longer change: 409 saying why, and nothing moved.
        for path in [&on_order, &on_comment] {
            let added = srv.post(path, &staff, json!({"file_id": late})).await;
            assert_eq!(added.status, 409, "{path}: {:?}", added.json);
            assert!(added.json["detail"].as_str().unwrap().contains("archived"), "{:?}", added.json);
        }
        for path in [format!("{on_order}/{photo}"), format!("{on_comment}/{note}")] {
            let removed = srv.call("DELETE", &path, Some(&staff), None).await;
            assert_eq!(removed.status, 409, "{path}: {:?}", removed.json);
        }
        assert_eq!(srv.get(&on_order, &staff).await.json["total"], 1);
        assert_eq!(srv.get(&on_comment, &staff).await.json["total"], 1);
        // Who may not read work orders still may not, and no record is still no record.
        let role = json!({"name": "clerk", "permissions": ["files:read"]});
        assert_eq!(srv.post("/api/v1/roles", &admin, role).await.status, 201);
        let clerk = srv.user_token(&admin, "cleo", "clerk").await;
        assert_eq!(srv.get(&on_order, &clerk).await.status, 403);
        assert_eq!(srv.get("/api/v1/attachments/work_order/999999", &staff).await.status, 404);
        let absent = srv.post("/api/v1/attachments/work_order/999999", &staff, json!({"file_id": late})).await;
        assert_eq!(absent.status, 404);

        // Past the retention the order and its comment are deleted; the sweep then detaches
        // their files (an attachment to nothing is gone), and the files themselves stay.
        let ages_ago = nexus_core::Timestamp::now().plus_seconds(-8 * 366 * 86_400).0;
        db.execute_raw(nexus_core::db::stmt(db.get_database_backend(),
            "UPDATE work_orders_archive SET completed_at = $1, updated_at = $1 WHERE id = $2",
            vec![ages_ago.into(), wo.into()])).await.unwrap();
        let run = srv.archive_run("/api/v1/maintenance/archive", &admin).await;
        assert_eq!(run["report"]["counts"][0], json!({"kind": "work_orders", "archived": 0, "deleted": 1}), "{run:?}");
        assert_eq!(nexus_content::sweep::detach_gone(&srv.state).await.unwrap(), 2);
        assert_eq!(nexus_content::sweep::detach_gone(&srv.state).await.unwrap(), 0);
        assert_eq!(srv.get(&on_order, &staff).await.status, 404);
        let left = db.query_one_raw(nexus_core::db::stmt(db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM attachments", vec![])).await.unwrap().unwrap();
        assert_eq!(left.try_get::<i64>("", "n").unwrap(), 0);
        assert_eq!(download(srv, Some(&staff), photo).await.0, 200);
    }
}

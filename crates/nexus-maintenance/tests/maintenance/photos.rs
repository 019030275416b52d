//! Photos on the work order page through real HTTP: added with the page's multipart
//! forms (CSRF token from the page), shown as thumbnails and downloadable; refused
//! uploads say why next to their field and store nothing.

use nexus_server::backend_tests;
use nexus_server::testing::{Answer, TestServer, csrf};
use serde_json::json;

use crate::common::photo_png;

/// Posts a multipart form with an optional file part (field, file name, bytes):
/// (status, Location header, HTML).
async fn send(
    srv: &TestServer,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, Vec<u8>)>,
) -> Answer {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some((field, name, bytes)) = file {
        form = form.part(
            field.to_string(),
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    }
    srv.submit_multipart(path, token, form).await
}

/// The text of the field error shown under `field`.
fn field_error(html: &str, field: &str) -> String {
    let marker = format!("id=\"{field}-error\">");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no error on {field}: {html}"))
        + marker.len();
    html[at..].split('<').next().unwrap().to_string()
}

backend_tests! {
    async fn photos_on_the_work_order_page(srv) {
        let admin = srv.admin_token().await;
        let tech = srv.user_token(&admin, "tina", "staff").await;
        let guest = srv.user_token(&admin, "gail", "guest").await;
        let wo = srv.create("/api/v1/work-orders", &tech, json!({"title": "Fix the leak"})).await;
        let path = format!("/maintenance/work-orders/{wo}");
        let photos = format!("{path}/photos");
        let attached = format!("/api/v1/attachments/work_order/{wo}");

        // The phone form: a camera input, in a multipart form with the CSRF token.
        let (status, html) = srv.page(&path, &tech).await;
        assert_eq!(status, 200);
        assert!(html.contains("No photos yet."), "{html}");
        assert!(html.contains(&format!("action=\"{photos}\" enctype=\"multipart/form-data\"")), "{html}");
        assert!(html.contains("type=\"file\" accept=\"image/*\" capture=\"environment\""), "{html}");
        let token = csrf(&html);

        let png = photo_png();
        let (status, to, _) = send(srv, &tech, &photos, &[("csrf", &token)], Some(("file", "leak.png", png.clone()))).await;
        assert_eq!((status, to.as_str()), (303, format!("{path}?done=photo#attachments").as_str()));
        let list = srv.get(&attached, &tech).await;
        assert_eq!(list.json["items"].as_array().unwrap().len(), 1, "{:?}", list.json);
        let file = list.json["items"][0]["file"].clone();
        assert_eq!((file["filename"].as_str(), file["mime_type"].as_str()), (Some("leak.png"), Some("image/png")));
        let url = file["content_url"].as_str().unwrap().to_string();
        let file_id = file["id"].as_i64().unwrap();

        // Shown as a thumbnail that opens the image, which downloads as it was sent.
        let (_, html) = srv.page(&format!("{path}?done=photo"), &tech).await;
        assert!(html.contains("Photo added.") && !html.contains("No photos yet."), "{html}");
        assert!(html.contains(&format!("<img src=\"{url}\" alt=\"leak.png\">")), "{html}");
        let (status, content_type, bytes) = srv.download(&url, Some(&tech)).await;
        assert_eq!(status, 200);
        assert_eq!(content_type, "image/png");
        assert_eq!(bytes, png);

        // Refused: over the size limit (413), a type not accepted, no file chosen (a
        // browser sends an empty part), each named by the field.
        let limit = srv.call("PUT", "/api/v1/files/settings", Some(&admin), Some(json!({"max_upload_bytes": 64}))).await;
        assert_eq!(limit.status, 200, "{:?}", limit.json);
        let (_, html) = srv.page(&path, &tech).await;
        assert!(html.contains("up to 64 bytes"), "{html}");
        let (status, _, html) = send(srv, &tech, &photos, &[("csrf", &token)], Some(("file", "big.png", [png.clone(), vec![0; 64]].concat()))).await;
        assert_eq!(status, 413);
        assert_eq!(field_error(&html, "file"), "is larger than the limit of 64 bytes");
        assert!(html.contains("The photo was not added. See the marked field."), "{html}");
        srv.call("PUT", "/api/v1/files/settings", Some(&admin), Some(json!({"max_upload_bytes": 1_048_576}))).await;
        let (status, _, html) = send(srv, &tech, &photos, &[("csrf", &token)], Some(("file", "photo.jpg", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0".to_vec()))).await;
        assert_eq!(status, 422);
        assert!(field_error(&html, "file").starts_with("this type of file is not accepted"), "{html}");
        let (status, _, html) = send(srv, &tech, &photos, &[("csrf", &token)], Some(("file", "", Vec::new()))).await;
        assert_eq!(status, 422);
        assert_eq!(field_error(&html, "file"), "choose a photo to add");
        let (status, _, html) = send(srv, &tech, &photos, &[("csrf", &token)], None).await;
        assert_eq!((status, field_error(&html, "file").as_str()), (422, "choose a photo to add"));

        // A guest sees the photo but no form; posting anyway is refused by the field.
        let (status, html) = srv.page(&path, &guest).await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("<img src=\"{url}\"")) && !html.contains(&photos), "{html}");
        let (status, _, html) = send(srv, &guest, &photos, &[("csrf", &csrf(&html))], Some(("file", "x.png", png.clone()))).await;
        assert_eq!(status, 403);
        assert!(field_error(&html, "file").contains("`files:write`"), "{html}");
        // A forged form, or a work order that is not there.
        let (status, _, _) = send(srv, &tech, &photos, &[("csrf", "forged")], Some(("file", "x.png", png.clone()))).await;
        assert_eq!(status, 403);
        // The token is read before anything else, so it must come first: a file sent ahead
        // of it, a form without one and a form that is not multipart are all refused.
        let late = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(png.clone()).file_name("x.png"))
            .text("csrf", token.clone());
        assert_eq!(srv.submit_multipart(&photos, &tech, late).await.0, 403);
        assert_eq!(send(srv, &tech, &photos, &[], Some(("file", "x.png", png.clone()))).await.0, 403);
        assert_eq!(srv.submit(&photos, &tech, &[("csrf", &token)]).await.0, 403);
        let (status, _, html) = send(srv, &tech, &format!("{path}/comments"), &[("csrf", "forged"), ("content", "Forged")], None).await;
        assert_eq!(status, 403);
        assert!(html.contains("reload the page"), "{html}");
        let (status, _, _) = send(srv, &tech, "/maintenance/work-orders/999999/photos", &[("csrf", &token)], Some(("file", "x.png", png.clone()))).await;
        assert_eq!(status, 404);
        // None of these stored a file, attached one or commented.
        assert_eq!(srv.get(&attached, &tech).await.json["total"], 1);
        assert_eq!(srv.get(&format!("/api/v1/work-orders/{wo}/comments"), &tech).await.json["total"], 0);
        assert_eq!(srv.get(&format!("/api/v1/files/{}", file_id + 1), &admin).await.status, 404);

        // A comment may carry a photo, shown next to it.
        let comments = format!("{path}/comments");
        let (status, to, _) = send(srv, &tech, &comments, &[("csrf", &token), ("content", "Seal was cracked")], Some(("photo", "seal.png", png.clone()))).await;
        assert_eq!((status, to.as_str()), (303, format!("{path}?done=commented#comments").as_str()));
        let comment = srv.get(&format!("/api/v1/work-orders/{wo}/comments"), &tech).await.json["items"][0]["id"].as_i64().unwrap();
        let on_comment = srv.get(&format!("/api/v1/attachments/work_order_comment/{comment}"), &tech).await;
        let seal = on_comment.json["items"][0]["file"]["content_url"].as_str().unwrap().to_string();
        assert_eq!(seal, format!("/api/v1/files/{}/content", file_id + 1));
        let (_, html) = srv.page(&path, &tech).await;
        let item = &html[html.find(&format!("id=\"comment-{comment}\"")).expect("the comment")..];
        assert!(item[..item.find("</li>").unwrap()].contains(&format!("<img src=\"{seal}\"")), "{html}");
        // Without text nothing is saved; a refused photo keeps the text typed.
        let (status, _, html) = send(srv, &tech, &comments, &[("csrf", &token), ("content", " ")], Some(("photo", "seal.png", png.clone()))).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"content-error\""), "{html}");
        let (status, _, html) = send(srv, &tech, &comments, &[("csrf", &token), ("content", "Also the gasket")], Some(("photo", "notes.html", b"<html><script>alert(1)</script>".to_vec()))).await;
        assert_eq!(status, 422);
        assert!(field_error(&html, "photo").starts_with("this type of file is not accepted"), "{html}");
        assert!(html.contains(">Also the gasket</textarea>") && html.contains("The comment was not added."), "{html}");
        assert_eq!(srv.get(&format!("/api/v1/work-orders/{wo}/comments"), &tech).await.json["total"], 1);
        assert_eq!(srv.get(&format!("/api/v1/files/{}", file_id + 2), &admin).await.status, 404);
        // A comment without a photo, as before.
        let (status, _, _) = send(srv, &tech, &comments, &[("csrf", &token), ("content", "Done")], Some(("photo", "", Vec::new()))).await;
        assert_eq!(status, 303);

        // Other files (from the API) are links; a completed work order still takes photos,
        // as the attachments API allows.
        let res = srv.client().post(srv.url("/api/v1/files")).bearer_auth(&tech)
            .multipart(reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec()).file_name("manual.pdf")))
            .send().await.unwrap();
        let pdf = TestServer::read(res).await;
        assert_eq!(pdf.status, 201, "{:?}", pdf.json);
        assert_eq!(srv.call("POST", &attached, Some(&tech), Some(json!({"file_id": pdf.json["id"]}))).await.status, 201);
        for status in ["in_progress", "completed"] {
            let moved = srv.call("POST", &format!("/api/v1/work-orders/{wo}/status"), Some(&tech), Some(json!({"status": status}))).await;
            assert_eq!(moved.status, 200, "{:?}", moved.json);
        }
        let (status, _, _) = send(srv, &tech, &photos, &[("csrf", &token)], Some(("file", "after.png", png.clone()))).await;
        assert_eq!(status, 303);
        let (_, html) = srv.page(&path, &tech).await;
        assert!(html.contains(&format!("<a href=\"{}\" class=\"wo-file\">manual.pdf</a>", pdf.json["content_url"].as_str().unwrap())), "{html}");
        assert!(html.contains("alt=\"after.png\""), "{html}");
    }
}

//! HTTP helpers shared by the maintenance tests, for the JSON API and for pages.

use nexus_server::testing::{Resp, TestServer};
use serde_json::Value;

pub async fn post(srv: &TestServer, token: &str, path: &str, body: Value) -> Resp {
    srv.call("POST", path, Some(token), Some(body)).await
}

pub async fn patch(srv: &TestServer, token: &str, path: &str, body: Value) -> Resp {
    srv.call("PATCH", path, Some(token), Some(body)).await
}

pub async fn get(srv: &TestServer, token: &str, path: &str) -> Resp {
    srv.call("GET", path, Some(token), None).await
}

/// Posts `body` and returns the new row's id, failing the test unless the answer is 201.
pub async fn create(srv: &TestServer, token: &str, path: &str, body: Value) -> i64 {
    let res = post(srv, token, path, body).await;
    assert_eq!(res.status, 201, "POST {path}: {:?}", res.json);
    res.json["id"].as_i64().unwrap()
}

/// (status, HTML) of a page.
pub async fn page(srv: &TestServer, token: &str, path: &str) -> (u16, String) {
    let res = srv
        .client()
        .get(srv.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The CSRF token a page's forms carry.
pub fn csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

/// A small photo: an 8×8 PNG, as a phone's camera might send (smaller).
pub fn photo_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 8, 8);
    encoder.set_color(png::ColorType::Rgb);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[200u8; 8 * 8 * 3]).unwrap();
    writer.finish().unwrap();
    out
}

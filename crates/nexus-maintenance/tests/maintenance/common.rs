//! HTTP helpers shared by the maintenance tests.

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

//! Blobs on S3-compatible storage: the upload, download and dedup path against moto's
//! server mode (from PyPI), started here as a child process on a free port.

use std::time::{Duration, Instant};

use nexus_core::Config;
use nexus_server::testing::services::{Moto, free_port};
use nexus_server::testing::{Backend, TestServer};

use super::{PNG, download, upload};

async fn stored_once_on_s3(backend: Backend) {
    let moto = Moto::start();
    moto.bucket("plant").await;
    let Some(srv) =
        TestServer::start_with(backend, |c| moto.configure(c, "plant", "nexus/blobs")).await
    else {
        return;
    };
    let admin = srv.admin_token().await;
    let a = upload(&srv, Some(&admin), "pump.png", PNG, "image/png", &[]).await;
    assert_eq!(a.status, 201, "{:?}", a.json);
    let b = upload(&srv, Some(&admin), "copy.png", PNG, "image/png", &[]).await;
    assert_eq!(b.status, 201, "{:?}", b.json);
    assert_eq!(a.json["file_hash"], b.json["file_hash"]);
    let c = upload(
        &srv,
        Some(&admin),
        "notes.txt",
        b"line one\n",
        "text/plain",
        &[],
    )
    .await;
    assert_eq!(c.status, 201, "{:?}", c.json);

    let hash = a.json["file_hash"].as_str().unwrap();
    let keys = moto.keys("plant", "nexus/blobs/").await;
    assert_eq!(keys.len(), 2, "same bytes stored once: {keys:?}");
    assert!(
        keys.contains(&format!(
            "nexus/blobs/{}/{}/{hash}",
            &hash[..2],
            &hash[2..4]
        )),
        "{keys:?}"
    );
    assert!(
        !srv.data_dir.join("files").exists(),
        "nothing in the local folder"
    );

    for file in [&a, &b] {
        let id = file.json["id"].as_i64().unwrap();
        let (status, ct, body) = download(&srv, Some(&admin), id).await;
        assert_eq!((status, ct.as_str()), (200, "image/png"));
        assert_eq!(body, PNG);
    }
    // The last file of some bytes takes them along.
    let text = c.json["id"].as_i64().unwrap();
    let gone = srv
        .call(
            "DELETE",
            &format!("/api/v1/files/{text}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    assert_eq!(moto.keys("plant", "nexus/blobs/").await.len(), 1);
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_stored_once_on_s3_sqlite() {
    stored_once_on_s3(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_stored_once_on_s3_postgres() {
    stored_once_on_s3(Backend::Postgres).await;
}

/// Starting with `files_url` on `moto` (or nowhere) fails; the message.
async fn refused(configure: impl FnOnce(&mut Config)) -> String {
    let mut config = Config {
        data_dir: std::env::temp_dir().join(format!("nexus-s3-refused-{}", free_port())),
        admin_password: Some(nexus_server::testing::ADMIN_PASSWORD.into()),
        ..Config::default()
    };
    configure(&mut config);
    let started = Instant::now();
    let err = match nexus_server::prepare(config.clone()).await {
        Ok(_) => panic!("started with {:?}", config.files_url),
        Err(e) => format!("{e:#}"),
    };
    assert!(started.elapsed() < Duration::from_secs(60), "{err}");
    let _ = std::fs::remove_dir_all(&config.data_dir);
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_or_missing_bucket_stops_the_start_with_the_reason() {
    let moto = Moto::start();
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let err = refused(|c| {
        moto.configure(c, "plant", "blobs");
        c.files_options[0].1 = nowhere.clone();
    })
    .await;
    assert!(err.contains("NEXUS_FILES_URL s3://plant/blobs"), "{err}");
    assert!(err.contains("AWS_ENDPOINT_URL"), "{err}");

    let err = refused(|c| moto.configure(c, "no-such-bucket", "blobs")).await;
    assert!(err.contains("NoSuchBucket"), "{err}");

    let err = refused(|c| c.files_url = Some("http://plant/blobs".into())).await;
    assert!(err.contains("expected s3://bucket/prefix"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_stop_the_start_with_the_reason() {
    // Moto checks credentials after its first request (the bucket's creation); it knows
    // no access key, so the test's are wrong.
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "1")]);
    moto.bucket("plant").await;
    let err = refused(|c| moto.configure(c, "plant", "blobs")).await;
    assert!(err.contains("InvalidAccessKeyId"), "{err}");
    assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
}

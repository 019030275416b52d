//! Metric history out of the database and back, on SQLite and on PostgreSQL: readings of
//! months older than the raw retention move to Parquet files in the file store, the
//! history API reads them back with the same values, late readings join them, and files
//! past the retention are deleted.

use chrono::{Datelike, TimeZone, Utc};
use nexus_core::archive::ArchiveReport;
use nexus_core::db::stmt;
use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
use nexus_telemetry::archive;
use parquet::file::reader::{FileReader, SerializedFileReader};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::common::{asset_with_metric, ingest, now_ms, rfc};

/// Noon on the 10th of the month five months back, in ms: well past the 90-day raw
/// retention, inside one month.
fn old_ms() -> i64 {
    let back = Utc::now() - chrono::Duration::days(150);
    Utc.with_ymd_and_hms(back.year(), back.month(), 10, 12, 0, 0)
        .unwrap()
        .timestamp_millis()
}

async fn count(srv: &TestServer, sql: &str) -> i64 {
    let db = srv.state.db.read();
    db.query_one_raw(stmt(db.get_database_backend(), sql, vec![]))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
}

async fn get(srv: &TestServer, token: &str, path: &str) -> Value {
    let res = srv.get(path, token).await;
    assert_eq!(res.status, 200, "{path}: {:?}", res.json);
    res.json
}

/// Every raw sample of `[from, to)` through the key-paged samples API, 700 a page.
async fn all_samples(
    srv: &TestServer,
    token: &str,
    asset: i64,
    from: i64,
    to: i64,
) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut after = rfc(from - 1);
    loop {
        let page = get(
            srv,
            token,
            &format!(
                "/api/v1/assets/{asset}/metrics/vibration/samples?limit=700&after={}&before={}",
                after,
                rfc(to)
            ),
        )
        .await;
        for s in page["items"].as_array().unwrap() {
            out.push((
                s["ts"].as_str().unwrap().to_string(),
                s["value"].as_f64().unwrap(),
            ));
        }
        match page["next_after"].as_str() {
            Some(next) => after = next.replace('+', "%2B"),
            None => return out,
        }
    }
}

/// One archiving run through the API, followed until done: its report.
async fn moved(srv: &TestServer, token: &str) -> ArchiveReport {
    let run = srv.archive_run("/api/v1/telemetry/archive", token).await;
    assert_eq!(run["status"], "done", "{run:?}");
    serde_json::from_value(run["report"].clone()).expect("a report")
}

backend_tests! {
    async fn old_readings_go_to_parquet_and_come_back(srv) {
        let admin = srv.admin_token().await;
        let asset = asset_with_metric(srv, &admin, "Fan", json!({"metric_name": "vibration", "unit": "mm/s"})).await;
        let t0 = old_ms();
        // 2,000 readings a second apart (half an hour), and a few recent ones.
        let old: Vec<(i64, &str, i64, f64)> = (0..2_000)
            .map(|k| (asset, "vibration", t0 + k * 1000, (k as f64 * 0.37).sin() * 4.0 + 5.0))
            .collect();
        for part in old.chunks(500) {
            ingest(srv, &admin, part).await;
        }
        let now = now_ms();
        ingest(srv, &admin, &[(asset, "vibration", now - 5_000, 1.5), (asset, "vibration", now - 4_000, 2.5)]).await;
        let raw = format!("/api/v1/assets/{asset}/metrics/vibration/history?from={}&to={}&buckets=90",
            rfc(t0 - 60_000), rfc(t0 + 3_600_000));
        let before = get(srv, &admin, &raw).await;
        assert_eq!(before["source"], "raw");
        let samples_before = all_samples(srv, &admin, asset, t0, t0 + 2_000_000).await;
        assert_eq!(samples_before.len(), 2_000);
        let long = format!("/api/v1/assets/{asset}/metrics/vibration/history?from={}&to={}&buckets=40",
            rfc(t0 - 86_400_000 * 10), rfc(now));
        let hours_before = get(srv, &admin, &long).await;

        // A dry run counts and changes nothing.
        let dry = archive::run(&srv.state, true).await.unwrap();
        assert_eq!(dry.of("metric_readings").archived, 2_000, "{dry:?}");
        assert_eq!(dry.of("metric_files").archived, 1);
        assert_eq!(count(srv, "SELECT COUNT(*) AS n FROM metric_archive_files").await, 0);

        let run = moved(srv, &admin).await;
        assert_eq!(run.of("metric_readings").archived, 2_000, "{run:?}");
        assert_eq!(run.of("metric_files").archived, 1);
        // Out of the database: only the recent minute is left there.
        let left = count(srv, "SELECT CAST(SUM(samples) AS BIGINT) AS n FROM metric_chunks").await;
        assert_eq!(left, 2);
        let db = srv.state.db.read();
        let path = db.query_one_raw(stmt(db.get_database_backend(), "SELECT path FROM metric_archive_files", vec![]))
            .await.unwrap().unwrap().try_get::<String>("", "path").unwrap();
        assert!(path.starts_with(&format!("archive/metrics/asset-{asset}/vibration-")), "{path}");
        assert!(path.ends_with(".parquet"));

        // A plain Parquet file in the file store, as any reader takes it.
        let file = srv.data_dir.join("files").join(&path);
        let reader = SerializedFileReader::new(std::fs::File::open(&file).unwrap()).unwrap();
        let meta = reader.metadata();
        assert_eq!(meta.file_metadata().num_rows(), 2_000);
        let columns: Vec<String> = meta.file_metadata().schema_descr().columns().iter().map(|c| c.name().to_string()).collect();
        assert_eq!(columns, ["ts", "value", "asset_id", "metric"]);
        let kv = meta.file_metadata().key_value_metadata().unwrap();
        assert!(kv.iter().any(|k| k.key == "nexus.unit" && k.value.as_deref() == Some("mm/s")));

        // The history API reads them back: the same buckets, the same samples.
        assert_eq!(get(srv, &admin, &raw).await, before);
        assert_eq!(all_samples(srv, &admin, asset, t0, t0 + 2_000_000).await, samples_before);
        assert_eq!(get(srv, &admin, &long).await, hours_before, "hour rollups stay");
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        assert_eq!(get(srv, &guest, &raw).await, before);
        assert_eq!(srv.post("/api/v1/telemetry/archive", &guest, json!({})).await.status, 403);

        // A reading arriving late into the archived month joins them, and goes into a
        // second file of that month next time.
        ingest(srv, &admin, &[(asset, "vibration", t0 + 2_500_000, 9.0)]).await;
        assert_eq!(all_samples(srv, &admin, asset, t0, t0 + 3_000_000).await.len(), 2_001);
        let run = moved(srv, &admin).await;
        assert_eq!((run.of("metric_readings").archived, run.of("metric_files").archived), (1, 1));
        let after = all_samples(srv, &admin, asset, t0, t0 + 3_000_000).await;
        assert_eq!(after.len(), 2_001);
        assert_eq!(after[..2_000], samples_before[..]);
        assert_eq!(after[2_000].1, 9.0);

        // Audited with counts.
        let audit = get(srv, &admin, "/api/v1/audit-logs?entity_type=archive&action=archive.run").await;
        let telemetry: Vec<&Value> = audit["items"].as_array().unwrap().iter()
            .filter(|r| r["new_state"]["domain"] == "telemetry").collect();
        assert_eq!(telemetry.len(), 2);
        assert!(telemetry.iter().any(|r| r["new_state"]["counts"][0]["archived"] == 2_000));

        // Past the retention, the files go (and the rollups of that time with them).
        let gone = (Utc::now() - chrono::Duration::days(7 * 365 + 3)).timestamp_millis();
        let db = srv.state.db.write();
        db.execute_raw(stmt(db.get_database_backend(),
            "UPDATE metric_archive_files SET first_ts = $1, last_ts = $1", vec![gone.into()])).await.unwrap();
        db.execute_raw(stmt(db.get_database_backend(),
            "INSERT INTO metric_rollups_hour (series_id, bucket, min_value, max_value, sum_value, samples) \
             SELECT series_id, $1, 1, 1, 1, 1 FROM metric_rollups_hour LIMIT 1", vec![(gone - gone % 3_600_000).into()])).await.unwrap();
        let dry = archive::run(&srv.state, true).await.unwrap();
        assert_eq!((dry.of("metric_files").deleted, dry.of("metric_rollups").deleted), (2, 1), "{dry:?}");
        let run = moved(srv, &admin).await;
        assert_eq!((run.of("metric_files").deleted, run.of("metric_rollups").deleted), (2, 1));
        assert!(!file.exists());
        assert_eq!(count(srv, "SELECT COUNT(*) AS n FROM metric_archive_files").await, 0);
    }
}

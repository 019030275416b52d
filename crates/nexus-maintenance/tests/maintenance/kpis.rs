//! Maintenance KPIs with known numbers, on SQLite and on PostgreSQL. Downtime, labor and
//! the instants work was done are written straight into the database, so the period is
//! fixed (two weeks of January 2026) and every figure can be worked out by hand.

use nexus_core::Timestamp;
use nexus_core::db::stmt;
use nexus_maintenance::entity::{downtime, labor};
use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::{Value, json};

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

async fn down(srv: &TestServer, asset: i64, from: &str, to: &str) {
    let now = Timestamp::now();
    downtime::ActiveModel {
        asset_id: Set(asset),
        started_at: Set(at(from)),
        ended_at: Set(Some(at(to))),
        reason: Set(Some("failure".into())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(srv.state.db.write())
    .await
    .unwrap();
}

async fn sql(srv: &TestServer, sql: &str, values: Vec<sea_orm::Value>) {
    let db = srv.state.db.write();
    db.execute_raw(stmt(db.get_database_backend(), sql, values))
        .await
        .unwrap();
}

/// A preventive work order on `asset` due on `due`, created at `created`.
async fn pm(srv: &TestServer, token: &str, asset: i64, due: &str, created: &str) -> i64 {
    let id = srv.create("/api/v1/work-orders", token, json!({"title": format!("PM {due}"), "type": "preventive", "asset_id": asset, "due_date": due})).await;
    sql(
        srv,
        "UPDATE work_orders SET created_at = $1 WHERE id = $2",
        vec![at(created).0.into(), id.into()],
    )
    .await;
    id
}

async fn complete(srv: &TestServer, token: &str, wo: i64, when: &str) {
    let res = srv
        .post(
            &format!("/api/v1/work-orders/{wo}/status"),
            token,
            json!({"status": "completed"}),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    sql(
        srv,
        "UPDATE work_orders SET completed_at = $1 WHERE id = $2",
        vec![at(when).0.into(), wo.into()],
    )
    .await;
}

async fn work(srv: &TestServer, wo: i64, user: i64, start: &str, minutes: i32, rate: i64) {
    labor::ActiveModel {
        work_order_id: Set(wo),
        user_id: Set(user),
        started_at: Set(at(start)),
        ended_at: Set(Some(at(start).plus_seconds(i64::from(minutes) * 60))),
        minutes: Set(Some(minutes)),
        hourly_rate_cents: Set(Some(rate)),
        created_at: Set(at(start)),
        updated_at: Set(at(start)),
        version: Set(1),
        ..Default::default()
    }
    .insert(srv.state.db.write())
    .await
    .unwrap();
}

fn days_since(t: &str, now: Timestamp) -> f64 {
    (now.0 - at(t).0) as f64 / 86_400_000_000.0
}

backend_tests! {
    async fn kpis_with_known_numbers(srv) {
        let admin = srv.admin_token().await;
        let plant = srv.create("/api/v1/locations", &admin, json!({"name": "Plant"})).await;
        let hall = srv.create("/api/v1/locations", &admin, json!({"name": "Hall", "parent_id": plant})).await;
        let other = srv.create("/api/v1/locations", &admin, json!({"name": "Other site"})).await;
        let p1 = srv.create("/api/v1/assets", &admin, json!({"name": "P1", "location_id": hall})).await;
        let p2 = srv.create("/api/v1/assets", &admin, json!({"name": "P2", "location_id": plant})).await;
        let x = srv.create("/api/v1/assets", &admin, json!({"name": "X", "location_id": other})).await;

        // Downtime, 2026-01-05 (Mon) .. 2026-01-18 (Sun): 336 hours per asset.
        down(srv, p1, "2026-01-04T23:00:00Z", "2026-01-05T01:00:00Z").await; // 1 h inside, no failure in the period
        down(srv, p1, "2026-01-06T08:00:00Z", "2026-01-06T12:00:00Z").await; // 4 h, week 1
        down(srv, p2, "2026-01-13T00:00:00Z", "2026-01-13T02:00:00Z").await; // 2 h, week 2
        down(srv, p1, "2026-01-18T22:00:00Z", "2026-01-19T04:00:00Z").await; // 2 h inside, still down at the end
        down(srv, x, "2026-01-07T00:00:00Z", "2026-01-07T10:00:00Z").await;  // elsewhere

        // Preventive work: on time, late, still open, cancelled, due after the period.
        let a = pm(srv, &admin, p1, "2026-01-08", "2026-01-01T00:00:00Z").await;
        let b = pm(srv, &admin, p1, "2026-01-15", "2026-01-01T00:00:00Z").await;
        let c = pm(srv, &admin, p1, "2026-01-16", "2026-01-10T00:00:00Z").await;
        let d = pm(srv, &admin, p2, "2026-01-10", "2026-01-01T00:00:00Z").await;
        pm(srv, &admin, p2, "2026-01-20", "2026-01-12T00:00:00Z").await;
        let xw = pm(srv, &admin, x, "2026-01-09", "2026-01-01T00:00:00Z").await;
        complete(srv, &admin, a, "2026-01-07T15:00:00Z").await;
        complete(srv, &admin, b, "2026-01-16T09:00:00Z").await;
        assert_eq!(srv.post(&format!("/api/v1/work-orders/{d}/status"), &admin, json!({"status": "cancelled"})).await.status, 200);

        // Cost: 90 min at 40.00/h and 30 min at 50.00/h; two parts at 12.50 on C.
        let me = srv.get("/api/v1/auth/me", &admin).await.json["id"].as_i64().unwrap();
        work(srv, a, me, "2026-01-07T09:00:00Z", 90, 4000).await;
        work(srv, b, me, "2026-01-14T09:00:00Z", 30, 5000).await;
        work(srv, xw, me, "2026-01-14T09:00:00Z", 600, 9000).await;
        let part = srv.create("/api/v1/parts", &admin, json!({"sku": "P-1", "name": "Seal", "unit_cost_cents": 1250})).await;
        assert_eq!(srv.post(&format!("/api/v1/parts/{part}/receive"), &admin, json!({"location_id": hall, "quantity": 5})).await.status, 201);
        let used = srv.post(&format!("/api/v1/work-orders/{c}/parts"), &admin, json!({"part_id": part, "location_id": hall, "quantity": 2})).await;
        assert_eq!(used.status, 201);
        sql(srv, "UPDATE stock_movements SET created_at = $1 WHERE id = $2", vec![at("2026-01-16T12:00:00Z").0.into(), used.json["movement_id"].as_i64().unwrap().into()]).await;

        let before = Timestamp::now();
        let r = srv.get(&format!("/api/v1/maintenance/kpis?location_id={plant}&from=2026-01-05&to=2026-01-18"), &admin).await;
        let after = Timestamp::now();
        assert_eq!(r.status, 200, "{:?}", r.json);
        let k = &r.json;
        assert_eq!(k["assets"], 2);
        assert_eq!((k["from"].as_str(), k["to"].as_str(), k["bucket"].as_str()), (Some("2026-01-05"), Some("2026-01-18"), Some("week")));
        assert_eq!(k["downtime_hours"], 9.0);
        assert_eq!(k["failures"], 3);
        assert_eq!(k["mttr_hours"], 3.0, "mean of the 4 h and 2 h repairs");
        assert_eq!(k["mtbf_hours"], 221.0, "(672 - 9) / 3");
        assert_eq!(k["availability"], 0.987, "1 - 9/672");
        assert_eq!((k["pm_due"].as_i64(), k["pm_on_time"].as_i64(), k["pm_compliance"].as_f64()), (Some(3), Some(1), Some(0.333)));
        assert_eq!(k["completed_work_orders"], 2);
        assert_eq!((k["labor_cost_cents"].as_i64(), k["parts_cost_cents"].as_i64(), k["total_cost_cents"].as_i64()), (Some(8500), Some(2500), Some(11000)));
        assert_eq!(k["backlog"]["count"], 2, "C and E are open");
        let oldest = k["backlog"]["oldest_age_days"].as_f64().unwrap();
        assert!(oldest >= days_since("2026-01-10T00:00:00Z", before) - 0.001 && oldest <= days_since("2026-01-10T00:00:00Z", after) + 0.001);
        let avg = k["backlog"]["average_age_days"].as_f64().unwrap();
        assert!(avg >= days_since("2026-01-11T00:00:00Z", before) - 0.001 && avg <= days_since("2026-01-11T00:00:00Z", after) + 0.001);

        let s = k["series"].as_array().unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0]["from"].as_str(), s[0]["to"].as_str()), (Some("2026-01-05"), Some("2026-01-11")));
        assert_eq!((s[0]["downtime_hours"].as_f64(), s[0]["failures"].as_i64(), s[0]["mttr_hours"].as_f64()), (Some(5.0), Some(1), Some(4.0)));
        assert_eq!((s[0]["availability"].as_f64(), s[0]["mtbf_hours"].as_f64()), (Some(0.985), Some(331.0)));
        assert_eq!((s[0]["pm_due"].as_i64(), s[0]["pm_compliance"].as_f64()), (Some(1), Some(1.0)));
        assert_eq!((s[0]["labor_cost_cents"].as_i64(), s[0]["parts_cost_cents"].as_i64()), (Some(6000), Some(0)));
        assert_eq!((s[1]["downtime_hours"].as_f64(), s[1]["failures"].as_i64(), s[1]["mttr_hours"].as_f64()), (Some(4.0), Some(2), Some(2.0)));
        assert_eq!((s[1]["availability"].as_f64(), s[1]["mtbf_hours"].as_f64()), (Some(0.988), Some(166.0)));
        assert_eq!((s[1]["pm_due"].as_i64(), s[1]["pm_compliance"].as_f64()), (Some(2), Some(0.0)));
        assert_eq!((s[1]["labor_cost_cents"].as_i64(), s[1]["parts_cost_cents"].as_i64(), s[1]["total_cost_cents"].as_i64()), (Some(2500), Some(2500), Some(5000)));

        // One asset; everything; a month bucket.
        let one = srv.get(&format!("/api/v1/maintenance/kpis?asset_id={p2}&from=2026-01-05&to=2026-01-18"), &admin).await.json;
        assert_eq!((one["assets"].as_i64(), one["downtime_hours"].as_f64(), one["mttr_hours"].as_f64()), (Some(1), Some(2.0), Some(2.0)));
        assert_eq!((one["availability"].as_f64(), one["pm_due"].as_i64(), one["pm_compliance"].clone()), (Some(0.994), Some(0), Value::Null));
        assert_eq!(one["backlog"]["count"], 1);
        let all = srv.get("/api/v1/maintenance/kpis?from=2026-01-05&to=2026-01-18&bucket=month", &admin).await.json;
        assert_eq!((all["assets"].as_i64(), all["downtime_hours"].as_f64(), all["failures"].as_i64()), (Some(3), Some(19.0), Some(4)));
        assert_eq!(all["labor_cost_cents"], 8500 + 90000);
        assert_eq!(all["series"].as_array().unwrap().len(), 1);
        assert_eq!(all["series"][0]["from"], "2026-01-05");

        // Bad input and missing rights.
        let q = |s: &str| format!("/api/v1/maintenance/kpis?{s}");
        assert_eq!(srv.get(&q("from=2026-02-01&to=2026-01-01"), &admin).await.error_fields(), ["from"]);
        assert_eq!(srv.get(&q("bucket=day"), &admin).await.error_fields(), ["bucket"]);
        assert_eq!(srv.get(&q("asset_id=999999"), &admin).await.error_fields(), ["asset_id"]);
        assert_eq!(srv.get(&q("location_id=999999"), &admin).await.error_fields(), ["location_id"]);
        assert_eq!(srv.get(&q("from=2000-01-01&to=2026-01-01"), &admin).await.error_fields(), ["to"]);
        assert_eq!(srv.get(&q("from=yesterday"), &admin).await.status, 422);
        let staff = srv.user_token(&admin, "planner", "staff").await;
        assert_eq!(srv.get(&q(""), &staff).await.status, 200);
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        assert_eq!(srv.get(&q(""), &guest).await.status, 403);
    }
}

//! Current WIP across orders and work centers (API and page), scrap within the quantity,
//! the board naming who recorded; on both engines.

use nexus_server::backend_tests;
use serde_json::json;

use crate::api::record;

backend_tests! {
    async fn wip_is_listed_across_orders_and_work_centers(srv) {
        let admin = srv.admin_token().await;
        let olga = srv.user_token(&admin, "olga", "user").await;
        for (order, wc, qty, ty) in [("PO-A", 1, 10, "IN"), ("PO-A", 1, 4, "OUT"), ("PO-B", 2, 7, "IN"),
                                     ("PO-C", 1, 3, "IN"), ("PO-C", 1, 3, "OUT"), ("po-a2", 2, 1, "IN")] {
            let res = record(srv, &olga, order, wc, qty, ty).await;
            assert_eq!(res.status, 201, "{order}: {:?}", res.json);
        }
        let all = srv.get("/api/v1/wip", &olga).await;
        assert_eq!(all.status, 200, "{:?}", all.json);
        let rows: Vec<(String, i64, i64)> = all.json["items"].as_array().unwrap().iter()
            .map(|w| (w["production_order"].as_str().unwrap().to_string(), w["workcenter_id"].as_i64().unwrap(), w["wip"].as_i64().unwrap()))
            .collect();
        assert_eq!(rows, [("PO-A".into(), 1, 6), ("PO-B".into(), 2, 7), ("po-a2".into(), 2, 1)], "finished orders leave the list");
        assert_eq!(all.json["total"], 3);
        let wc2 = srv.get("/api/v1/wip?workcenter_id=2&limit=1", &olga).await;
        assert_eq!((wc2.json["total"].as_u64(), wc2.json["items"].as_array().unwrap().len()), (Some(2), 1));
        let named = srv.get("/api/v1/wip?production_order=po-a", &olga).await;
        assert_eq!(named.json["total"], 2, "ignoring case: {:?}", named.json);
        assert_eq!(srv.get("/api/v1/wip?workcenter_id=x", &olga).await.status, 422);
        assert_eq!(srv.call("GET", "/api/v1/wip", None, None).await.status, 401);

        let (status, html) = srv.page("/production/wip?workcenter_id=1", &olga).await;
        assert_eq!(status, 200);
        assert!(html.contains("<strong>PO-A</strong>") && !html.contains("PO-B"), "{html}");
        assert!(html.contains("1 order in progress, 6 units on this page."), "{html}");
        let (status, html) = srv.page("/production/wip?workcenter_id=zz", &olga).await;
        assert_eq!(status, 422);
        assert!(html.contains("choose a work center from the list") || html.contains("Choose a work center from the list"), "{html}");

        // The board says who recorded, by name.
        let (_, html) = srv.page("/production/board", &olga).await;
        assert!(html.contains("<td>olga</td>"), "{html}");
    }

    async fn scrap_cannot_exceed_the_quantity_moved(srv) {
        let admin = srv.admin_token().await;
        let body = json!({"production_order": "PO-S", "workcenter_id": 1, "quantity": 5, "order_type": "IN", "scrap_quantity": 50});
        let res = srv.post("/api/v1/production-orders", &admin, body).await;
        assert_eq!(res.status, 422, "{:?}", res.json);
        assert_eq!(res.error_fields(), ["scrap_quantity"]);
        assert_eq!(srv.get("/api/v1/wip", &admin).await.json["total"], 0, "nothing recorded");
        let body = json!({"production_order": "PO-S", "workcenter_id": 1, "quantity": 5, "order_type": "IN", "scrap_quantity": 5});
        assert_eq!(srv.post("/api/v1/production-orders", &admin, body).await.status, 201);
    }
}

//! Telemetry on the home page: the unresolved alerts by severity, worst first.

use std::collections::HashMap;

use nexus_core::auth::BoxFuture;
use nexus_core::home::{Count, Home, Row, Tone, Want, Widget};
use nexus_core::{ApiResult, AppState, CurrentUser};
use nexus_maintenance::entity::asset;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::metric_alert;

/// Alerts the panel lists at most.
const ROWS: u64 = 6;

/// The alerts panel and the events that change it.
pub const HOME: Home = Home {
    widgets,
    about,
    events: &[
        "alert.opened",
        "alert.escalated",
        "alert.acknowledged",
        "alert.resolved",
    ],
};

/// The alerts panel, for whoever may read telemetry.
fn widgets<'a>(
    state: &'a AppState,
    user: &'a CurrentUser,
    want: Want,
) -> BoxFuture<'a, ApiResult<Vec<Widget>>> {
    Box::pin(async move {
        if !user.can("telemetry:read") {
            return Ok(Vec::new());
        }
        Ok(vec![alerts(state, want).await?])
    })
}

/// An asset's unresolved alerts, for its page.
fn about<'a>(
    state: &'a AppState,
    user: &'a CurrentUser,
    entity_type: &'a str,
    id: i64,
) -> BoxFuture<'a, ApiResult<Vec<Row>>> {
    Box::pin(async move {
        if entity_type != "asset" || !user.can("telemetry:read") {
            return Ok(Vec::new());
        }
        use metric_alert::Column as C;
        let open = metric_alert::Entity::find()
            .filter(C::Status.ne("resolved"))
            .filter(C::AssetId.eq(id))
            .order_by_asc(C::Level)
            .order_by_desc(C::OpenedAt)
            .all(state.db.read())
            .await?;
        Ok(open.into_iter().map(|a| alert_row(a, None)).collect())
    })
}

/// An unresolved alert as a line: the asset's name (when the line is not on its page),
/// the metric, level and reading.
fn alert_row(a: metric_alert::Model, asset: Option<&str>) -> Row {
    let critical = a.level == "critical";
    let metric = match asset {
        Some(name) => format!("{name}: {}", a.metric_name),
        None => a.metric_name.clone(),
    };
    let level = if critical { "Critical" } else { "Warning" };
    let acknowledged = if a.status == "acknowledged" {
        ", acknowledged"
    } else {
        ""
    };
    Row {
        href: format!("/alerts?asset_id={}", a.asset_id),
        label: format!("{level} alert: {metric}"),
        detail: format!("Reading {}{acknowledged}", a.value),
        tone: if critical {
            Tone::Critical
        } else {
            Tone::Warning
        },
    }
}

async fn alerts(state: &AppState, want: Want) -> ApiResult<Widget> {
    use metric_alert::Column as C;
    let db = state.db.read();
    let unresolved = || metric_alert::Entity::find().filter(C::Status.ne("resolved"));
    let critical = unresolved()
        .filter(C::Level.eq("critical"))
        .count(db)
        .await?;
    let warning = unresolved()
        .filter(C::Level.eq("warning"))
        .count(db)
        .await?;
    // Critical before warning, open before acknowledged, newest first.
    let worst = want
        .rows(
            unresolved()
                .order_by_asc(C::Level)
                .order_by_desc(C::Status)
                .order_by_desc(C::OpenedAt)
                .limit(ROWS)
                .all(db),
        )
        .await?;
    let ids: Vec<i64> = worst.iter().map(|a| a.asset_id).collect();
    let names: HashMap<i64, String> = want
        .rows(
            asset::Entity::find()
                .filter(asset::Column::Id.is_in(ids))
                .all(db),
        )
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let rows = worst
        .into_iter()
        .map(|a| {
            let asset = names
                .get(&a.asset_id)
                .cloned()
                .unwrap_or_else(|| format!("Asset {}", a.asset_id));
            alert_row(a, Some(&asset))
        })
        .collect();
    Ok(Widget {
        title: "Alerts".into(),
        rank: 0,
        counts: vec![
            Count::new(
                "alerts.critical",
                "Critical alerts",
                critical,
                "/alerts?level=critical",
                Tone::Critical,
            )
            .on_nav("/alerts"),
            Count::new(
                "alerts.warning",
                "Warnings",
                warning,
                "/alerts?level=warning",
                Tone::Warning,
            ),
        ],
        rows,
        empty: "No alert is open.".into(),
        links: vec![("/alerts".into(), "All alerts".into())],
    })
}

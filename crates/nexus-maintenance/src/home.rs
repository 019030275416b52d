//! Maintenance on the home page: a technician's work for today and what is overdue, new
//! requests, a manager's backlog and availability, parts to reorder.

use chrono::TimeDelta;
use nexus_core::auth::BoxFuture;
use nexus_core::home::{Count, Home, Row, Tone, Want, Widget, nothing_about};
use nexus_core::{ApiResult, AppState, CurrentUser, Timestamp};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{part, work_order, work_request};
use crate::model::{KpiFigures, OPEN_STATUSES};
use crate::service;

/// Rows a panel lists at most; its counts say how many there are in all.
const ROWS: u64 = 6;

/// The maintenance panels and the events that change them.
pub const HOME: Home = Home {
    widgets,
    about: nothing_about,
    events: &[
        "work_order.created",
        "work_order.updated",
        "work_order.status_changed",
        "work_request.created",
        "work_request.updated",
        "part.low_stock",
    ],
};

/// The maintenance panels `user` may see.
fn widgets<'a>(
    state: &'a AppState,
    user: &'a CurrentUser,
    want: Want,
) -> BoxFuture<'a, ApiResult<Vec<Widget>>> {
    Box::pin(async move {
        let mut out = Vec::new();
        if user.can("work_orders:read") {
            out.push(my_work(state, user, want).await?);
        }
        if user.can("maintenance_kpis:read") {
            out.push(backlog(state, want).await?);
        }
        if user.can("parts:read") {
            out.push(reorder(state, want).await?);
        }
        Ok(out)
    })
}

/// Today's date at the plant, as work orders store due dates.
fn today() -> String {
    nexus_core::plant::today().to_string()
}

/// Open work orders: open, in progress or on hold.
fn open() -> Condition {
    Condition::all().add(work_order::Column::Status.is_in(OPEN_STATUSES))
}

/// The signed-in user's open work orders due by today (overdue first), and the counts of a
/// technician's day: their open orders, all overdue orders, new requests.
async fn my_work(state: &AppState, user: &CurrentUser, want: Want) -> ApiResult<Widget> {
    let db = state.db.read();
    let today = today();
    let mine = open().add(work_order::Column::AssignedToId.eq(user.id()));
    let my_open = work_order::Entity::find()
        .filter(mine.clone())
        .count(db)
        .await?;
    let overdue = work_order::Entity::find()
        .filter(open().add(work_order::Column::DueDate.lt(today.as_str())))
        .count(db)
        .await?;
    let requests = work_request::Entity::find()
        .filter(work_request::Column::Status.eq("pending"))
        .count(db)
        .await?;
    let due = want
        .rows(
            work_order::Entity::find()
                .filter(mine.add(work_order::Column::DueDate.lte(today.as_str())))
                .order_by_asc(work_order::Column::DueDate)
                .order_by_asc(work_order::Column::Id)
                .limit(ROWS)
                .all(db),
        )
        .await?;
    let rows = due
        .into_iter()
        .map(|w| {
            let late = w.due_date.as_deref().is_some_and(|d| d < today.as_str());
            Row {
                href: format!("/maintenance/work-orders/{}", w.id),
                label: format!("{} {}", w.number, w.title),
                detail: if late {
                    format!("Overdue since {}", w.due_date.unwrap_or_default())
                } else {
                    "Due today".into()
                },
                tone: if late { Tone::Warning } else { Tone::Notice },
            }
        })
        .collect();
    Ok(Widget {
        title: "My work".into(),
        rank: 10,
        counts: vec![
            Count::new(
                "work_orders.mine",
                "My open work orders",
                my_open,
                "/maintenance/work-orders?assigned=me",
                Tone::Notice,
            )
            .on_nav("/maintenance/work-orders"),
            Count::new(
                "work_orders.overdue",
                "Overdue work orders",
                overdue,
                "/maintenance/work-orders?overdue=1",
                Tone::Warning,
            ),
            Count::new(
                "requests.pending",
                "New requests",
                requests,
                "/maintenance/requests",
                Tone::Notice,
            )
            .on_nav("/maintenance/requests"),
        ],
        rows,
        empty: "Nothing of yours is due today.".into(),
        links: [
            Some(("/maintenance/work-orders?assigned=me", "All my work orders")),
            user.can("work_orders:write")
                .then_some(("/maintenance/work-orders/new", "New work order")),
        ]
        .into_iter()
        .flatten()
        .map(|(href, label)| (href.into(), label.into()))
        .collect(),
    })
}

/// A manager's view: the backlog, availability and failures over the last seven days.
async fn backlog(state: &AppState, want: Want) -> ApiResult<Widget> {
    let db = state.db.read();
    let to = nexus_core::plant::today();
    let open_count = work_order::Entity::find().filter(open()).count(db).await?;
    let week = if want == Want::Counts {
        KpiFigures::default()
    } else {
        service::downtime_figures(db, to - TimeDelta::days(6), to, Timestamp::now()).await?
    };
    let availability = week
        .availability
        .map(|a| format!("{:.1} %", a * 100.0))
        .unwrap_or_else(|| "no assets in service".into());
    Ok(Widget {
        title: "Maintenance".into(),
        rank: 30,
        counts: vec![Count::new(
            "work_orders.open",
            "Open work orders",
            open_count,
            "/maintenance/work-orders",
            Tone::Notice,
        )],
        rows: vec![
            Row {
                href: "/maintenance/kpis".into(),
                label: "Availability, last 7 days".into(),
                detail: format!(
                    "{availability}, {:.1} asset-hours down",
                    week.downtime_hours
                ),
                tone: match week.availability {
                    Some(a) if a < 0.9 => Tone::Warning,
                    _ => Tone::Calm,
                },
            },
            Row {
                href: "/maintenance/kpis".into(),
                label: "Failures, last 7 days".into(),
                detail: week.failures.to_string(),
                tone: if week.failures > 0 {
                    Tone::Notice
                } else {
                    Tone::Calm
                },
            },
        ],
        empty: String::new(),
        links: vec![("/maintenance/kpis".into(), "Maintenance KPIs".into())],
    })
}

/// Parts at or below their reorder point.
async fn reorder(state: &AppState, want: Want) -> ApiResult<Widget> {
    let db = state.db.read();
    let low = Condition::all()
        .add(part::Column::ReorderPoint.is_not_null())
        .add(Expr::col(part::Column::QuantityInStock).lte(Expr::col(part::Column::ReorderPoint)));
    let count = part::Entity::find().filter(low.clone()).count(db).await?;
    let parts = want
        .rows(
            part::Entity::find()
                .filter(low)
                .order_by_asc(part::Column::Name)
                .limit(ROWS)
                .all(db),
        )
        .await?;
    Ok(Widget {
        title: "Parts to reorder".into(),
        rank: 40,
        counts: vec![
            Count::new(
                "parts.low",
                "Parts at or below their reorder point",
                count,
                "/maintenance/parts?low=on",
                Tone::Warning,
            )
            .on_nav("/maintenance/parts"),
        ],
        rows: parts
            .into_iter()
            .map(|p| Row {
                href: format!("/maintenance/parts/{}", p.id),
                detail: format!(
                    "{} in stock, reorder at {}",
                    p.quantity_in_stock,
                    p.reorder_point.unwrap_or_default()
                ),
                label: p.name,
                tone: Tone::Warning,
            })
            .collect(),
        empty: "Every part is above its reorder point.".into(),
        links: vec![("/maintenance/parts".into(), "All parts".into())],
    })
}

//! How comms hears the other domains: their events that concern a person become
//! notifications (through [`notify_users`]) and follows; a background pass reminds
//! assignees of what is due tomorrow. Nothing here is called by another domain.

use std::sync::Arc;
use std::time::Duration;

use nexus_core::audit::{self, AuditCtx};
use nexus_core::db::stmt;
use nexus_core::domain::record_page;
use nexus_core::events::{Event, on_local};
use nexus_core::jobs::{self, Job};
use nexus_core::write::Work;
use nexus_core::{ApiResult, AppState};
use nexus_identity::entity::user;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

use super::follows::{follow, followers, forget, unfollow_others};
use super::notifications::{NewNotification, notify_users};
use crate::model::*;

/// The events comms listens to.
const HEARD: &[&str] = &[
    "work_order.created",
    "work_order.assigned",
    "work_order.comment_added",
    "work_request.created",
    "alert.opened",
    "alert.escalated",
    "part.created",
    "part.deleted",
    "part.low_stock",
    "activity",
    "task",
    "project",
];

/// How often the due-tomorrow pass runs.
const DUE_PASS: Duration = Duration::from_secs(600);

/// Starts listening, and the due-tomorrow pass.
pub fn start(state: &AppState) {
    let s = state.clone();
    on_local(&state.events, HEARD, move |batch| {
        let s = s.clone();
        async move { react_all(&s, &batch).await }
    });
    let job = Job {
        name: "comms.due_tomorrow",
        every: DUE_PASS,
        once_across_nodes: true,
        at_start: true,
    };
    jobs::every(state, job, |s| async move { remind_due(&s).await });
}

/// The page of record `id` of `entity`, as the domain showing it declares.
fn page(state: &AppState, entity: &str, id: i64) -> String {
    record_page(state.registry, entity, id)
        .map(|(_, href)| href)
        .unwrap_or_else(|| "/notifications".into())
}

fn int(data: &Value, field: &str) -> Option<i64> {
    data.get(field).and_then(Value::as_i64)
}

fn text<'a>(data: &'a Value, field: &str) -> &'a str {
    data.get(field).and_then(Value::as_str).unwrap_or("")
}

/// A notification about record `entity` `id`, shown at `link`.
fn about(
    kind: &'static str,
    r#type: &'static str,
    title: String,
    message: String,
    (entity, id, link): (&str, i64, String),
) -> NewNotification {
    NewNotification {
        kind,
        r#type,
        title,
        message,
        entity_type: Some(entity.into()),
        entity_id: Some(id),
        link: Some(link),
    }
}

/// What someone is called in a message: their username, or "Someone" for the system.
async fn name_of(conn: &impl ConnectionTrait, id: Option<i64>) -> ApiResult<String> {
    let Some(id) = id else {
        return Ok("The system".into());
    };
    let name: Option<String> = user::Entity::find_by_id(id)
        .select_only()
        .column(user::Column::Username)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(name.unwrap_or_else(|| "Someone".into()))
}

/// The `name` of row `id` of `table` (a constant of this module, never input).
async fn record_name(conn: &impl ConnectionTrait, table: &str, id: i64) -> ApiResult<String> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(stmt(
            backend,
            &format!("SELECT name FROM {table} WHERE id = $1"),
            vec![id.into()],
        ))
        .await?;
    Ok(row
        .and_then(|r| r.try_get::<String>("", "name").ok())
        .unwrap_or_else(|| format!("#{id}")))
}

/// The audit row of the change `e` announced: the newest of its record written before
/// the event, holding who made it and the state before.
async fn change_of(conn: &impl ConnectionTrait, e: &Event) -> ApiResult<(Option<i64>, Value)> {
    use audit::entity::{Column, Entity};
    let row = Entity::find()
        .filter(Column::EntityType.eq(e.entity.as_str()))
        .filter(Column::EntityId.eq(e.id))
        .filter(Column::CreatedAt.lte(e.at))
        .order_by_desc(Column::Id)
        .one(conn)
        .await?;
    Ok(row
        .map(|r| {
            let before = r
                .previous_state
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or(Value::Null);
            (r.actor_id, before)
        })
        .unwrap_or((None, Value::Null)))
}

/// Whether the update `e` announces left who is on the record as it was (the overdue
/// sweep changing thousands of statuses, say): then there is nothing to follow or tell,
/// and the writer is not taken. Told by the event itself, so a flood costs no reads.
fn same_people(e: &Event) -> bool {
    let fields: &[&str] = match e.kind.as_str() {
        "activity.updated" => &["assigned_to_id"],
        "task.updated" => &["assignee_id"],
        "project.updated" => &["manager_id", "team"],
        _ => return false,
    };
    e.left_alone(fields)
}

/// Answers a batch of events in one transaction; when that fails, each event in its own,
/// so one that cannot be answered costs only its own notifications.
async fn react_all(state: &AppState, batch: &[Arc<Event>]) {
    let batch: Vec<&Event> = batch
        .iter()
        .map(|e| &**e)
        .filter(|e| !same_people(e))
        .collect();
    if batch.is_empty() || react_in_one(state, &batch).await.is_ok() {
        return;
    }
    for e in batch {
        if let Err(err) = react_in_one(state, &[e]).await {
            tracing::warn!(error = %err, event = %e.kind, id = e.id, "no notification for an event");
        }
    }
}

/// Follows and notifications for `events`, in one transaction.
async fn react_in_one(state: &AppState, events: &[&Event]) -> ApiResult<()> {
    let ctx = AuditCtx::default();
    let mut work = Work::begin(state, &ctx).await?;
    for e in events {
        react(state, &mut work, e).await?;
    }
    work.commit().await
}

/// Follows and notifications for event `e`, written in `work`.
async fn react(state: &AppState, work: &mut Work<'_>, e: &Event) -> ApiResult<()> {
    let d = &e.data;
    match e.kind.as_str() {
        "work_order.created" => {
            if let Some(creator) = int(d, "created_by") {
                follow(&**work, &[creator], "work_order", e.id, "created").await?;
                if let Some(asset) = int(d, "asset_id") {
                    follow(&**work, &[creator], "asset", asset, "work_order").await?;
                }
            }
        }
        "work_order.assigned" => {
            let number = text(d, "number");
            let what = format!("work order {number} \"{}\"", text(d, "title"));
            let link = page(state, "work_order", e.id);
            if let (Some(assignee), Some(asset)) = (int(d, "assigned_to_id"), int(d, "asset_id")) {
                follow(&**work, &[assignee], "asset", asset, "work_order").await?;
            }
            assigned(work, e, "assigned_to_id", WORK_ORDER_ASSIGNED, &what, link).await?;
        }
        "activity.created" | "activity.updated" => {
            let what = format!("activity \"{}\"", text(d, "title"));
            let link = page(state, "activity", e.id);
            assigned(work, e, "assigned_to_id", ACTIVITY_ASSIGNED, &what, link).await?;
        }
        "task.created" | "task.updated" => {
            let what = format!("task \"{}\"", text(d, "title"));
            let link = page(state, "task", e.id);
            assigned(work, e, "assignee_id", TASK_ASSIGNED, &what, link).await?;
        }
        "project.created" | "project.updated" => {
            let manager: Vec<i64> = int(d, "manager_id").into_iter().collect();
            let team: Vec<i64> = d
                .get("team")
                .and_then(Value::as_array)
                .map(|t| t.iter().filter_map(|m| int(m, "user_id")).collect())
                .unwrap_or_default();
            follow(&**work, &manager, "project", e.id, "manager").await?;
            follow(&**work, &team, "project", e.id, "member").await?;
            unfollow_others(&**work, "project", e.id, "manager", &manager).await?;
            unfollow_others(&**work, "project", e.id, "member", &team).await?;
        }
        "activity.deleted" | "task.deleted" | "project.deleted" | "part.deleted" => {
            forget(&**work, &e.entity, e.id).await?;
        }
        "work_order.comment_added" => mentioned(state, work, e).await?,
        "work_request.created" => {
            let Some(asset) = int(d, "asset_id") else {
                return Ok(());
            };
            let users = followers(&**work, "asset", asset).await?;
            let name = record_name(&**work, "assets", asset).await?;
            let n = about(
                REQUEST_ON_ASSET,
                "info",
                format!("New request on {name}"),
                format!(
                    "{} asked for work on {name}: \"{}\".",
                    text(d, "requester_name"),
                    text(d, "title")
                ),
                ("work_request", e.id, "/maintenance/requests".into()),
            );
            notify_users(work, &users, &n).await?;
        }
        "alert.opened" | "alert.escalated" => {
            let Some(asset) = int(d, "asset_id") else {
                return Ok(());
            };
            let users = followers(&**work, "asset", asset).await?;
            let name = record_name(&**work, "assets", asset).await?;
            let level = text(d, "level");
            let metric = text(d, "metric_name");
            let happened = if e.kind == "alert.opened" {
                "raised"
            } else {
                "escalated to critical"
            };
            let value = d.get("value").and_then(Value::as_f64).unwrap_or_default();
            let n = about(
                ALERT_RAISED,
                if level == "critical" {
                    "alert"
                } else {
                    "warning"
                },
                format!("Alert {happened} on {name}: {metric}"),
                format!("A {level} alert on {metric} of {name} was {happened} (reading {value})."),
                ("alert", e.id, format!("/assets/{asset}/metrics")),
            );
            notify_users(work, &users, &n).await?;
        }
        "part.created" => {
            let (actor, _) = change_of(&**work, e).await?;
            follow(
                &**work,
                &actor.into_iter().collect::<Vec<_>>(),
                "part",
                e.id,
                "created",
            )
            .await?;
        }
        "part.low_stock" => {
            let users = followers(&**work, "part", e.id).await?;
            let n = about(
                PART_LOW_STOCK,
                "warning",
                format!("{} is running low", text(d, "name")),
                format!(
                    "{} ({}) is down to {} in stock; its reorder point is {}.",
                    text(d, "name"),
                    text(d, "sku"),
                    int(d, "quantity_in_stock").unwrap_or_default(),
                    int(d, "reorder_point").unwrap_or_default()
                ),
                ("part", e.id, page(state, "part", e.id)),
            );
            notify_users(work, &users, &n).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The assignee (`field`) of the record `e` is about follows it, and is told when it was
/// given to them by someone else; whoever it was taken away from stops following it.
async fn assigned(
    work: &mut Work<'_>,
    e: &Event,
    field: &str,
    kind: &'static str,
    what: &str,
    link: String,
) -> ApiResult<()> {
    let assignee = int(&e.data, field);
    let keep: Vec<i64> = assignee.into_iter().collect();
    follow(&**work, &keep, &e.entity, e.id, "assigned").await?;
    unfollow_others(&**work, &e.entity, e.id, "assigned", &keep).await?;
    let (actor, before) = change_of(&**work, e).await?;
    let Some(to) = assignee else {
        return Ok(());
    };
    if int(&before, field) == Some(to) || actor == Some(to) {
        return Ok(());
    }
    let by = name_of(&**work, actor).await?;
    let n = about(
        kind,
        "info",
        format!("You were assigned {what}"),
        format!("{by} assigned {what} to you."),
        (&e.entity, e.id, link),
    );
    notify_users(work, &[to], &n).await
}

/// The usernames `@named` in `content`.
fn mentions(content: &str) -> Vec<String> {
    let mut names: Vec<String> = content
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '@' | '_' | '.' | '-')))
        .filter_map(|w| w.strip_prefix('@'))
        .map(|w| w.trim_end_matches(['.', '-']).to_string())
        .filter(|w| !w.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Tells the users `@named` in a work order comment, except its author.
async fn mentioned(state: &AppState, work: &mut Work<'_>, e: &Event) -> ApiResult<()> {
    let names = mentions(text(&e.data, "content"));
    if names.is_empty() {
        return Ok(());
    }
    let author = int(&e.data, "user_id");
    let users: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Username.is_in(names))
        .into_tuple::<i64>()
        .all(&**work)
        .await?
        .into_iter()
        .filter(|u| Some(*u) != author)
        .collect();
    let by = name_of(&**work, author).await?;
    let number = record_name_of_work_order(&**work, e.id).await?;
    let excerpt: String = text(&e.data, "content").chars().take(200).collect();
    let n = about(
        MENTION,
        "info",
        format!("{by} mentioned you on work order {number}"),
        format!("{by} wrote: \"{excerpt}\""),
        ("work_order", e.id, page(state, "work_order", e.id)),
    );
    notify_users(work, &users, &n).await
}

/// A work order's number (`WO-000123`).
async fn record_name_of_work_order(conn: &impl ConnectionTrait, id: i64) -> ApiResult<String> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT number FROM work_orders WHERE id = $1",
            vec![id.into()],
        ))
        .await?;
    Ok(row
        .and_then(|r| r.try_get::<String>("", "number").ok())
        .unwrap_or_else(|| format!("#{id}")))
}

/// Something of one assignee due tomorrow that they were not reminded of yet.
#[derive(sea_orm::FromQueryResult)]
struct Due {
    id: i64,
    title: String,
    user_id: i64,
}

/// Reminds the assignees of activities ending and tasks due tomorrow (a day at the plant,
/// in its time zone), once each; run by one node at a time (`comms.due_tomorrow`).
pub async fn remind_due(state: &AppState) -> ApiResult<()> {
    use sea_orm::FromQueryResult;
    let ctx = AuditCtx::default();
    let mut work = Work::begin(state, &ctx).await?;
    let backend = work.get_database_backend();
    let plant = state.plant.get();
    let tomorrow = plant.today() + chrono::Days::new(1);
    let from = plant.day_start(tomorrow);
    let to = plant.day_start(tomorrow + chrono::Days::new(1));
    let not_told = |entity: &str, alias: &str, user: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = {alias}.{user} \
             AND n.kind = '{DUE_TOMORROW}' AND n.entity_type = '{entity}' AND n.entity_id = {alias}.id)"
        )
    };
    let activities = Due::find_by_statement(stmt(
        backend,
        &format!(
            "SELECT a.id, a.title, a.assigned_to_id AS user_id FROM activities a \
             WHERE a.end_time >= $1 AND a.end_time < $2 AND a.status IN ('planned', 'in-progress') AND {}",
            not_told("activity", "a", "assigned_to_id")
        ),
        vec![from.0.into(), to.0.into()],
    ))
    .all(&*work)
    .await?;
    let tasks = Due::find_by_statement(stmt(
        backend,
        &format!(
            "SELECT t.id, t.title, t.assignee_id AS user_id FROM tasks t \
             WHERE t.due_date = $1 AND t.assignee_id IS NOT NULL \
             AND t.status NOT IN ('done', 'cancelled') AND {}",
            not_told("task", "t", "assignee_id")
        ),
        vec![tomorrow.format("%Y-%m-%d").to_string().into()],
    ))
    .all(&*work)
    .await?;
    let day = tomorrow.format("%A %-d %B");
    for (entity, noun, rows) in [
        ("activity", "Activity", activities),
        ("task", "Task", tasks),
    ] {
        for due in rows {
            let n = about(
                DUE_TOMORROW,
                "warning",
                format!("{noun} \"{}\" is due tomorrow", due.title),
                format!("{noun} \"{}\" is due tomorrow, {day}.", due.title),
                (entity, due.id, page(state, entity, due.id)),
            );
            notify_users(&mut work, &[due.user_id], &n).await?;
        }
    }
    work.commit().await
}

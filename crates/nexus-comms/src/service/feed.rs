//! The activity feed, derived from the audit trail rather than kept as a second copy: a
//! user's own entries (index on actor, id) and the entries of the records they follow
//! (index on entity type, id), merged newest first and paged by the entry's id.

use nexus_core::audit::entity as audit;
use nexus_core::domain::record_page;
use nexus_core::{ApiResult, AppState, CurrentUser, db::stmt};
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::model::{FeedItem, FeedPage, FeedQuery, FeedScope};

/// The most entries one page holds.
pub const MAX_FEED_PAGE: u64 = 100;

/// One page of `user`'s feed.
pub async fn page(state: &AppState, user: &CurrentUser, q: &FeedQuery) -> ApiResult<FeedPage> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_FEED_PAGE);
    let scope = q.scope.unwrap_or_default();
    let before = q.after.unwrap_or(i64::MAX);
    let mine = "SELECT a.* FROM audit_logs a WHERE a.actor_id = $1 AND a.id < $2 \
                ORDER BY a.id DESC LIMIT $3";
    // Changes by others: one's own show in the other half.
    let followed = "SELECT a.* FROM audit_logs a JOIN follows f \
                    ON f.entity_type = a.entity_type AND f.entity_id = a.entity_id \
                    WHERE f.user_id = $1 AND a.id < $2 \
                    AND (a.actor_id IS NULL OR a.actor_id <> $1) \
                    ORDER BY a.id DESC LIMIT $3";
    let sql = match scope {
        FeedScope::Mine => mine.to_string(),
        FeedScope::Following => followed.to_string(),
        FeedScope::All => format!(
            "SELECT * FROM (SELECT * FROM ({mine}) m UNION ALL SELECT * FROM ({followed}) f) t \
             ORDER BY id DESC LIMIT $3"
        ),
    };
    let db = state.db.read();
    let values = vec![user.id().into(), before.into(), (limit as i64).into()];
    let rows = audit::Entity::find()
        .from_raw_sql(stmt(state.db.backend(), &sql, values))
        .all(db)
        .await?;
    let names = nexus_identity::service::usernames(db, rows.iter().map(|r| r.actor_id)).await?;
    let next_after = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let items = rows
        .into_iter()
        .map(|r| {
            let actor = r.actor_id.and_then(|id| names.get(&id).cloned());
            item(state, user.id(), r, actor)
        })
        .collect();
    Ok(FeedPage { items, next_after })
}

/// An audit entry as the feed tells it.
fn item(state: &AppState, me: i64, r: audit::Model, actor: Option<String>) -> FeedItem {
    let parse = |s: &Option<String>| -> Value {
        s.as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Value::Null)
    };
    let (before, after) = (parse(&r.previous_state), parse(&r.new_state));
    let page = r
        .entity_id
        .and_then(|id| record_page(state.registry, &r.entity_type, id));
    let noun = page
        .as_ref()
        .map(|(noun, _)| noun.to_string())
        .unwrap_or_else(|| r.entity_type.replace('_', " "));
    let who = actor.clone().unwrap_or_else(|| "Nexus (automatic)".into());
    let description = match r.action.as_str() {
        "login" => format!("{who} signed in"),
        action => {
            let name = label(&after).or_else(|| label(&before));
            let what = match (name, r.entity_id) {
                (Some(name), _) => format!("{noun} “{name}”"),
                (None, Some(id)) => format!("{noun} #{id}"),
                (None, None) => noun.clone(),
            };
            format!("{who} {} {what}", past(action))
        }
    };
    FeedItem {
        id: r.id,
        activity_type: feed_type(&r.action, &r.entity_type),
        description,
        timestamp: r.created_at,
        mine: r.actor_id == Some(me),
        actor_id: r.actor_id,
        actor,
        target_type: r.entity_type,
        target_id: r.entity_id,
        link: page.map(|(_, href)| href),
        changed: changed(&before, &after),
    }
}

/// `WORK_ORDER_CREATED` and the like, as `001_fc7d4f68e8fe081f.txt` names them.
fn feed_type(action: &str, entity: &str) -> String {
    if action == "login" {
        return "LOGIN".into();
    }
    format!("{entity}_{}", past(action).replace(' ', "_")).to_uppercase()
}

/// The past tense of an audit action.
fn past(action: &str) -> String {
    match action {
        "create" => "created".into(),
        "update" => "updated".into(),
        "delete" => "deleted".into(),
        other => other.replace('_', " "),
    }
}

/// The name a record goes by in its state: title, name or username.
fn label(state: &Value) -> Option<String> {
    ["title", "name", "username"]
        .iter()
        .find_map(|k| state.get(k).and_then(Value::as_str))
        .map(str::to_string)
}

/// The top-level fields whose values differ between two states (updates only).
fn changed(before: &Value, after: &Value) -> Vec<String> {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return Vec::new();
    };
    let skip = ["version", "updated_at", "updated_by"];
    // serde_json's map keeps its keys sorted.
    a.iter()
        .filter(|(k, v)| !skip.contains(&k.as_str()) && b.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

//! Tags: unique by name regardless of case, with a colour and a category; put on
//! activities and tasks, and filtered on in their lists.

use std::collections::HashMap;

use nexus_core::audit::AuditCtx;
use nexus_core::events::Audience;
use nexus_core::extract::IfMatch;
use nexus_core::unique::ensure_free;
use nexus_core::write::{Work, delete_versioned, find_current, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, Timestamp, contains_pattern};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::entity::{activity_tag, tag, task_tag};
use crate::model::*;

/// The sample tags of the document, created on first start.
pub const SAMPLE_TAGS: [(&str, &str, &str); 5] = [
    ("Kaizen", "Continuous improvement initiative", "#16A34A"),
    ("RCA", "Root cause analysis required", "#DC2626"),
    ("CAPA", "Corrective/preventive action", "#EA580C"),
    (
        "Blocked",
        "Activity is waiting on input or dependency",
        "#6B7280",
    ),
    (
        "Recurring",
        "Happens regularly (daily, weekly, etc.)",
        "#2563EB",
    ),
];

pub(crate) fn tag_out(t: tag::Model) -> TagOut {
    TagOut {
        id: t.id,
        name: t.name,
        description: t.description,
        color: t.color,
        category: t.category,
        created_at: t.created_at,
        updated_at: t.updated_at,
        version: t.version,
    }
}

fn tag_ref(t: &tag::Model) -> TagRef {
    TagRef {
        id: t.id,
        name: t.name.clone(),
        color: t.color.clone(),
    }
}

/// Every tag (a plant has tens), sorted by name; filtered by part of the name or category.
pub async fn list_tags(
    conn: &impl ConnectionTrait,
    f: &TagFilter,
) -> ApiResult<ListResponse<TagOut>> {
    let mut q = tag::Entity::find().order_by_asc(tag::Column::Name);
    if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            Expr::expr(Func::lower(Expr::col(tag::Column::Name))).like(contains_pattern(s)),
        );
    }
    if let Some(c) = f
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        q = q.filter(tag::Column::Category.eq(c));
    }
    Ok(ListResponse::all(
        q.all(conn).await?.into_iter().map(tag_out).collect(),
    ))
}

pub async fn get_tag(conn: &impl ConnectionTrait, id: i64) -> ApiResult<TagOut> {
    tag::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(tag_out)
        .ok_or_else(|| ApiError::not_found("tag"))
}

async fn name_free(conn: &impl ConnectionTrait, name: &str, except: Option<i64>) -> ApiResult<()> {
    ensure_free::<tag::Entity, _>(
        conn,
        tag::Column::Name,
        tag::Column::Id,
        name,
        except,
        "name",
        format!("a tag named {name} exists"),
    )
    .await
}

/// Creates a tag. Errors: 422 naming the field, 409 when the name is taken (any case).
pub async fn create_tag(state: &AppState, ctx: &AuditCtx, new: NewTag) -> ApiResult<TagOut> {
    let d = new.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    name_free(&*work, &d.name, None).await?;
    let now = Timestamp::now();
    let row = tag::ActiveModel {
        name: Set(d.name),
        description: Set(d.description.unwrap_or_default()),
        color: Set(d.color.unwrap_or_default()),
        category: Set(d.category),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let out = tag_out(row);
    work.created("tag", out.id, &out, Audience::All).await?;
    work.commit().await?;
    Ok(out)
}

/// Changes a tag. Errors: 404, 412 stale, 422 naming the field, 409 name taken.
pub async fn update_tag(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: UpdateTag,
) -> ApiResult<TagOut> {
    let mut work = Work::begin(state, ctx).await?;
    let current = find_current::<tag::Entity, _>(&*work, id, if_match, "tag").await?;
    let mut d = NewTag {
        name: current.name.clone(),
        description: Some(current.description.clone()),
        color: Some(current.color.clone()),
        category: current.category.clone(),
    };
    req.apply(&mut d);
    let d = d.validate()?;
    name_free(&*work, &d.name, Some(id)).await?;
    let mut am: tag::ActiveModel = current.clone().into();
    am.name = Set(d.name);
    am.description = Set(d.description.unwrap_or_default());
    am.color = Set(d.color.unwrap_or_default());
    am.category = Set(d.category);
    am.updated_at = Set(Timestamp::now());
    let after = tag_out(update_versioned(&*work, am, current.version).await?);
    work.updated("tag", id, &tag_out(current), &after, Audience::All)
        .await?;
    work.commit().await?;
    Ok(after)
}

/// Deletes a tag; it leaves every activity and task it was on.
pub async fn delete_tag(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let current = find_current::<tag::Entity, _>(&*work, id, if_match, "tag").await?;
    activity_tag::Entity::delete_many()
        .filter(activity_tag::Column::TagId.eq(id))
        .exec(&*work)
        .await?;
    task_tag::Entity::delete_many()
        .filter(task_tag::Column::TagId.eq(id))
        .exec(&*work)
        .await?;
    delete_versioned::<tag::Entity, _>(&*work, id, current.version).await?;
    work.deleted("tag", id, &tag_out(current), Audience::All)
        .await?;
    work.commit().await
}

/// 422 on `field` unless every id in `ids` names a tag.
pub async fn check_tags(conn: &impl ConnectionTrait, ids: &[i64], field: &str) -> ApiResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let found: Vec<i64> = tag::Entity::find()
        .filter(tag::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    match ids.iter().find(|i| !found.contains(i)) {
        Some(missing) => Err(ApiError::invalid(field, format!("no tag has id {missing}"))),
        None => Ok(()),
    }
}

/// The tags of each activity in `ids`.
pub async fn activity_tags(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> ApiResult<HashMap<i64, Vec<TagRef>>> {
    let links = activity_tag::Entity::find()
        .filter(activity_tag::Column::ActivityId.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    let pairs = links.into_iter().map(|l| (l.activity_id, l.tag_id));
    tags_by_owner(conn, pairs.collect()).await
}

/// The tags of each task in `ids`.
pub async fn task_tags(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> ApiResult<HashMap<i64, Vec<TagRef>>> {
    let links = task_tag::Entity::find()
        .filter(task_tag::Column::TaskId.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    let pairs = links.into_iter().map(|l| (l.task_id, l.tag_id));
    tags_by_owner(conn, pairs.collect()).await
}

/// The tags of each owner in `pairs` (owner, tag), sorted by name.
async fn tags_by_owner(
    conn: &impl ConnectionTrait,
    pairs: Vec<(i64, i64)>,
) -> ApiResult<HashMap<i64, Vec<TagRef>>> {
    let tags = tag_refs(conn, pairs.iter().map(|p| p.1)).await?;
    let mut out: HashMap<i64, Vec<TagRef>> = HashMap::new();
    for (owner, tag_id) in pairs {
        if let Some(t) = tags.get(&tag_id) {
            out.entry(owner).or_default().push(t.clone());
        }
    }
    for list in out.values_mut() {
        list.sort_by_key(|t| t.name.to_lowercase());
    }
    Ok(out)
}

/// The chips of the tags `ids`, by id.
async fn tag_refs(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> ApiResult<HashMap<i64, TagRef>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(tag::Entity::find()
        .filter(tag::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .iter()
        .map(|t| (t.id, tag_ref(t)))
        .collect())
}

/// Creates the document's sample tags that no tag's name holds yet.
pub async fn ensure_sample_tags(conn: &impl ConnectionTrait) -> ApiResult<()> {
    let now = Timestamp::now();
    for (name, description, color) in SAMPLE_TAGS {
        let taken = tag::Entity::find()
            .filter(Expr::expr(Func::lower(Expr::col(tag::Column::Name))).eq(name.to_lowercase()))
            .one(conn)
            .await?
            .is_some();
        if !taken {
            tag::ActiveModel {
                name: Set(name.into()),
                description: Set(description.into()),
                color: Set(color.into()),
                category: Set(Some("Sample".into())),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                ..Default::default()
            }
            .insert(conn)
            .await?;
        }
    }
    Ok(())
}

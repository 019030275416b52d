//! Business rules of maintenance, one module per area, with the helpers they share:
//! event audiences, tree queries and reference checks. Every write goes through a
//! [`nexus_core::write::Work`].

pub mod archive;
mod assets;
mod downtime;
mod exchange;
mod inventory;
mod kpis;
mod parts_csv;
pub mod qr;
mod requests;
mod schedules;
pub mod seed;
mod work_orders;

pub use assets::*;
pub use downtime::*;
pub use exchange::*;
pub use inventory::*;
pub use kpis::*;
pub use parts_csv::*;
pub use requests::*;
pub use schedules::*;
pub use work_orders::*;

use nexus_core::db::stmt;
use nexus_core::events::Audience;
use nexus_core::{ApiError, ApiResult};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult};

/// Who hears of a change: the holders of its area's read permission.
pub(crate) fn readers(permission: &str) -> Audience {
    Audience::Permission(permission.into())
}

#[derive(FromQueryResult)]
pub(crate) struct Node {
    pub id: i64,
}

/// `root` and the ids of every row below it in `table` (linked by `parent`).
/// `table` and `parent` are constants of this crate, never user input.
pub(crate) async fn subtree(
    conn: &impl ConnectionTrait,
    table: &str,
    parent: &str,
    root: i64,
) -> ApiResult<Vec<i64>> {
    let sql = format!(
        "WITH RECURSIVE t(id) AS (SELECT id FROM {table} WHERE id = $1 \
           UNION ALL SELECT c.id FROM {table} c JOIN t ON c.{parent} = t.id) \
         SELECT id FROM t"
    );
    let nodes = Node::find_by_statement(stmt(conn.get_database_backend(), &sql, vec![root.into()]))
        .all(conn)
        .await?;
    Ok(nodes.into_iter().map(|n| n.id).collect())
}

/// 422 on `field` when `parent` is `id` itself or lies below it.
pub(crate) async fn refuse_cycle(
    conn: &impl ConnectionTrait,
    table: &str,
    parent_col: &str,
    id: i64,
    parent: Option<i64>,
    field: &str,
    message: &str,
) -> ApiResult<()> {
    let Some(p) = parent else { return Ok(()) };
    if subtree(conn, table, parent_col, id).await?.contains(&p) {
        return Err(ApiError::invalid(field, message));
    }
    Ok(())
}

/// 422 on `field` when `id` names no row of `E`.
pub(crate) async fn must_exist<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id: Option<i64>,
    field: &str,
    what: &str,
) -> ApiResult<()>
where
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    if let Some(id) = id
        && E::find_by_id(id).one(conn).await?.is_none()
    {
        return Err(ApiError::invalid(field, format!("no {what} has id {id}")));
    }
    Ok(())
}

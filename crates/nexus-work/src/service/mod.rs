//! Business rules of activities, tags, projects and tasks, one module per area, with what
//! they share: who may see an activity, and who hears of its changes. Every write goes
//! through a [`nexus_core::write::Work`].

mod activities;
mod calendar;
mod gantt;
mod my_work;
mod projects;
pub mod seed;
mod series;
mod tags;
mod tasks;

pub use activities::*;
pub use calendar::*;
pub use gantt::*;
pub use my_work::*;
pub use projects::*;
pub use series::*;
pub use tags::*;
pub use tasks::*;

use std::collections::HashMap;

use nexus_core::db::stmt;
use nexus_core::events::Audience;
use nexus_core::{ApiResult, CurrentUser};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult};

use crate::entity::activity;
use crate::model::ACTIVITIES_READ_ALL;

/// `column IN (SELECT pick FROM <link table> WHERE key = value)`: a filter through a link
/// table (an activity's tags, a project's members).
pub(crate) fn through<L: EntityTrait>(
    column: impl ColumnTrait,
    pick: L::Column,
    key: L::Column,
    value: i64,
) -> sea_orm::sea_query::Expr {
    column.in_subquery(
        sea_orm::sea_query::Query::select()
            .column(pick)
            .from(L::default())
            .and_where(key.eq(value))
            .to_owned(),
    )
}

/// The activities `user` may see: all of them with `activities:read_all`, else the ones
/// they created or are assigned to and those of the projects they manage or are on.
pub fn visible_activities(user: &CurrentUser) -> Option<Condition> {
    if user.can(ACTIVITIES_READ_ALL) {
        return None;
    }
    let me = user.id();
    Some(
        Condition::any()
            .add(activity::Column::AssignedToId.eq(me))
            .add(activity::Column::CreatedById.eq(me))
            .add(Expr::cust_with_values(
                "activities.id IN (SELECT pa.activity_id FROM project_activities pa \
                 WHERE pa.project_id IN (SELECT pm.project_id FROM project_members pm \
                 WHERE pm.user_id = $1 UNION SELECT p.id FROM projects p WHERE p.manager_id = $1))",
                [me],
            )),
    )
}

#[derive(FromQueryResult)]
struct Involved {
    activity_id: i64,
    user_id: i64,
}

/// Who hears of a change to an activity: its creator and assignee, the teams and managers
/// of its projects, and whoever sees every activity.
pub(crate) async fn activity_audience(
    conn: &impl ConnectionTrait,
    a: &activity::Model,
) -> ApiResult<Audience> {
    let mut all = activity_audiences(conn, std::slice::from_ref(a)).await?;
    Ok(all
        .remove(&a.id)
        .unwrap_or(Audience::Permission(ACTIVITIES_READ_ALL.into())))
}

/// [`activity_audience`] of each of `rows`, in one query.
pub(crate) async fn activity_audiences(
    conn: &impl ConnectionTrait,
    rows: &[activity::Model],
) -> ApiResult<HashMap<i64, Audience>> {
    let mut users: HashMap<i64, Vec<i64>> = rows
        .iter()
        .map(|a| (a.id, vec![a.assigned_to_id, a.created_by_id]))
        .collect();
    if !rows.is_empty() {
        let ids: Vec<String> = rows.iter().map(|a| a.id.to_string()).collect();
        let ids = ids.join(",");
        let sql = format!(
            "SELECT pa.activity_id AS activity_id, pm.user_id AS user_id FROM project_members pm \
               JOIN project_activities pa ON pa.project_id = pm.project_id \
               WHERE pa.activity_id IN ({ids}) \
             UNION SELECT pa.activity_id AS activity_id, p.manager_id AS user_id FROM projects p \
               JOIN project_activities pa ON pa.project_id = p.id WHERE pa.activity_id IN ({ids})"
        );
        for r in Involved::find_by_statement(stmt(conn.get_database_backend(), &sql, vec![]))
            .all(conn)
            .await?
        {
            users.entry(r.activity_id).or_default().push(r.user_id);
        }
    }
    Ok(users
        .into_iter()
        .map(|(id, mut users)| {
            users.sort_unstable();
            users.dedup();
            let audience = Audience::Involved {
                users,
                permission: ACTIVITIES_READ_ALL.into(),
            };
            (id, audience)
        })
        .collect())
}

//! The one write path. A service opens a [`Work`] (one transaction), makes its changes,
//! records each with [`Work::created`], [`Work::updated`], [`Work::deleted`] or
//! [`Work::record`] (the audit row now, the event queued) and commits; the events are
//! published only once the commit succeeded. [`update_versioned`] is how a versioned row
//! is written: over the version that was read, so a concurrent edit gets 412 instead of
//! being overwritten.

use std::ops::Deref;
use std::str::FromStr;

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend,
    DatabaseTransaction, EntityTrait, IntoActiveModel, PrimaryKeyTrait, QueryFilter,
    TransactionTrait,
};
use serde::Serialize;
use serde_json::Value;

use crate::audit::{self, AuditCtx};
use crate::error::{ApiError, ApiResult};
use crate::events::{Audience, Event, EventBus};
use crate::extract::IfMatch;
use crate::state::AppState;

/// A value as the JSON kept in audit rows and sent in events.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// One unit of work: a transaction, its audit rows and the events to publish after commit.
pub struct Work<'a> {
    txn: DatabaseTransaction,
    ctx: &'a AuditCtx,
    bus: &'a EventBus,
    events: Vec<Event>,
}

impl<'a> Work<'a> {
    /// Opens the transaction on the write connection.
    pub async fn begin(state: &'a AppState, ctx: &'a AuditCtx) -> ApiResult<Self> {
        Ok(Self {
            txn: state.db.write().begin().await?,
            ctx,
            bus: &state.events,
            events: Vec::new(),
        })
    }

    /// Who makes the change.
    pub fn ctx(&self) -> &AuditCtx {
        self.ctx
    }

    /// Audits `entity` `id` as created and queues `entity.created` with the new record.
    pub async fn created<T: Serialize>(
        &mut self,
        entity: &str,
        id: i64,
        after: &T,
        audience: Audience,
    ) -> ApiResult<()> {
        self.record("create", "created", entity, id, None, Some(after), audience)
            .await
    }

    /// Audits the change from `before` to `after` and queues `entity.updated` with `after`.
    pub async fn updated<T: Serialize>(
        &mut self,
        entity: &str,
        id: i64,
        before: &T,
        after: &T,
        audience: Audience,
    ) -> ApiResult<()> {
        self.record(
            "update",
            "updated",
            entity,
            id,
            Some(before),
            Some(after),
            audience,
        )
        .await
    }

    /// Audits the deletion and queues `entity.deleted` carrying the record as it was.
    pub async fn deleted<T: Serialize>(
        &mut self,
        entity: &str,
        id: i64,
        before: &T,
        audience: Audience,
    ) -> ApiResult<()> {
        self.record(
            "delete",
            "deleted",
            entity,
            id,
            Some(before),
            None,
            audience,
        )
        .await
    }

    /// Audits a change under `action` and queues `entity.<event>` carrying the new state
    /// (or the previous one when there is none).
    #[allow(clippy::too_many_arguments)]
    pub async fn record<T: Serialize>(
        &mut self,
        action: &str,
        event: &str,
        entity: &str,
        id: i64,
        before: Option<&T>,
        after: Option<&T>,
        audience: Audience,
    ) -> ApiResult<()> {
        let (before, after) = (before.map(to_json), after.map(to_json));
        // The audit row first: a listener finds it as written before the event.
        self.audit(action, entity, id, before.as_ref(), after.as_ref())
            .await?;
        let mut e = Event::new(entity, event, id, Value::Null, audience);
        if let (Some(b), Some(a)) = (&before, &after) {
            e = e.with_changes(b, a);
        }
        e.data = after.or(before).unwrap_or_default();
        self.emit(e);
        Ok(())
    }

    /// [`Work::updated`] for many records at once (a sweep over many rows): their audit
    /// rows in one statement, an `entity.updated` event each.
    pub async fn updated_all<T: Serialize>(
        &mut self,
        entity: &str,
        changes: Vec<(i64, T, T, Audience)>,
    ) -> ApiResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let now = crate::time::Timestamp::now();
        let changes: Vec<(i64, Value, Value, Audience)> = changes
            .into_iter()
            .map(|(id, before, after, audience)| (id, to_json(&before), to_json(&after), audience))
            .collect();
        let rows = changes
            .iter()
            .map(|(id, before, after, _)| audit::entity::ActiveModel {
                actor_id: sea_orm::ActiveValue::Set(self.ctx.actor_id),
                action: sea_orm::ActiveValue::Set("update".into()),
                entity_type: sea_orm::ActiveValue::Set(entity.into()),
                entity_id: sea_orm::ActiveValue::Set(Some(*id)),
                previous_state: sea_orm::ActiveValue::Set(Some(before.to_string())),
                new_state: sea_orm::ActiveValue::Set(Some(after.to_string())),
                ip_address: sea_orm::ActiveValue::Set(self.ctx.ip.clone()),
                user_agent: sea_orm::ActiveValue::Set(self.ctx.user_agent.clone()),
                created_at: sea_orm::ActiveValue::Set(now),
                ..Default::default()
            });
        audit::entity::Entity::insert_many(rows)
            .exec(&self.txn)
            .await?;
        for (id, before, after, audience) in changes {
            let e = Event::new(entity, "updated", id, after.clone(), audience);
            self.emit(e.with_changes(&before, &after));
        }
        Ok(())
    }

    /// Writes the audit row of a change whose event differs from it (or has none). Id 0
    /// names a record that is one of a kind (settings): audited without an id.
    pub async fn audit<T: Serialize>(
        &self,
        action: &str,
        entity: &str,
        id: i64,
        before: Option<&T>,
        after: Option<&T>,
    ) -> ApiResult<()> {
        audit::record(
            &self.txn,
            self.ctx,
            action,
            entity,
            (id != 0).then_some(id),
            before.map(to_json),
            after.map(to_json),
        )
        .await
    }

    /// Queues an event that has no audit row of its own (a derived notice, say).
    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Commits, then publishes the queued events in order.
    pub async fn commit(self) -> ApiResult<()> {
        self.txn.commit().await?;
        for event in self.events {
            self.bus.publish(event);
        }
        Ok(())
    }
}

impl Deref for Work<'_> {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// The row `id` of `E`, or 404 naming `what`; 412 when the client's `If-Match` is stale.
pub async fn find_current<E, C>(
    conn: &C,
    id: i64,
    if_match: IfMatch,
    what: &str,
) -> ApiResult<E::Model>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
    C: ConnectionTrait,
{
    let row = E::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(what))?;
    if_match.check(version_of::<E>(&row)?)?;
    Ok(row)
}

fn version_column<E: EntityTrait>() -> ApiResult<E::Column> {
    E::Column::from_str("version").map_err(|_| {
        ApiError::internal(format!(
            "{} has no version column",
            E::default().table_name()
        ))
    })
}

/// The `version` of a row of a versioned entity.
pub fn version_of<E: EntityTrait>(row: &E::Model) -> ApiResult<i32> {
    use sea_orm::ModelTrait;
    match row.get(version_column::<E>()?) {
        sea_orm::Value::Int(Some(v)) => Ok(v),
        sea_orm::Value::BigInt(Some(v)) => i32::try_from(v).map_err(ApiError::internal),
        other => Err(ApiError::internal(format!("version is {other:?}"))),
    }
}

/// Writes `am` only where the row still has version `read` (the one the change was
/// computed from), setting `read + 1`; 412 when another write got there first.
pub async fn update_versioned<A, C>(
    conn: &C,
    mut am: A,
    read: i32,
) -> ApiResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    C: ConnectionTrait,
{
    let version = version_column::<A::Entity>()?;
    am.set(version, (read + 1).into());
    Ok(<A::Entity as EntityTrait>::update(am)
        .validate()?
        .filter(version.eq(read))
        .exec(conn)
        .await?)
}

/// Deletes row `id` of `E` only while it still has version `read`; 412 otherwise.
pub async fn delete_versioned<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    id: i64,
    read: i32,
) -> ApiResult<()> {
    let id_column =
        E::Column::from_str("id").map_err(|_| ApiError::internal("entity without an id column"))?;
    let deleted = E::delete_many()
        .filter(id_column.eq(id))
        .filter(version_column::<E>()?.eq(read))
        .exec(conn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(())
}

/// Serialises the transactions that check one invariant spanning rows ("at least one
/// active admin"): each takes the lock on row `id` of `table` first, so the second one
/// counts after the first committed. SQLite runs one writer at a time already.
/// `table` is a constant of the caller, never user input.
pub async fn lock_invariant<C: ConnectionTrait>(conn: &C, table: &str, id: i64) -> ApiResult<()> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute_raw(crate::db::stmt(
            DatabaseBackend::Postgres,
            &format!("SELECT id FROM {table} WHERE id = $1 FOR UPDATE"),
            vec![id.into()],
        ))
        .await?;
    }
    Ok(())
}

//! Case-insensitive uniqueness checks that answer 409 naming the field, before the
//! database's own unique constraint would answer with less to say.

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::{ApiError, ApiResult};

/// 409 on `field` with `message` when another row of `E` (not `except`) has `value` in
/// `column`, compared without regard to case.
pub async fn ensure_free<E, C>(
    conn: &C,
    column: E::Column,
    id_column: E::Column,
    value: &str,
    except: Option<i64>,
    field: &str,
    message: String,
) -> ApiResult<()>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut q =
        E::find().filter(Expr::expr(Func::lower(Expr::col(column))).eq(value.to_lowercase()));
    if let Some(id) = except {
        q = q.filter(id_column.ne(id));
    }
    if q.one(conn).await?.is_some() {
        return Err(ApiError::conflict_on(field, message));
    }
    Ok(())
}

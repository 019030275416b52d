//! Column and constraint shapes the migrations share.

use sea_orm_migration::prelude::*;

/// A BIGINT auto-increment primary key.
pub(crate) fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

/// `created_at`, `updated_at` (BIGINT microseconds) and `version` (from 1).
pub(crate) fn stamps<T: IntoIden + Copy>(
    t: &mut TableCreateStatement,
    created: T,
    updated: T,
    version: T,
) {
    t.col(ColumnDef::new(created).big_integer().not_null())
        .col(ColumnDef::new(updated).big_integer().not_null())
        .col(ColumnDef::new(version).integer().not_null().default(1));
}

/// A foreign key from `from.col` to `to.to_col`.
pub(crate) fn fk<A: IntoIden + Copy + 'static, B: IntoIden + Copy + 'static>(
    from: A,
    col: A,
    to: B,
    to_col: B,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, to_col)
        .to_owned()
}

/// An index named `name` on `cols` of `table`.
pub(crate) fn index<T: IntoIden + Copy + 'static>(
    table: T,
    name: &str,
    cols: &[T],
) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

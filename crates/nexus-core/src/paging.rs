//! Pagination and sorting shared by every list endpoint.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use std::str::FromStr;

use sea_orm::sea_query::{
    Alias, Asterisk, Expr, Query as SeaQuery, QueryStatementBuilder, SelectStatement, UnionType,
};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, Order, QueryOrder, QuerySelect,
    QueryTrait, Select,
};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;
/// Offsets past this page nothing in any table; larger ones are bounded to it, so no
/// arithmetic on them can overflow.
pub const MAX_OFFSET: u64 = 1 << 40;

/// `limit` (default 50, at most 500), `offset`, and `sort` (`field` or `-field`).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// A field name, `-` first for descending: `sort=-created_at`.
    pub sort: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> u64 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }

    pub fn offset(&self) -> u64 {
        self.offset.unwrap_or(0).min(MAX_OFFSET)
    }

    /// The sort field and direction; 422 when the field is not one of `allowed`.
    pub fn sort<'a>(
        &self,
        allowed: &[&'a str],
        default: (&'a str, bool),
    ) -> Result<(&'a str, bool), ApiError> {
        let Some(raw) = self
            .sort
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(default);
        };
        let (name, desc) = match raw.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (raw.trim_start_matches('+'), false),
        };
        allowed
            .iter()
            .find(|a| **a == name)
            .map(|a| (*a, desc))
            .ok_or_else(|| ApiError::invalid("sort", format!("can sort by {}", allowed.join(", "))))
    }
}

/// Matches counted past the page at most: counting every match of a broad filter over a
/// large table would read most of it on every request (counting 10,000 index entries was
/// half of a list request's cost); `COUNT_CAP` more than the page are still twenty pages
/// to page on, and the answer says the count stopped (`total_exact`).
pub const COUNT_CAP: u64 = 1_000;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    /// How many match; a lower bound when `total_exact` is false.
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
    /// False when counting stopped [`COUNT_CAP`] matches past the page.
    pub total_exact: bool,
}

impl<T> ListResponse<T> {
    /// The same page with each item turned into `U`.
    pub fn map<U>(mut self, f: impl FnMut(T) -> U) -> ListResponse<U> {
        let items = std::mem::take(&mut self.items).into_iter().map(f).collect();
        self.with(items)
    }

    /// The same page with its rows made, all at once, into what the API shows: names and
    /// tags read for the whole page in one query, say.
    pub async fn map_page<U, Fut>(
        mut self,
        f: impl FnOnce(Vec<T>) -> Fut,
    ) -> ApiResult<ListResponse<U>>
    where
        Fut: std::future::Future<Output = ApiResult<Vec<U>>>,
    {
        let items = f(std::mem::take(&mut self.items)).await?;
        Ok(self.with(items))
    }

    /// The same page holding `items` instead.
    fn with<U>(self, items: Vec<U>) -> ListResponse<U> {
        ListResponse {
            items,
            total: self.total,
            limit: self.limit,
            offset: self.offset,
            total_exact: self.total_exact,
        }
    }

    /// A page of a list counted to its end (`total` matches in all).
    pub fn page(items: Vec<T>, total: u64, page: &PageParams) -> Self {
        Self::counted(items, page, (total, true))
    }

    /// A page of a list whose count is `total`, exact or (counting stopped) a lower bound.
    pub fn counted(items: Vec<T>, page: &PageParams, (total, total_exact): (u64, bool)) -> Self {
        Self {
            items,
            total,
            limit: page.limit(),
            offset: page.offset(),
            total_exact,
        }
    }

    /// A complete list in one page (short, bounded lists such as roles).
    pub fn all(items: Vec<T>) -> Self {
        let total = items.len() as u64;
        Self {
            items,
            total,
            limit: total,
            offset: 0,
            total_exact: true,
        }
    }
}

/// One page of `query`, counted (up to [`COUNT_CAP`] past the page), sorted by the
/// requested key among `sorts` (each the name of a column of `E`), or `default` (name,
/// descending), ties broken by id.
pub async fn page_of<E, C>(
    conn: &C,
    query: Select<E>,
    page: &PageParams,
    sorts: &[&str],
    default: (&str, bool),
) -> ApiResult<ListResponse<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    page_into(conn, query.clone(), page, sorts, default, query).await
}

/// How many rows `query` matches as a list counts them: up to [`COUNT_CAP`] past `page`,
/// and whether that is all of them.
pub async fn count_of<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    query: Select<E>,
    page: &PageParams,
) -> ApiResult<(u64, bool)> {
    let cap = cap_of(page);
    let total = capped_count(conn, query, cap).await?;
    Ok((total, total < cap))
}

fn cap_of(page: &PageParams) -> u64 {
    page.offset() + page.limit() + COUNT_CAP
}

/// [`page_of`] with each row read as `M`: the entity's columns and those `query` adds
/// (names read with the rows, say). The list's count counts the rows of `counted` (usually
/// `query` itself; the links of one tag, say, when they count the same rows more cheaply),
/// in the page's own statement.
pub async fn page_into<E, L, C, M>(
    conn: &C,
    query: Select<E>,
    page: &PageParams,
    sorts: &[&str],
    default: (&str, bool),
    counted: Select<L>,
) -> ApiResult<ListResponse<M>>
where
    E: EntityTrait,
    L: EntityTrait,
    C: ConnectionTrait,
    M: FromQueryResult + Send + Sync,
{
    let (sort, desc) = page.sort(sorts, default)?;
    let column = |name: &str| {
        E::Column::from_str(name)
            .map_err(|_| ApiError::internal(format!("no column {name} to sort by")))
    };
    let order = if desc { Order::Desc } else { Order::Asc };
    let rows = query
        .order_by(column(sort)?, order)
        .order_by_asc(column("id")?);
    page_counted_by(conn, rows, counted, page).await
}

/// The page `page` of the rows `rows` reads (as `M`, in the order the caller set) as a list
/// whose rows `counted` counts (up to [`COUNT_CAP`] past the page), in one statement: the
/// count rides beside each row. The page's limit and offset and the count's cap are written
/// into the statement as numbers: bound as parameters, PostgreSQL would cost the generic
/// plan for 10,000 rows, never choose it, and plan the statement afresh at every execution.
pub async fn page_counted_by<E, L, C, M>(
    conn: &C,
    rows: Select<E>,
    counted: Select<L>,
    page: &PageParams,
) -> ApiResult<ListResponse<M>>
where
    E: EntityTrait,
    L: EntityTrait,
    C: ConnectionTrait,
    M: FromQueryResult + Send + Sync,
{
    let backend = conn.get_database_backend();
    let cap = cap_of(page);
    let mut statement = rows
        .column_as(capped(backend, counted.clone(), cap), LIST_TOTAL)
        .build(backend);
    statement.sql += &format!(" LIMIT {} OFFSET {}", page.limit(), page.offset());
    let rows = WithTotal::<M>::find_by_statement(statement)
        .all(conn)
        .await?;
    let total = match rows.first() {
        Some(first) => first.total as u64,
        // Past the end, the page holds no row to carry the count.
        None if page.offset() > 0 => capped_count(conn, counted, cap).await?,
        None => 0,
    };
    let items = rows.into_iter().map(|r| r.row).collect();
    Ok(ListResponse::counted(items, page, (total, total < cap)))
}

/// The column a page's rows carry the list's count in.
const LIST_TOTAL: &str = "list_total";

/// A row of a page and the list's count beside it.
struct WithTotal<M> {
    row: M,
    total: i64,
}

impl<M: FromQueryResult> FromQueryResult for WithTotal<M> {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            row: M::from_query_result(res, pre)?,
            total: res.try_get(pre, LIST_TOTAL)?,
        })
    }
}

/// How many rows `query` matches, counting no further than `cap` (written as a number, as
/// [`page_counted_by`] says why): `(SELECT COUNT(*) FROM (SELECT 1 FROM (query) LIMIT cap))`.
fn capped<E: EntityTrait>(backend: DatabaseBackend, query: Select<E>, cap: u64) -> Expr {
    let rows = query.select_only().expr(Expr::cust("1")).into_query();
    let query_at = match backend {
        DatabaseBackend::Postgres => "$1",
        _ => "?",
    };
    Expr::cust_with_expr(
        format!(
            "(SELECT COUNT(*) FROM (SELECT 1 FROM {query_at} AS counted LIMIT {cap}) AS capped)"
        ),
        Expr::SubQuery(None, Box::new(rows.into())),
    )
}

/// How many rows `query` matches, counting no further than `cap`.
async fn capped_count<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    query: Select<E>,
    cap: u64,
) -> ApiResult<u64> {
    let backend = conn.get_database_backend();
    let count = SeaQuery::select()
        .expr_as(capped(backend, query, cap), Alias::new("n"))
        .to_owned();
    let counted = conn
        .query_one_raw(backend.build(&count))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(counted as u64)
}

/// One statement reading each of `parts` in turn, each with its own order and limit
/// (several short reads of one table in one round trip); `None` for no parts.
pub fn union_all(parts: impl IntoIterator<Item = SelectStatement>) -> Option<SelectStatement> {
    let mut wrapped = parts.into_iter().enumerate().map(|(i, part)| {
        SeaQuery::select()
            .column(Asterisk)
            .from_subquery(part, Alias::new(format!("part{i}")))
            .to_owned()
    });
    let mut all = wrapped.next()?;
    for part in wrapped {
        all.union(UnionType::All, part);
    }
    Some(all)
}

/// How many rows each of `queries` matches, in one round trip.
pub async fn counts<C: ConnectionTrait>(
    conn: &C,
    queries: Vec<SelectStatement>,
) -> ApiResult<Vec<u64>> {
    if queries.is_empty() {
        return Ok(Vec::new());
    }
    let n = queries.len();
    let mut all = SeaQuery::select();
    for (i, q) in queries.into_iter().enumerate() {
        let counted = SeaQuery::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(q, Alias::new("matches"))
            .to_owned();
        all.expr_as(
            Expr::SubQuery(None, Box::new(counted.into_sub_query_statement())),
            Alias::new(format!("n{i}")),
        );
    }
    let row = conn
        .query_one_raw(conn.get_database_backend().build(&all))
        .await?
        .ok_or_else(|| ApiError::internal("a count gave no row"))?;
    (0..n)
        .map(|i| Ok(row.try_get::<i64>("", &format!("n{i}"))? as u64))
        .collect()
}

/// A case-insensitive "contains" pattern for `LOWER(column) LIKE …`: the search is
/// lowercased, and `%`, `_` and `\` typed by the user match themselves.
pub fn contains_pattern(q: &str) -> sea_orm::sea_query::LikeExpr {
    let mut escaped = String::with_capacity(q.len() + 2);
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_parses_sort() {
        let p = PageParams {
            limit: Some(10_000),
            offset: None,
            sort: Some("-name".into()),
        };
        assert_eq!(p.limit(), MAX_LIMIT);
        assert_eq!(
            p.sort(&["name", "id"], ("id", false)).unwrap(),
            ("name", true)
        );
        assert!(p.sort(&["id"], ("id", false)).is_err());
    }
}

//! Pagination and sorting shared by every list endpoint.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use std::str::FromStr;

use sea_orm::{
    ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryOrder, QuerySelect, Select,
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

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

impl<T> ListResponse<T> {
    /// The same page with each item turned into `U`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> ListResponse<U> {
        ListResponse {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            limit: self.limit,
            offset: self.offset,
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
        }
    }
}

/// One page of `query`, counted, sorted by the requested key among `sorts` (each the name
/// of a column of `E`), or `default` (name, descending), ties broken by id.
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
    let (sort, desc) = page.sort(sorts, default)?;
    let column = |name: &str| {
        E::Column::from_str(name)
            .map_err(|_| ApiError::internal(format!("no column {name} to sort by")))
    };
    let order = if desc { Order::Desc } else { Order::Asc };
    let total = query.clone().count(conn).await?;
    let items = query
        .order_by(column(sort)?, order)
        .order_by_asc(column("id")?)
        .limit(page.limit())
        .offset(page.offset())
        .all(conn)
        .await?;
    Ok(ListResponse {
        items,
        total,
        limit: page.limit(),
        offset: page.offset(),
    })
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

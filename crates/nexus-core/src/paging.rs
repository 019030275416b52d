//! Pagination and sorting shared by every list endpoint.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

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
        self.offset.unwrap_or(0)
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

//! The activity feed: a person's own recent actions and the recent changes to what they
//! follow, read from the audit trail (`UserActivityFeed` of `001_fc7d4f68e8fe081f.txt`).

use nexus_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Which part of the feed to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedScope {
    /// My actions and changes to what I follow.
    #[default]
    All,
    /// My own actions only.
    Mine,
    /// Changes by others to what I follow.
    Following,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    pub scope: Option<FeedScope>,
    /// Only entries older than this one (the previous page's `next_after`).
    pub after: Option<i64>,
    /// Entries per page, 1 to 100 (default 50).
    pub limit: Option<u64>,
}

/// One entry of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedItem {
    /// The audit entry's id; pages are keyed by it.
    pub id: i64,
    /// `LOGIN`, `WORK_ORDER_CREATED`, `ASSET_UPDATED`, ...
    pub activity_type: String,
    /// What happened, in words.
    pub description: String,
    pub timestamp: Timestamp,
    pub actor_id: Option<i64>,
    pub actor: Option<String>,
    pub target_type: String,
    pub target_id: Option<i64>,
    /// The page of the target, when it has one.
    pub link: Option<String>,
    /// True when the entry is the reader's own action.
    pub mine: bool,
    /// The fields an update changed.
    pub changed: Vec<String>,
}

/// A page of the feed, newest first: pass `next_after` as `after` for the following
/// page (`null` on the last).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    pub next_after: Option<i64>,
}

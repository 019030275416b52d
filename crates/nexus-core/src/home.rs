//! What needs attention, from every domain: the counts on the navigation and the panels of
//! the home page. Each domain contributes through [`crate::domain::Domain::home`]; what a
//! user sees follows their permissions, as the domain decides.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{BoxFuture, CurrentUser};
use crate::error::ApiResult;
use crate::state::AppState;

/// How strongly a count or a row calls for attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Nothing to do.
    Calm,
    /// Worth a look (new requests, open work).
    Notice,
    /// Late or degraded.
    Warning,
    /// Act now (a critical alert, a machine down).
    Critical,
}

impl Tone {
    /// The CSS class of the tone.
    pub fn class(&self) -> &'static str {
        match self {
            Tone::Calm => "calm",
            Tone::Notice => "notice",
            Tone::Warning => "warning",
            Tone::Critical => "critical",
        }
    }
}

/// A number someone may need to act on: "3 critical alerts", "5 overdue work orders".
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    /// Stable name, like `alerts.critical`.
    pub key: String,
    /// What is counted, in words.
    pub label: String,
    pub count: u64,
    /// The list of what is counted.
    pub href: String,
    /// Calm when the count is zero, the count's own tone otherwise.
    pub tone: Tone,
    /// The navigation link the count is shown on, if any.
    pub nav: Option<String>,
}

impl Count {
    /// A count shown on the home page only; its tone is calm when there are none.
    pub fn new(key: &str, label: &str, count: u64, href: impl Into<String>, tone: Tone) -> Self {
        Self {
            key: key.into(),
            label: label.into(),
            count,
            href: href.into(),
            tone: if count == 0 { Tone::Calm } else { tone },
            nav: None,
        }
    }

    /// The count shown on the navigation link `href` as well.
    pub fn on_nav(mut self, href: &str) -> Self {
        self.nav = Some(href.into());
        self
    }
}

/// One line of a panel: a record with a link and a word on its state.
#[derive(Debug, Clone)]
pub struct Row {
    pub href: String,
    pub label: String,
    pub detail: String,
    pub tone: Tone,
}

/// A panel of the home page: counts, then a short list of records.
#[derive(Debug, Clone)]
pub struct Widget {
    pub title: String,
    /// Panels are shown by rank, lowest first; ties keep the domains' order.
    pub rank: u8,
    pub counts: Vec<Count>,
    pub rows: Vec<Row>,
    /// Said when there are no rows, e.g. "Nothing overdue."
    pub empty: String,
    /// Where to go from the panel: (href, label), e.g. the whole list it summarises.
    pub links: Vec<(String, String)>,
}

/// What a caller needs of the panels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Whole panels, for the home page.
    Panels,
    /// Only the counts, for the navigation on every page view: a domain skips its rows
    /// and whatever it reads only for them (a panel without counts is left out).
    Counts,
}

impl Want {
    /// `rows` awaited when whole panels are wanted; for counts only, nothing, and the
    /// query is never sent.
    pub async fn rows<T, E>(
        self,
        rows: impl std::future::Future<Output = Result<Vec<T>, E>>,
    ) -> Result<Vec<T>, E> {
        match self {
            Want::Panels => rows.await,
            Want::Counts => Ok(Vec::new()),
        }
    }
}

/// What a domain puts on the home page of `user` (nothing it may not see).
pub type WidgetsFn =
    for<'a> fn(&'a AppState, &'a CurrentUser, Want) -> BoxFuture<'a, ApiResult<Vec<Widget>>>;

/// What a domain says about another domain's record (`entity_type`, id) to `user`: the
/// open alerts of an asset, say, shown on the asset's page.
pub type AboutFn =
    for<'a> fn(&'a AppState, &'a CurrentUser, &'a str, i64) -> BoxFuture<'a, ApiResult<Vec<Row>>>;

/// A domain's part of the home page, of the navigation's counts and of other domains'
/// record pages.
pub struct Home {
    pub widgets: WidgetsFn,
    pub about: AboutFn,
    /// The events (`alert.opened`, ...) that change what the panels show: the home page
    /// and the navigation's counts are redrawn when one arrives.
    pub events: &'static [&'static str],
}

impl Home {
    /// A domain without home panels.
    pub const NONE: Home = Home {
        widgets: |_, _, _| Box::pin(async { Ok(Vec::new()) }),
        about: nothing_about,
        events: &[],
    };
}

/// An [`AboutFn`] with nothing to say.
pub fn nothing_about<'a>(
    _: &'a AppState,
    _: &'a CurrentUser,
    _: &'a str,
    _: i64,
) -> BoxFuture<'a, ApiResult<Vec<Row>>> {
    Box::pin(async { Ok(Vec::new()) })
}

/// What every domain says about the record (`entity_type`, `id`) to `user`, worst first.
pub async fn about(
    state: &AppState,
    user: &CurrentUser,
    entity_type: &str,
    id: i64,
) -> ApiResult<Vec<Row>> {
    let mut all = Vec::new();
    for domain in state.registry.iter() {
        all.extend((domain.home.about)(state, user, entity_type, id).await?);
    }
    all.sort_by_key(|r| std::cmp::Reverse(r.tone));
    Ok(all)
}

/// The events that change some domain's panels, space-separated (for `data-live-events`):
/// the domains never change while the process runs, so this is worked out once.
pub fn events(state: &AppState) -> &'static str {
    static EVENTS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    EVENTS.get_or_init(|| {
        let mut all: Vec<&str> = state
            .registry
            .iter()
            .flat_map(|d| d.home.events.iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all.join(" ")
    })
}

/// Every domain's panels for `user`, by rank. Each domain's time is logged at debug level
/// (`NEXUS_LOG=nexus_core::home=debug`), to find the panel that slows the home page.
pub async fn widgets(state: &AppState, user: &CurrentUser, want: Want) -> ApiResult<Vec<Widget>> {
    let mut all = Vec::new();
    for domain in state.registry.iter() {
        let started = std::time::Instant::now();
        all.extend((domain.home.widgets)(state, user, want).await?);
        tracing::debug!(domain = domain.name, elapsed = ?started.elapsed(), "home panels");
    }
    all.sort_by_key(|w| w.rank);
    Ok(all)
}

/// Every count of `user`'s panels, for the navigation and the API.
pub async fn counts(state: &AppState, user: &CurrentUser) -> ApiResult<Vec<Count>> {
    Ok(widgets(state, user, Want::Counts)
        .await?
        .into_iter()
        .flat_map(|w| w.counts)
        .collect())
}

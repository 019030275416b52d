//! The activity feed page: my actions and the changes to what I follow, newest first,
//! with an "Older" link that pages by key.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use nexus_core::pages::{OrPage, Page, Shell, Web, render};
use serde::Deserialize;

use crate::model::{FeedItem, FeedQuery, FeedScope};
use crate::service;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/feed", get(feed))
}

use nexus_core::AppState;

#[derive(Deserialize)]
struct FeedParams {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    after: String,
}

#[derive(Template)]
#[template(path = "feed.html")]
struct FeedView {
    shell: Shell,
    scope: &'static str,
    items: Vec<FeedItem>,
    older: Option<String>,
}

impl FeedView {
    fn when(&self, item: &FeedItem) -> String {
        item.timestamp
            .local()
            .format("%-d %b %Y %H:%M %Z")
            .to_string()
    }
}

async fn feed(web: Web, Query(p): Query<FeedParams>) -> Page {
    let (scope, name) = match p.scope.as_str() {
        "mine" => (FeedScope::Mine, "mine"),
        "following" => (FeedScope::Following, "following"),
        _ => (FeedScope::All, "all"),
    };
    let q = FeedQuery {
        scope: Some(scope),
        after: p.after.trim().parse().ok(),
        limit: Some(50),
    };
    let page = service::feed::page(&web.state, &web.user, &q)
        .await
        .or_page(&web)?;
    let view = FeedView {
        shell: web.shell("Activity feed"),
        scope: name,
        older: page
            .next_after
            .map(|after| format!("/feed?scope={name}&after={after}")),
        items: page.items,
    };
    Ok(render(StatusCode::OK, &view))
}

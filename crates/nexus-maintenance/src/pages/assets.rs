//! Asset pages: the location and asset trees with search, the asset page (details, QR
//! code, components, open work orders, pending requests, downtime, history) and the
//! printable sheet of QR labels.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::audit::{self, AuditFilter};
use nexus_core::extract::Path;
use nexus_core::pages::{
    Done, OrPage, Page, Posted, Shell, Web, filled, instant, render, sentence,
};
use nexus_core::{ApiError, ApiResult, AppState, PageParams, Timestamp};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

use super::words::{priority_word, status_word, wo_status};
use crate::entity::downtime;
use crate::model::*;
use crate::service::{self, qr};

/// The asset tree, asset pages and label sheets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/maintenance/assets", get(asset_tree))
        .route("/maintenance/assets/tree", get(tree_branch))
        .route("/maintenance/assets/labels", get(labels))
        .route("/maintenance/assets/{id}", get(asset_page))
        .route("/maintenance/assets/{id}/downtime", post(record_downtime))
}

/// Labels one sheet can hold at most.
const MAX_LABELS: usize = 300;

/// `1,2,3` as ids; 422 on `ids` when a part is not a number or there are none.
fn parse_ids(raw: &str) -> ApiResult<Vec<i64>> {
    let ids = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse::<i64>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::invalid("ids", "list asset ids separated by commas, like 1,2,3"))?;
    if ids.is_empty() || ids.len() > MAX_LABELS {
        return Err(ApiError::invalid(
            "ids",
            format!("choose between 1 and {MAX_LABELS} assets"),
        ));
    }
    Ok(ids)
}

/// One printable label.
struct Label {
    name: String,
    serial: Option<String>,
    url: String,
    svg: String,
}

#[derive(Template)]
#[template(path = "labels.html")]
struct LabelsPage {
    shell: Shell,
    labels: Vec<Label>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LabelsQuery {
    ids: String,
}

/// A4 sheet of QR labels for the assets in `?ids=1,2,3`.
async fn labels(web: Web, headers: HeaderMap, Query(q): Query<LabelsQuery>) -> Page {
    web.require("assets:read")?;
    let ids = parse_ids(&q.ids).or_page(&web)?;
    let state = &web.state;
    let base = qr::public_base(state, &headers).await.or_page(&web)?;
    let mut labels = Vec::new();
    for a in qr::assets_by_ids(state.db.read(), &ids)
        .await
        .or_page(&web)?
    {
        let url = format!("{base}/a/{}", a.qr_code);
        let svg = qr::qr_svg(&url, 160).or_page(&web)?;
        // The XML prolog has no place inside HTML.
        let svg = svg
            .find("<svg")
            .map_or(svg.clone(), |at| svg[at..].to_string());
        labels.push(Label {
            name: a.name,
            serial: a.serial_number,
            url,
            svg,
        });
    }
    Ok(render(
        StatusCode::OK,
        &LabelsPage {
            shell: web.shell("QR labels"),
            labels,
        },
    ))
}

// ---------------------------------------------------------------- asset tree

/// Rows a page of search results shows.
const SEARCH_ROWS: u64 = 50;

/// One node of the location and asset trees as a page draws it: its link, and a button
/// that fetches what hangs below it when there is something.
struct Node {
    name: String,
    href: String,
    detail: String,
    /// An asset's status; empty for a location.
    status: String,
    /// What hangs below, in words ("3 components"); empty when nothing.
    below: String,
    /// The address of the fragment listing what hangs below.
    children: String,
    /// The id of the list the children go into.
    key: String,
}

impl Node {
    fn from_tree(n: TreeNode) -> Self {
        match n.node {
            TreeItem::Location(l) => {
                let l = *l;
                let detail = joined([l.city, l.country], ", ");
                let below = joined(
                    [
                        counted(n.below, "location", "locations"),
                        counted(n.assets, "asset", "assets"),
                    ],
                    ", ",
                );
                Node {
                    href: format!("/maintenance/assets?location_id={}", l.id),
                    name: l.name,
                    detail,
                    status: String::new(),
                    below: if n.below > 0 { below } else { String::new() },
                    children: format!("/maintenance/assets/tree?inside={}", l.id),
                    key: format!("location-{}-inside", l.id),
                }
            }
            TreeItem::Asset(a) => {
                let a = *a;
                let detail = joined(
                    [
                        a.manufacturer,
                        a.model,
                        a.serial_number.map(|s| format!("S/N {s}")),
                        a.tag.map(|t| format!("tag {t}")),
                    ],
                    " · ",
                );
                Node {
                    href: format!("/maintenance/assets/{}", a.id),
                    name: a.name,
                    detail,
                    status: a.status,
                    below: counted(n.below, "component", "components").unwrap_or_default(),
                    children: format!("/maintenance/assets/tree?asset={}", a.id),
                    key: format!("asset-{}-components", a.id),
                }
            }
        }
    }
}

/// The parts present, separated by `sep`.
fn joined<const N: usize>(parts: [Option<String>; N], sep: &str) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join(sep)
}

/// "1 asset", "3 assets"; `None` for none.
fn counted(n: u64, one: &str, many: &str) -> Option<String> {
    match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    }
}

/// The "Show more" item closing a branch that has more nodes than its page.
struct More {
    /// Where a browser without script goes for them.
    href: String,
    /// The fragment with the next page of the branch.
    fragment: String,
    count: u64,
}

/// A page of a branch as list items: its nodes and, when more follow, a "Show more" item.
#[derive(Template)]
#[template(path = "tree_items.html")]
struct TreeItems {
    nodes: Vec<Node>,
    more: Option<More>,
}

/// A page of `branch` from `offset` drawn as list items.
async fn branch_items(web: &Web, branch: service::Branch, offset: u64) -> ApiResult<String> {
    let page = PageParams {
        limit: Some(TREE_PAGE),
        offset: Some(offset),
        ..Default::default()
    };
    let list = service::branch(web.state.db.read(), branch, &page).await?;
    let next = list.offset + list.items.len() as u64;
    let more = (list.total > next).then(|| More {
        href: without_script(branch, next),
        fragment: format!("{}offset={next}", tree_fragment(branch)),
        count: list.total - next,
    });
    let items = TreeItems {
        nodes: list.items.into_iter().map(Node::from_tree).collect(),
        more,
    };
    items.render().map_err(ApiError::internal)
}

/// Nodes a branch shows at a time.
const TREE_PAGE: u64 = 100;

/// Where a browser without script finds the nodes of `branch` from `offset`: the page that
/// lists them (the top-level locations have none but the fragment itself).
fn without_script(branch: service::Branch, offset: u64) -> String {
    use service::Branch::*;
    match branch {
        Locations => format!("/maintenance/assets/tree?offset={offset}"),
        InsideLocation(id) => format!("/maintenance/assets?location_id={id}"),
        AssetsAt(id) => format!("/maintenance/assets?location_id={id}&offset={offset}"),
        Components(id) => format!("/maintenance/assets/{id}?offset={offset}#components-h"),
    }
}

/// The fragment address of `branch`, ready for another query pair.
fn tree_fragment(branch: service::Branch) -> String {
    use service::Branch::*;
    match branch {
        Locations => "/maintenance/assets/tree?".into(),
        InsideLocation(id) => format!("/maintenance/assets/tree?inside={id}&"),
        AssetsAt(id) => format!("/maintenance/assets/tree?at={id}&"),
        Components(id) => format!("/maintenance/assets/tree?asset={id}&"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TreeQuery {
    q: String,
    location_id: Option<i64>,
    offset: u64,
    done: String,
}

#[derive(Template)]
#[template(path = "asset_tree.html")]
struct TreePage {
    shell: Shell,
    q: String,
    /// The location whose assets are shown, if one is chosen.
    location: Option<LocationOut>,
    /// The chosen location's outer locations, outermost first.
    trail: Vec<(i64, String)>,
    /// The top-level locations as list items.
    locations: String,
    /// The chosen location's assets as list items, or the search's matches.
    assets: String,
    /// How many assets the location holds, or how many match the search.
    total: u64,
    /// Search results: previous and next pages.
    prev: Option<String>,
    next: Option<String>,
    label_ids: String,
    can_write_assets: bool,
    can_write_locations: bool,
}

/// The location tree; a location's assets as a tree of machines and components; or the
/// assets whose name, serial number or tag matches `q`, a page at a time. Trees open a
/// branch at a time (`/maintenance/assets/tree`).
async fn asset_tree(web: Web, Query(q): Query<TreeQuery>) -> Page {
    web.require("assets:read")?;
    let conn = web.state.db.read();
    let location = match q.location_id {
        Some(id) => Some(service::get_location(conn, id).await.or_page(&web)?),
        None => None,
    };
    let mut trail = Vec::new();
    let mut up = location.as_ref().and_then(|l| l.parent_id);
    while let Some(id) = up.filter(|_| trail.len() < 20) {
        let outer = service::get_location(conn, id).await.or_page(&web)?;
        up = outer.parent_id;
        trail.insert(0, (outer.id, outer.name));
    }
    let locations = branch_items(&web, service::Branch::Locations, 0)
        .await
        .or_page(&web)?;
    let search = filled(&q.q);
    let (mut assets, mut total, mut prev, mut next, mut label_ids) =
        (String::new(), 0, None, None, Vec::new());
    if let Some(text) = &search {
        let f = AssetFilter {
            q: Some(text.clone()),
            location_id: location.as_ref().map(|l| l.id),
            ..Default::default()
        };
        let page = PageParams {
            limit: Some(SEARCH_ROWS),
            offset: Some(q.offset),
            ..Default::default()
        };
        let found = service::list_assets(conn, &f, &page).await.or_page(&web)?;
        total = found.total;
        label_ids = found.items.iter().map(|a| a.id).collect();
        let link = |offset| {
            let location = location
                .as_ref()
                .map(|l| l.id.to_string())
                .unwrap_or_default();
            nexus_core::pages::paged_link(
                "/maintenance/assets",
                &[("q", text), ("location_id", &location)],
                offset,
            )
        };
        prev = (found.offset > 0).then(|| link(found.offset.saturating_sub(SEARCH_ROWS)));
        next = (found.offset + (found.items.len() as u64) < found.total)
            .then(|| link(found.offset + SEARCH_ROWS));
        assets = TreeItems {
            nodes: found
                .items
                .into_iter()
                .map(|a| {
                    Node::from_tree(TreeNode {
                        node: TreeItem::Asset(Box::new(a)),
                        below: 0,
                        assets: 0,
                    })
                })
                .collect(),
            more: None,
        }
        .render()
        .map_err(ApiError::internal)
        .or_page(&web)?;
    } else if let Some(l) = &location {
        let id = l.id;
        total = service::list_assets(
            conn,
            &AssetFilter {
                location_id: Some(id),
                ..Default::default()
            },
            &PageParams {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .or_page(&web)?
        .total;
        assets = branch_items(&web, service::Branch::AssetsAt(id), q.offset)
            .await
            .or_page(&web)?;
    }
    let label_ids = label_ids
        .iter()
        .take(MAX_LABELS)
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    Ok(render(
        StatusCode::OK,
        &TreePage {
            shell: web.shell_done(
                "Assets",
                Done {
                    done: q.done.clone(),
                }
                .message(&[]),
            ),
            q: q.q.clone(),
            location,
            trail,
            locations,
            assets,
            total,
            prev,
            next,
            label_ids,
            can_write_assets: web.user.can("assets:write"),
            can_write_locations: web.user.can("locations:write"),
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BranchQuery {
    /// The locations inside this one.
    inside: Option<i64>,
    /// The assets at this location that hang below no asset there.
    at: Option<i64>,
    /// This asset's components.
    asset: Option<i64>,
    offset: u64,
}

/// One page of a branch of the trees as list items (`<li>`), for the page's script to put
/// below the node it opens; with none of `inside`, `at`, `asset`: the top-level locations.
async fn tree_branch(web: Web, Query(q): Query<BranchQuery>) -> Page {
    web.require("assets:read")?;
    use service::Branch::*;
    let branch = match (q.inside, q.at, q.asset) {
        (Some(id), _, _) => InsideLocation(id),
        (_, Some(id), _) => AssetsAt(id),
        (_, _, Some(id)) => Components(id),
        _ => Locations,
    };
    let html = branch_items(&web, branch, q.offset).await.or_page(&web)?;
    Ok(Html(html).into_response())
}

// ---------------------------------------------------------------- asset page

struct HistoryRow {
    at: String,
    who: String,
    action: String,
    /// The fields an update changed.
    changed: String,
}

struct DowntimeRow {
    from: String,
    to: String,
    reason: String,
    work_order_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "asset.html")]
struct AssetPage {
    shell: Shell,
    asset: AssetOut,
    type_name: Option<String>,
    location: Option<String>,
    parent: Option<(i64, String)>,
    /// The direct components as list items, each opening its own.
    components: String,
    qr_svg: String,
    qr_url: String,
    work_orders: Option<Vec<WorkOrderOut>>,
    requests: Option<Vec<WorkRequestOut>>,
    downtime: Vec<DowntimeRow>,
    history: Vec<HistoryRow>,
    can_write_assets: bool,
    can_write_work: bool,
    /// Today as due dates are written, to mark overdue work orders.
    today: String,
    /// What other domains say of the asset now (its open alerts, say), worst first.
    status: Vec<nexus_core::home::Row>,
}

impl AssetPage {
    fn money(&self, cents: &i64) -> String {
        nexus_core::pages::money(cents)
    }
}

/// Top-level keys whose values differ between two JSON objects.
fn changed_fields(before: Option<&serde_json::Value>, after: Option<&serde_json::Value>) -> String {
    let (Some(serde_json::Value::Object(b)), Some(serde_json::Value::Object(a))) = (before, after)
    else {
        return String::new();
    };
    a.iter()
        .filter(|(k, v)| {
            !matches!(k.as_str(), "updated_at" | "version" | "updated_by") && b.get(*k) != Some(v)
        })
        .map(|(k, _)| k.replace('_', " "))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An asset: its details and QR code, components, open work orders, pending requests,
/// downtime and the history of its changes.
async fn asset_page(
    web: Web,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
    Query(components): Query<Components>,
) -> Page {
    let flash = done.message(&[("downtime", "Stop recorded.")]);
    let at = (flash, None);
    asset_view(&web, &headers, (id, components.offset), at, StatusCode::OK).await
}

/// Which page of its components an asset's page shows (a browser without script pages
/// them so).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Components {
    offset: u64,
}

/// A past stop as the asset page's form sends it.
#[derive(Deserialize, Default)]
#[serde(default)]
struct DowntimeForm {
    started_at: String,
    ended_at: String,
    reason: String,
    work_order_id: String,
}

/// Records a past stop of the asset from its page.
async fn record_downtime(
    web: Web,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Posted(form): Posted<DowntimeForm>,
) -> Page {
    web.require("work_orders:write")?;
    let mut v = nexus_core::Validator::new();
    let started = instant(&form.started_at);
    let ended = instant(&form.ended_at);
    let hint = "must be a date and time";
    v.check(matches!(started, Ok(Some(_))), "started_at", hint);
    v.check(matches!(ended, Ok(Some(_))), "ended_at", hint);
    let work_order =
        nexus_core::pages::chosen_id("work_order_id", &form.work_order_id, "work order");
    v.check(
        work_order.is_ok(),
        "work_order_id",
        "choose a work order from the list",
    );
    let done = match (v.finish(), started, ended) {
        (Ok(()), Ok(Some(started_at)), Ok(Some(ended_at))) => {
            let req = RecordDowntime {
                started_at,
                ended_at,
                reason: filled(&form.reason),
                work_order_id: work_order.ok().flatten(),
            };
            service::record_downtime(&web.state, &web.audit(), id, req)
                .await
                .map(|_| ())
        }
        (Err(e), _, _) => Err(e),
        _ => Err(ApiError::invalid("started_at", hint)),
    };
    match done {
        Ok(()) => Ok(
            Redirect::to(&format!("/maintenance/assets/{id}?done=downtime#down-h")).into_response(),
        ),
        Err(err) => {
            let r = web.refused("Asset", err)?;
            let said: Vec<String> = r
                .errors
                .0
                .iter()
                .map(|e| format!("{}: {}", e.field.replace('_', " "), e.message))
                .collect();
            let error = if said.is_empty() {
                r.shell.error.clone()
            } else {
                Some(sentence(&format!(
                    "The stop was not recorded. {}",
                    said.join("; ")
                )))
            };
            asset_view(&web, &headers, (id, 0), (None, error), r.status).await
        }
    }
}

/// The asset page with a success message or an error on top.
async fn asset_view(
    web: &Web,
    headers: &HeaderMap,
    (id, components_from): (i64, u64),
    (flash, error): (Option<&str>, Option<String>),
    page_status: StatusCode,
) -> Page {
    web.require("assets:read")?;
    let state = &web.state;
    let conn = state.db.read();
    let asset = service::get_asset(conn, id).await.or_page(web)?;
    let type_name = match asset.asset_type_id {
        Some(t) => Some(service::get_asset_type(conn, t).await.or_page(web)?.name),
        None => None,
    };
    let location = match asset.location_id {
        Some(l) => Some(service::get_location(conn, l).await.or_page(web)?.name),
        None => None,
    };
    let parent = match asset.parent_asset_id {
        Some(p) => Some((p, service::get_asset(conn, p).await.or_page(web)?.name)),
        None => None,
    };
    let components = branch_items(web, service::Branch::Components(id), components_from)
        .await
        .or_page(web)?;
    let qr_url = format!(
        "{}/a/{}",
        qr::public_base(state, headers).await.or_page(web)?,
        asset.qr_code
    );
    let svg = qr::qr_svg(&qr_url, 160).or_page(web)?;
    let qr_svg = svg
        .find("<svg")
        .map_or(svg.clone(), |at| svg[at..].to_string());

    let can_see_work = web.user.can("work_orders:read");
    let work_orders = if can_see_work {
        let f = WorkOrderFilter {
            asset_id: Some(id),
            status: Some(OPEN_STATUSES.join(",")),
            ..Default::default()
        };
        let page = PageParams {
            limit: Some(50),
            ..Default::default()
        };
        Some(
            service::list_work_orders(conn, &f, &page)
                .await
                .or_page(web)?
                .items,
        )
    } else {
        None
    };
    let requests = if can_see_work {
        let f = WorkRequestFilter {
            status: Some("pending".into()),
            asset_id: Some(id),
            ..Default::default()
        };
        Some(service::list_requests(conn, &f).await.or_page(web)?.items)
    } else {
        None
    };
    let downtime = downtime::Entity::find()
        .filter(downtime::Column::AssetId.eq(id))
        .order_by_desc(downtime::Column::StartedAt)
        .limit(20)
        .all(conn)
        .await
        .map_err(ApiError::from)
        .or_page(web)?
        .into_iter()
        .map(|d| DowntimeRow {
            from: d.started_at.display(),
            to: d
                .ended_at
                .map(Timestamp::display)
                .unwrap_or_else(|| "still down".into()),
            reason: d.reason.unwrap_or_default(),
            work_order_id: d.work_order_id,
        })
        .collect();
    let entries = audit::list(
        conn,
        &AuditFilter {
            entity_type: Some("asset".into()),
            entity_id: Some(id),
            limit: 20,
            ..Default::default()
        },
    )
    .await
    .or_page(web)?;
    let names = nexus_identity::service::usernames(conn, entries.iter().map(|e| e.actor_id))
        .await
        .or_page(web)?;
    let history = entries
        .into_iter()
        .map(|e| HistoryRow {
            at: e.created_at.display(),
            who: e
                .actor_id
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_else(|| "system".into()),
            changed: changed_fields(e.previous_state.as_ref(), e.new_state.as_ref()),
            action: e.action,
        })
        .collect();
    let status = nexus_core::home::about(state, &web.user, "asset", id)
        .await
        .or_page(web)?;
    let mut shell = web.shell_done(&asset.name, flash);
    if let Some(error) = error {
        shell = shell.with_error(error);
    }
    Ok(render(
        page_status,
        &AssetPage {
            status,
            shell,
            type_name,
            location,
            parent,
            components,
            qr_svg,
            qr_url,
            work_orders,
            requests,
            downtime,
            history,
            can_write_assets: web.user.can("assets:write"),
            can_write_work: web.user.can("work_orders:write"),
            today: Timestamp::now().local().format("%Y-%m-%d").to_string(),
            asset,
        },
    ))
}

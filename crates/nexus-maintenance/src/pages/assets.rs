//! Asset pages: the location and asset trees with search, the asset page (details, QR
//! code, components, open work orders, pending requests, downtime, history) and the
//! printable sheet of QR labels.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
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

/// Rows a tree or search shows at most; narrower searches find the rest.
const TREE_ROWS: u64 = 500;

/// One row of a tree drawn as an indented list.
struct TreeRow {
    depth: usize,
    id: i64,
    name: String,
    detail: String,
    status: String,
    /// Links to the location's assets, or to the asset's page.
    href: String,
}

impl TreeRow {
    fn indent(&self) -> String {
        format!("{:.1}", self.depth as f64 * 1.25)
    }
}

/// `items` (id, parent, row) in depth-first order below their parents; rows whose
/// parent is not among them are roots.
fn as_tree(items: Vec<(i64, Option<i64>, TreeRow)>) -> Vec<TreeRow> {
    let ids: std::collections::HashSet<i64> = items.iter().map(|(id, _, _)| *id).collect();
    let mut children: std::collections::HashMap<Option<i64>, Vec<TreeRow>> = Default::default();
    for (_, parent, row) in items {
        let parent = parent.filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(row);
    }
    let mut out = Vec::new();
    let mut stack: Vec<(usize, TreeRow)> = children
        .remove(&None)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|r| (0, r))
        .collect();
    while let Some((depth, mut row)) = stack.pop() {
        row.depth = depth;
        let id = row.id;
        out.push(row);
        if let Some(kids) = children.remove(&Some(id)) {
            stack.extend(kids.into_iter().rev().map(|r| (depth + 1, r)));
        }
    }
    out
}

fn asset_row(a: AssetOut) -> (i64, Option<i64>, TreeRow) {
    let detail = [
        a.manufacturer,
        a.model,
        a.serial_number.map(|s| format!("S/N {s}")),
        a.tag.map(|t| format!("tag {t}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    (
        a.id,
        a.parent_asset_id,
        TreeRow {
            depth: 0,
            id: a.id,
            href: format!("/maintenance/assets/{}", a.id),
            name: a.name,
            detail,
            status: a.status,
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TreeQuery {
    q: String,
    location_id: Option<i64>,
    done: String,
}

#[derive(Template)]
#[template(path = "asset_tree.html")]
struct TreePage {
    shell: Shell,
    q: String,
    /// The location whose assets are shown, if one is chosen.
    location: Option<LocationOut>,
    locations: Vec<TreeRow>,
    assets: Vec<TreeRow>,
    total: u64,
    label_ids: String,
    can_write_assets: bool,
    can_write_locations: bool,
}

/// Locations as a tree; a location's assets as a tree of machines and components; or
/// the assets whose name or serial number matches `q`.
async fn asset_tree(web: Web, Query(q): Query<TreeQuery>) -> Page {
    web.require("assets:read")?;
    let conn = web.state.db.read();
    let locations = service::all_locations(conn).await.or_page(&web)?;
    let location = q
        .location_id
        .and_then(|id| locations.iter().find(|l| l.id == id).cloned());
    let search = filled(&q.q);
    let page = PageParams {
        limit: Some(TREE_ROWS),
        ..Default::default()
    };
    let (assets, total) = if search.is_some() || location.is_some() {
        let f = AssetFilter {
            q: search.clone(),
            location_id: location.as_ref().map(|l| l.id),
            ..Default::default()
        };
        let found = service::list_assets(conn, &f, &page).await.or_page(&web)?;
        let rows = found.items.into_iter().map(asset_row).collect::<Vec<_>>();
        let rows = if search.is_some() {
            rows.into_iter().map(|(_, _, r)| r).collect()
        } else {
            as_tree(rows)
        };
        (rows, found.total)
    } else {
        (Vec::new(), 0)
    };
    let location_rows = as_tree(
        locations
            .into_iter()
            .map(|l| {
                let detail = [l.city, l.country]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                (
                    l.id,
                    l.parent_id,
                    TreeRow {
                        depth: 0,
                        id: l.id,
                        href: format!("/maintenance/assets?location_id={}", l.id),
                        name: l.name,
                        detail,
                        status: String::new(),
                    },
                )
            })
            .collect(),
    );
    let label_ids = assets
        .iter()
        .take(MAX_LABELS)
        .map(|a| a.id.to_string())
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
            locations: location_rows,
            assets,
            total,
            label_ids,
            can_write_assets: web.user.can("assets:write"),
            can_write_locations: web.user.can("locations:write"),
        },
    ))
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
    components: Vec<TreeRow>,
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
        format!("{}.{:02}", cents / 100, (cents % 100).abs())
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
) -> Page {
    let flash = done.message(&[("downtime", "Stop recorded.")]);
    asset_view(&web, &headers, id, (flash, None), StatusCode::OK).await
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
            asset_view(&web, &headers, id, (None, error), r.status).await
        }
    }
}

/// The asset page with a success message or an error on top.
async fn asset_view(
    web: &Web,
    headers: &HeaderMap,
    id: i64,
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
    let subtree = service::asset_subtree(conn, id).await.or_page(web)?;
    let components = subtree
        .items
        .into_iter()
        .filter(|n| n.depth > 0)
        .take(TREE_ROWS as usize)
        .map(|n| {
            let (_, _, mut row) = asset_row(n.asset);
            row.depth = n.depth as usize - 1;
            row
        })
        .collect();
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
            today: Timestamp::now()
                .to_datetime()
                .format("%Y-%m-%d")
                .to_string(),
            asset,
        },
    ))
}

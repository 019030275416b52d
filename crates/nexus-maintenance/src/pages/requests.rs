//! Work request pages: the public form behind each asset's QR code (no account), and
//! the page where managers approve requests into work orders or reject them.

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{
    Done, Errors, OrPage, Page, Posted, Shell, Web, error_page, filled, query_string, render,
};
use nexus_core::{ApiError, AppState, ClientInfo, CurrentUser, IfMatch};
use serde::Deserialize;

use crate::api::requests::read_request_form;
use crate::entity::asset;
use crate::model::*;
use crate::service::{self, qr};

/// The public request form and the managers' requests page.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/a/{qr_code}",
            get(scanned)
                .post(send_request)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/maintenance/requests", get(requests_page))
        .route("/maintenance/requests/{id}/approve", post(approve_page))
        .route("/maintenance/requests/{id}/reject", post(reject_page))
}

// ---------------------------------------------------------------- public request form

#[derive(Template)]
#[template(path = "request_form.html")]
struct RequestPage {
    shell: Shell,
    asset_name: String,
    qr_code: String,
    form: NewWorkRequest,
    errors: Errors,
    /// The number of the request just sent.
    sent: Option<i64>,
}

impl RequestPage {
    fn value<'a>(&self, text: &'a Option<String>) -> &'a str {
        text.as_deref().unwrap_or("")
    }
}

/// The asset behind a code, or the not-found page.
async fn scanned_asset(state: &AppState, qr_code: &str) -> Result<asset::Model, Response> {
    match qr::asset_by_qr(state.db.read(), qr_code).await {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(error_page(Shell::anonymous, &ApiError::not_found("asset"))),
        Err(e) => Err(error_page(Shell::anonymous, &e)),
    }
}

/// Where an asset's QR code leads: its page for a signed-in user, else the public
/// work-request form.
async fn scanned(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Path(qr_code): Path<String>,
) -> Response {
    let asset = match scanned_asset(&state, &qr_code).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    if user.is_some() {
        return Redirect::to(&format!("/maintenance/assets/{}", asset.id)).into_response();
    }
    let page = RequestPage {
        shell: Shell::anonymous("Report a problem"),
        asset_name: asset.name.clone(),
        qr_code,
        form: NewWorkRequest::default(),
        errors: Errors::default(),
        sent: None,
    };
    render(StatusCode::OK, &page)
}

/// Sends the public form: the same rules as `POST /api/v1/work-requests`; refused
/// fields come back next to their inputs.
async fn send_request(
    State(state): State<AppState>,
    client: ClientInfo,
    Path(qr_code): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let asset = match scanned_asset(&state, &qr_code).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    let ctx = client.audit(None);
    let mut values = NewWorkRequest::default();
    let result = async {
        service::check_rate(&state, &ctx)?;
        let form = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let (mut req, photo) = read_request_form(&state, form).await?;
        req.qr_code = qr_code.clone();
        values = req.clone();
        service::submit_request(&state, &ctx, req, photo).await
    }
    .await;
    let mut page = RequestPage {
        shell: Shell::anonymous("Report a problem"),
        asset_name: asset.name.clone(),
        qr_code,
        form: values,
        errors: Errors::default(),
        sent: None,
    };
    match result {
        Ok(receipt) => {
            page.sent = Some(receipt.id);
            page.form = NewWorkRequest::default();
            render(StatusCode::OK, &page)
        }
        Err(err) => {
            let fields = err.field_errors();
            let status = err.status();
            if fields.is_empty() {
                page.shell = page.shell.with_error(nexus_core::pages::describe(&err));
            } else {
                page.errors = Errors(fields);
            }
            let mut res = render(status, &page);
            if let ApiError::TooManyRequests { retry_after, .. } = err {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            res
        }
    }
}

// ---------------------------------------------------------------- requests (managers)

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    shell: Shell,
    status: String,
    requests: Vec<WorkRequestOut>,
    assets: Vec<(i64, String)>,
    can_decide: bool,
    errors: Errors,
    /// The request whose form was refused.
    failed: Option<i64>,
    priorities: &'static [&'static str],
}

impl RequestsPage {
    fn failed_on(&self, id: &i64) -> bool {
        self.failed == Some(*id)
    }

    fn asset_name(&self, id: &Option<i64>) -> String {
        id.and_then(|id| {
            self.assets
                .iter()
                .find(|(a, _)| *a == id)
                .map(|(_, n)| n.clone())
        })
        .unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RequestsQuery {
    status: String,
    done: String,
}

async fn render_requests(
    web: &Web,
    status: &str,
    message: Option<&str>,
    refused: Option<(i64, ApiError)>,
) -> Page {
    let conn = web.state.db.read();
    let f = WorkRequestFilter {
        status: Some(status.to_string()),
        limit: Some(200),
        ..Default::default()
    };
    let requests = service::list_requests(conn, &f).await.or_page(web)?.items;
    let ids: Vec<i64> = requests.iter().filter_map(|r| r.asset_id).collect();
    let assets = qr::assets_by_ids(conn, &ids)
        .await
        .or_page(web)?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let (http, shell, errors, failed) = match refused {
        None => (
            StatusCode::OK,
            web.shell_done("Work requests", message),
            Errors::default(),
            None,
        ),
        Some((id, err)) => {
            let r = web.refused("Work requests", err)?;
            (r.status, r.shell, r.errors, Some(id))
        }
    };
    Ok(render(
        http,
        &RequestsPage {
            shell,
            status: status.to_string(),
            requests,
            assets,
            can_decide: web.user.can("work_orders:manage"),
            errors,
            failed,
            priorities: &WORK_ORDER_PRIORITIES,
        },
    ))
}

/// Work requests by status (pending first), with approve and reject forms for managers.
async fn requests_page(web: Web, Query(q): Query<RequestsQuery>) -> Page {
    web.require("work_orders:read")?;
    let status = if REQUEST_STATUSES.contains(&q.status.as_str()) {
        q.status.clone()
    } else {
        "pending".to_string()
    };
    let done = Done {
        done: q.done.clone(),
    };
    let message = done.message(&[
        ("approved", "Approved: the work order is open."),
        ("rejected", "Rejected."),
    ]);
    render_requests(&web, &status, message, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecisionForm {
    version: String,
    priority: String,
    reason: String,
}

impl DecisionForm {
    fn if_match(&self) -> IfMatch {
        IfMatch(self.version.trim().parse().ok())
    }
}

async fn approve_page(web: Web, Path(id): Path<i64>, Posted(form): Posted<DecisionForm>) -> Page {
    web.require("work_orders:manage")?;
    let req = ApproveWorkRequest {
        priority: filled(&form.priority),
        ..Default::default()
    };
    match service::approve_request(&web.state, &web.audit(), id, form.if_match(), req).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/maintenance/requests?{}",
            query_string(&[("done", "approved")])
        ))
        .into_response()),
        Err(e) => render_requests(&web, "pending", None, Some((id, e))).await,
    }
}

async fn reject_page(web: Web, Path(id): Path<i64>, Posted(form): Posted<DecisionForm>) -> Page {
    web.require("work_orders:manage")?;
    let req = RejectWorkRequest {
        reason: form.reason.clone(),
    };
    match service::reject_request(&web.state, &web.audit(), id, form.if_match(), req).await {
        Ok(_) => Ok(Redirect::to("/maintenance/requests?done=rejected").into_response()),
        Err(e) => render_requests(&web, "pending", None, Some((id, e))).await,
    }
}

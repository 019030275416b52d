//! Parts pages: the parts list with a new part form, and a part's page with its stock per
//! location, the receive, adjust and transfer forms, and its latest ledger lines.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{
    Done, Errors, OrPage, Page, Posted, Shell, Web, chosen_id, filled, paged_link, render,
};
use nexus_core::{ApiError, ApiResult, PageParams, Validator};
use serde::Deserialize;

use crate::model::*;
use crate::service;

pub fn router() -> axum::Router<nexus_core::AppState> {
    Router::new()
        .route("/maintenance/parts", get(list).post(create))
        .route("/maintenance/parts/{id}", get(show))
        .route("/maintenance/parts/{id}/{op}", post(move_stock))
        .route("/maintenance/work-orders/{id}/parts", post(use_part))
}

const READ: &str = "parts:read";
const WRITE: &str = "parts:write";
const STOCK: &str = "stock:write";
const PAGE_ROWS: u64 = 50;
/// Ledger lines on a part's page.
const LEDGER_ROWS: u64 = 20;

const DONE: &[(&str, &str)] = &[
    ("receive", "Received."),
    ("adjust", "Stock adjusted."),
    ("transfer", "Transferred."),
];

/// Money typed as `12.50` (or `12,50`) in cents; empty is `None`.
pub(super) fn cents(field: &str, text: &str) -> ApiResult<Option<i64>> {
    let Some(t) = filled(text) else {
        return Ok(None);
    };
    let t = t.replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    let bad = || ApiError::invalid(field, "must be an amount like 12.50");
    if frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(if whole < 0 { -frac } else { frac }))
        .map(Some)
        .ok_or_else(bad)
}

/// A whole number typed into `field`; empty is `None`.
fn number(v: &mut Validator, field: &str, text: &str) -> Option<i64> {
    let n = filled(text).map(|t| t.parse::<i64>());
    v.check(!matches!(n, Some(Err(_))), field, "must be a whole number");
    n.and_then(Result::ok)
}

/// Cents as money in the plant's currency: `1250` is `$12.50`.
pub(super) use nexus_core::pages::money;

// ---------------------------------------------------------------- list

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListForm {
    q: String,
    /// `on`: only parts at or below their reorder point.
    low: String,
    offset: u64,
    done: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PartForm {
    sku: String,
    name: String,
    category: String,
    unit_cost: String,
    supplier: String,
    reorder_point: String,
    reorder_quantity: String,
}

impl PartForm {
    /// The part to create; every field's error at once, the typed numbers' and the
    /// part's own.
    fn request(&self) -> ApiResult<PartData> {
        let mut v = Validator::new();
        let cost = cents("unit_cost", &self.unit_cost);
        if let Err(e) = &cost {
            for f in e.field_errors() {
                v.add(&f.field, f.message);
            }
        }
        let reorder_point = number(&mut v, "reorder_point", &self.reorder_point);
        let reorder_quantity = number(&mut v, "reorder_quantity", &self.reorder_quantity);
        let data = PartData {
            sku: self.sku.clone(),
            name: self.name.clone(),
            category: filled(&self.category),
            unit_cost_cents: cost.ok().flatten(),
            supplier: filled(&self.supplier),
            reorder_point,
            reorder_quantity,
            ..PartData::default()
        };
        let own = data
            .clone()
            .validate()
            .map_err(|e| super::pick::for_form(e, super::pick::PART_FIELDS));
        match (v.finish(), own) {
            (Ok(()), _) => Ok(data),
            (Err(ApiError::Validation(mut form)), Err(ApiError::Validation(more))) => {
                form.extend(more);
                Err(ApiError::Validation(form))
            }
            (Err(e), _) => Err(e),
        }
    }
}

#[derive(Template)]
#[template(path = "parts.html")]
struct ListPage {
    shell: Shell,
    q: String,
    low: bool,
    parts: Vec<PartOut>,
    total: u64,
    prev: Option<String>,
    next: Option<String>,
    can_write: bool,
    form: PartForm,
    errors: Errors,
}

async fn list_page(
    web: &Web,
    shell: Shell,
    form: ListForm,
    new: PartForm,
    errors: Errors,
    status: StatusCode,
) -> Page {
    web.require(READ)?;
    let filter = PartFilter {
        q: filled(&form.q),
        low_stock: (form.low == "on").then_some(true),
        ..PartFilter::default()
    };
    let page = PageParams {
        limit: Some(PAGE_ROWS),
        offset: Some(form.offset),
        sort: None,
    };
    let found = service::list_parts(web.state.db.read(), &filter, &page)
        .await
        .or_page(web)?;
    let at = |offset: u64| {
        paged_link(
            "/maintenance/parts",
            &[("q", &form.q), ("low", &form.low)],
            offset,
        )
    };
    let page = ListPage {
        shell,
        prev: (form.offset > 0).then(|| at(form.offset.saturating_sub(PAGE_ROWS))),
        next: (form.offset + PAGE_ROWS < found.total).then(|| at(form.offset + PAGE_ROWS)),
        q: form.q,
        low: form.low == "on",
        total: found.total,
        parts: found.items,
        can_write: web.user.can(WRITE),
        form: new,
        errors,
    };
    Ok(render(status, &page))
}

async fn list(web: Web, Query(form): Query<ListForm>) -> Page {
    let shell = web.shell_done(
        "Parts",
        Done {
            done: form.done.clone(),
        }
        .message(DONE),
    );
    list_page(
        &web,
        shell,
        form,
        PartForm::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn create(web: Web, Posted(form): Posted<PartForm>) -> Page {
    web.require(WRITE)?;
    let made = match form.request() {
        Ok(req) => service::create_part(&web.state, &web.audit(), req).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(p) => {
            Ok(Redirect::to(&format!("/maintenance/parts/{}?done=created", p.id)).into_response())
        }
        Err(err) => {
            let r = web
                .refused(
                    "Parts",
                    super::pick::for_form(err, super::pick::PART_FIELDS),
                )?
                .saying("The part was not created");
            list_page(&web, r.shell, ListForm::default(), form, r.errors, r.status).await
        }
    }
}

// ---------------------------------------------------------------- one part

#[derive(Deserialize, Default)]
#[serde(default)]
struct StockForm {
    location_id: String,
    from_location_id: String,
    to_location_id: String,
    quantity: String,
    unit_cost: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "part.html")]
struct PartPage {
    shell: Shell,
    part: PartOut,
    stock: PartStockOut,
    locations: Vec<LocationOut>,
    ledger: Vec<MovementOut>,
    can_move: bool,
    /// The form that was refused (`receive`, `adjust` or `transfer`) and its errors.
    failed: String,
    errors: Errors,
    none: Errors,
    /// What the refused form had typed.
    typed: StockForm,
}

impl PartPage {
    fn errors_of(&self, op: &str) -> &Errors {
        if self.failed == op {
            &self.errors
        } else {
            &self.none
        }
    }

    /// A field's value as the refused form `op` had it; empty in the other forms.
    fn typed(&self, op: &str, field: &str) -> &str {
        if self.failed != op {
            return "";
        }
        let t = &self.typed;
        match field {
            "location_id" => &t.location_id,
            "from_location_id" => &t.from_location_id,
            "to_location_id" => &t.to_location_id,
            "quantity" => &t.quantity,
            "unit_cost" => &t.unit_cost,
            "reason" => &t.reason,
            _ => "",
        }
    }

    fn location_name(&self, id: &i64) -> String {
        self.locations
            .iter()
            .find(|l| l.id == *id)
            .map_or_else(|| format!("#{id}"), |l| l.name.clone())
    }
}

async fn part_page(
    web: &Web,
    id: i64,
    shell: Shell,
    failed: &str,
    errors: Errors,
    status: StatusCode,
    typed: StockForm,
) -> Page {
    web.require(READ)?;
    let db = web.state.db.read();
    let part = service::get_part(db, id).await.or_page(web)?;
    let stock = service::part_stock(db, id).await.or_page(web)?;
    let locations = service::all_locations(db).await.or_page(web)?;
    let ledger = service::list_movements(
        db,
        &MovementFilter {
            part_id: Some(id),
            limit: Some(LEDGER_ROWS),
            ..MovementFilter::default()
        },
    )
    .await
    .or_page(web)?
    .items;
    let page = PartPage {
        shell,
        part,
        stock,
        locations,
        ledger,
        can_move: web.user.can(STOCK),
        failed: failed.to_string(),
        errors,
        none: Errors::default(),
        typed,
    };
    Ok(render(status, &page))
}

async fn show(web: Web, Path(id): Path<i64>, Query(done): Query<Done>) -> Page {
    let shell = web.shell_done("Part", done.message(DONE));
    part_page(
        &web,
        id,
        shell,
        "",
        Errors::default(),
        StatusCode::OK,
        StockForm::default(),
    )
    .await
}

/// The receive, adjust or transfer form: the same services as the API.
async fn move_stock(
    web: Web,
    Path((id, op)): Path<(i64, String)>,
    Posted(form): Posted<StockForm>,
) -> Page {
    web.require(STOCK)?;
    let ctx = web.audit();
    let outcome = async {
        let mut v = Validator::new();
        let quantity = number(&mut v, "quantity", &form.quantity);
        v.check(quantity.is_some(), "quantity", "enter how many");
        let pick = |field: &str, value: &str| -> ApiResult<i64> {
            chosen_id(field, value, "location")?
                .ok_or_else(|| ApiError::invalid(field, "choose a location"))
        };
        let quantity = quantity.unwrap_or_default();
        match op.as_str() {
            "receive" => {
                let location_id = pick("location_id", &form.location_id);
                let cost = cents("unit_cost", &form.unit_cost);
                for e in [location_id.as_ref().err(), cost.as_ref().err()]
                    .into_iter()
                    .flatten()
                {
                    for f in e.field_errors() {
                        v.add(&f.field, f.message);
                    }
                }
                v.finish()?;
                let req = ReceiveStock {
                    location_id: location_id?,
                    quantity,
                    unit_cost_cents: cost?,
                    reason: filled(&form.reason),
                };
                service::change_stock(&web.state, &ctx, id, "receive", req.validate()?)
                    .await
                    .map(|_| ())
            }
            "adjust" => {
                let location_id = pick("location_id", &form.location_id);
                if let Err(e) = &location_id {
                    for f in e.field_errors() {
                        v.add(&f.field, f.message);
                    }
                }
                v.finish()?;
                let req = AdjustStock {
                    location_id: location_id?,
                    quantity,
                    reason: filled(&form.reason),
                };
                service::change_stock(&web.state, &ctx, id, "adjust", req.validate()?)
                    .await
                    .map(|_| ())
            }
            "transfer" => {
                let from = pick("from_location_id", &form.from_location_id);
                let to = pick("to_location_id", &form.to_location_id);
                for e in [from.as_ref().err(), to.as_ref().err()]
                    .into_iter()
                    .flatten()
                {
                    for f in e.field_errors() {
                        v.add(&f.field, f.message);
                    }
                }
                v.finish()?;
                let req = TransferStock {
                    from_location_id: from?,
                    to_location_id: to?,
                    quantity,
                    reason: filled(&form.reason),
                };
                service::transfer_stock(&web.state, &ctx, id, req)
                    .await
                    .map(|_| ())
            }
            _ => Err(ApiError::not_found("page")),
        }
    }
    .await;
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/maintenance/parts/{id}?done={op}#stock")).into_response())
        }
        Err(err) => {
            let r = web
                .refused("Part", super::pick::for_form(err, super::pick::PART_FIELDS))?
                .saying("Nothing was moved");
            part_page(&web, id, r.shell, &op, r.errors, r.status, form).await
        }
    }
}

// ---------------------------------------------------------------- on a work order

/// The parts block of the work order page: what was used, and what can be.
pub struct PartsBlock {
    pub used: WorkOrderParts,
    /// Parts in stock somewhere, by SKU.
    pub choices: Vec<PartOut>,
    pub locations: Vec<LocationOut>,
    /// What a refused use had typed.
    pub typed: UseForm,
}

impl PartsBlock {
    pub fn money(&self, cents: &i64) -> String {
        money(cents)
    }

    /// Whether `id` is the part the refused use had chosen.
    pub fn part_chosen(&self, id: &i64) -> bool {
        self.typed.part_id == id.to_string()
    }

    /// Whether the location select shows `id`: the one chosen before a refusal, else
    /// the work order's own.
    pub fn location_chosen(&self, id: &i64, work_order_location: &Option<i64>) -> bool {
        if self.typed.location_id.is_empty() {
            *work_order_location == Some(*id)
        } else {
            self.typed.location_id == id.to_string()
        }
    }

    pub fn quantity(&self) -> &str {
        if self.typed.quantity.is_empty() {
            "1"
        } else {
            &self.typed.quantity
        }
    }
}

pub(super) async fn parts_block(
    web: &Web,
    work_order_id: i64,
) -> Result<PartsBlock, nexus_core::pages::Halt> {
    let db = web.state.db.read();
    let used = service::work_order_parts(db, work_order_id)
        .await
        .or_page(web)?;
    let (choices, locations) = if web.user.can("work_orders:write") && web.user.can(READ) {
        let page = PageParams {
            limit: Some(500),
            ..PageParams::default()
        };
        let parts = service::list_parts(db, &PartFilter::default(), &page)
            .await
            .or_page(web)?;
        let locations = service::all_locations(db).await.or_page(web)?;
        (
            parts
                .items
                .into_iter()
                .filter(|p| p.quantity_in_stock > 0)
                .collect(),
            locations,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(PartsBlock {
        used,
        choices,
        locations,
        typed: UseForm::default(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UseForm {
    pub part_id: String,
    pub location_id: String,
    pub quantity: String,
}

async fn use_part(web: Web, Path(id): Path<i64>, Posted(form): Posted<UseForm>) -> Page {
    web.require("work_orders:write")?;
    let outcome = async {
        let mut v = Validator::new();
        let part = chosen_id("part_id", &form.part_id, "part");
        let location = chosen_id("location_id", &form.location_id, "location");
        v.check(matches!(part, Ok(Some(_))), "part_id", "choose the part");
        v.check(
            matches!(location, Ok(Some(_))),
            "location_id",
            "choose where it comes from",
        );
        let quantity = number(&mut v, "quantity", &form.quantity);
        v.finish()?;
        let req = UsePart {
            part_id: part.ok().flatten().unwrap_or_default(),
            location_id: location.ok().flatten().unwrap_or_default(),
            quantity: quantity.unwrap_or_default(),
        };
        service::use_part(&web.state, &web.audit(), id, req).await
    }
    .await;
    match outcome {
        Ok(_) => Ok(
            Redirect::to(&format!("/maintenance/work-orders/{id}?done=parts#parts"))
                .into_response(),
        ),
        Err(err) => {
            let extra = super::work_orders::Extra {
                parts: form,
                ..Default::default()
            };
            super::work_orders::refused_with(&web, id, None, err, extra).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_and_out() {
        assert_eq!(cents("c", "12.5").unwrap(), Some(1250));
        assert_eq!(cents("c", "12,05").unwrap(), Some(1205));
        assert_eq!(cents("c", " 7 ").unwrap(), Some(700));
        assert_eq!(cents("c", "").unwrap(), None);
        assert!(cents("c", "1.234").is_err());
        assert!(cents("c", "abc").is_err());
        assert_eq!(money(1205), "$12.05");
        assert_eq!(money(-5), "-$0.05");
    }
}

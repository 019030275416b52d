//! Request and response types of parts, stock per location and the stock ledger.

use nexus_core::validate::{Validator, clean};
use nexus_core::{ApiResult, Timestamp};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use nexus_core::validate::patch;

/// The kinds of stock movement, as stored in the ledger.
pub const MOVEMENT_KINDS: [&str; 5] = [
    "receive",
    "consume",
    "adjust",
    "transfer_out",
    "transfer_in",
];

/// The most units one movement may carry.
pub const MAX_MOVE: i64 = 1_000_000_000;

// ---------------------------------------------------------------- parts

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartOut {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    /// In minor units (cents).
    pub unit_cost_cents: i64,
    pub supplier: Option<String>,
    pub image_url: Option<String>,
    /// At or below this total the part is low on stock.
    pub reorder_point: Option<i64>,
    pub reorder_quantity: Option<i64>,
    /// The sum over every location.
    pub quantity_in_stock: i64,
    /// `quantity_in_stock` is at or below `reorder_point`.
    pub low_stock: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// A part as written: what create sends, and what an update yields once applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartData {
    /// Unique regardless of case.
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    /// In minor units (cents); 0 when absent.
    pub unit_cost_cents: Option<i64>,
    pub supplier: Option<String>,
    pub image_url: Option<String>,
    pub reorder_point: Option<i64>,
    pub reorder_quantity: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePart {
    pub sku: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    pub unit_cost_cents: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub supplier: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub image_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub reorder_point: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub reorder_quantity: Option<Option<i64>>,
}

impl UpdatePart {
    pub fn apply(self, d: &mut PartData) {
        patch(&mut d.sku, self.sku);
        patch(&mut d.name, self.name);
        patch(&mut d.description, self.description);
        patch(&mut d.category, self.category);
        if self.unit_cost_cents.is_some() {
            d.unit_cost_cents = self.unit_cost_cents;
        }
        patch(&mut d.supplier, self.supplier);
        patch(&mut d.image_url, self.image_url);
        patch(&mut d.reorder_point, self.reorder_point);
        patch(&mut d.reorder_quantity, self.reorder_quantity);
    }
}

impl PartData {
    /// Trims texts and checks every field; 422 with all errors.
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.sku = self.sku.trim().to_string();
        v.text("sku", &self.sku, 1, 50);
        v.check(
            !self.sku.chars().any(char::is_control),
            "sku",
            "may not contain control characters",
        );
        self.name = self.name.trim().to_string();
        v.text("name", &self.name, 1, 100);
        for (field, value, max) in [
            ("description", &mut self.description, 5000),
            ("category", &mut self.category, 50),
            ("supplier", &mut self.supplier, 100),
            ("image_url", &mut self.image_url, 255),
        ] {
            *value = clean(value.take());
            v.opt_text(field, value.as_deref(), max);
        }
        let cost = *self.unit_cost_cents.get_or_insert(0);
        v.check(
            (0..=1_000_000_000_000).contains(&cost),
            "unit_cost_cents",
            "must be zero or more (in cents)",
        );
        for (field, value) in [
            ("reorder_point", self.reorder_point),
            ("reorder_quantity", self.reorder_quantity),
        ] {
            v.check(
                value.is_none_or(|q| (0..=MAX_MOVE).contains(&q)),
                field,
                format!("must be between 0 and {MAX_MOVE}"),
            );
        }
        v.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartFilter {
    /// Matches SKU or name, ignoring case.
    pub q: Option<String>,
    pub category: Option<String>,
    /// Only parts at or below their reorder point.
    pub low_stock: Option<bool>,
}

// ---------------------------------------------------------------- stock

/// A part's stock at one location.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLevel {
    pub location_id: i64,
    pub location_name: String,
    pub quantity: i64,
    pub updated_at: Timestamp,
}

/// A part's stock, in total and per location (every location it was ever stocked at).
#[derive(Debug, Serialize, ToSchema)]
pub struct PartStockOut {
    pub part_id: i64,
    pub sku: String,
    pub quantity_in_stock: i64,
    pub reorder_point: Option<i64>,
    pub low_stock: bool,
    pub locations: Vec<StockLevel>,
}

/// Units arriving at a location.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveStock {
    pub location_id: i64,
    /// More than zero.
    pub quantity: i64,
    /// What each unit cost, in cents; the part's unit cost when absent.
    pub unit_cost_cents: Option<i64>,
    pub reason: Option<String>,
}

/// Units taken from a location.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumeStock {
    pub location_id: i64,
    /// More than zero, at most what the location holds.
    pub quantity: i64,
    pub reason: Option<String>,
}

/// A correction of a location's stock (a count, damage, loss), with its reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustStock {
    pub location_id: i64,
    /// Signed, not zero: what to add (or, negative, take away).
    pub quantity: i64,
    /// Required.
    pub reason: Option<String>,
}

/// Units moving from one location to another.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferStock {
    pub from_location_id: i64,
    pub to_location_id: i64,
    /// More than zero, at most what the source holds.
    pub quantity: i64,
    pub reason: Option<String>,
}

/// A validated stock change, as the ledger writes it.
#[derive(Debug, Clone)]
pub struct StockChange {
    pub location_id: i64,
    /// Signed.
    pub quantity: i64,
    pub unit_cost_cents: Option<i64>,
    pub reason: Option<String>,
}

fn check_quantity(v: &mut Validator, q: i64) {
    v.check(
        (1..=MAX_MOVE).contains(&q),
        "quantity",
        format!("must be between 1 and {MAX_MOVE}"),
    );
}

fn check_reason(v: &mut Validator, reason: Option<String>, required: bool) -> Option<String> {
    let reason = clean(reason);
    v.opt_text("reason", reason.as_deref(), 1000);
    v.check(!required || reason.is_some(), "reason", "is required");
    reason
}

impl ReceiveStock {
    pub fn validate(self) -> ApiResult<StockChange> {
        let mut v = Validator::new();
        check_quantity(&mut v, self.quantity);
        v.check(
            self.unit_cost_cents
                .is_none_or(|c| (0..=1_000_000_000_000).contains(&c)),
            "unit_cost_cents",
            "must be zero or more (in cents)",
        );
        let reason = check_reason(&mut v, self.reason, false);
        v.finish()?;
        Ok(StockChange {
            location_id: self.location_id,
            quantity: self.quantity,
            unit_cost_cents: self.unit_cost_cents,
            reason,
        })
    }
}

impl ConsumeStock {
    pub fn validate(self) -> ApiResult<StockChange> {
        let mut v = Validator::new();
        check_quantity(&mut v, self.quantity);
        let reason = check_reason(&mut v, self.reason, false);
        v.finish()?;
        Ok(StockChange {
            location_id: self.location_id,
            quantity: -self.quantity,
            unit_cost_cents: None,
            reason,
        })
    }
}

impl AdjustStock {
    pub fn validate(self) -> ApiResult<StockChange> {
        let mut v = Validator::new();
        v.check(
            self.quantity != 0 && self.quantity.unsigned_abs() <= MAX_MOVE.unsigned_abs(),
            "quantity",
            format!("must not be zero, and at most {MAX_MOVE} either way"),
        );
        let reason = check_reason(&mut v, self.reason, true);
        v.finish()?;
        Ok(StockChange {
            location_id: self.location_id,
            quantity: self.quantity,
            unit_cost_cents: None,
            reason,
        })
    }
}

impl TransferStock {
    /// The validated transfer: (from, to, units, reason).
    pub fn validate(self) -> ApiResult<(i64, i64, i64, Option<String>)> {
        let mut v = Validator::new();
        check_quantity(&mut v, self.quantity);
        v.check(
            self.from_location_id != self.to_location_id,
            "to_location_id",
            "must differ from from_location_id",
        );
        let reason = check_reason(&mut v, self.reason, false);
        v.finish()?;
        Ok((
            self.from_location_id,
            self.to_location_id,
            self.quantity,
            reason,
        ))
    }
}

// ---------------------------------------------------------------- ledger

/// One line of the stock ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = StockMovementOut)]
pub struct MovementOut {
    pub id: i64,
    pub part_id: i64,
    pub location_id: i64,
    /// receive, consume, adjust, transfer_out or transfer_in.
    pub kind: String,
    /// Signed: added to (positive) or taken from (negative) the location.
    pub quantity: i64,
    /// The location's stock right after this movement.
    pub balance_after: i64,
    pub unit_cost_cents: i64,
    pub work_order_id: Option<i64>,
    /// The same on both legs of a transfer.
    pub transfer_id: Option<i64>,
    pub reason: Option<String>,
    pub actor_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementFilter {
    pub part_id: Option<i64>,
    pub location_id: Option<i64>,
    pub kind: Option<String>,
    pub work_order_id: Option<i64>,
    /// The previous page's `next_after`.
    pub after: Option<i64>,
    /// Default 50, at most 500.
    pub limit: Option<u64>,
}

/// A page of the ledger, newest first; pass `next_after` as `after` for the next page.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StockMovementPage)]
pub struct MovementPage {
    pub items: Vec<MovementOut>,
    pub limit: u64,
    pub next_after: Option<i64>,
}

/// The `part.low_stock` event: a part's total fell to or below its reorder point.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LowStock {
    pub part_id: i64,
    pub sku: String,
    pub name: String,
    pub quantity_in_stock: i64,
    pub reorder_point: i64,
    pub reorder_quantity: Option<i64>,
    /// The location whose movement crossed the point.
    pub location_id: i64,
}

// ---------------------------------------------------------------- parts on work orders

/// Units of a part used on a work order, taken from a location's stock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsePart {
    pub part_id: i64,
    pub location_id: i64,
    /// More than zero, at most what the location holds.
    pub quantity: i64,
}

impl UsePart {
    pub fn validate(self) -> ApiResult<(i64, StockChange)> {
        let mut v = Validator::new();
        check_quantity(&mut v, self.quantity);
        v.finish()?;
        Ok((
            self.part_id,
            StockChange {
                location_id: self.location_id,
                quantity: -self.quantity,
                unit_cost_cents: None,
                reason: None,
            },
        ))
    }
}

/// A part used on a work order, with its cost at the time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkOrderPartOut {
    /// The ledger line.
    pub movement_id: i64,
    pub part_id: i64,
    pub sku: String,
    pub name: String,
    pub location_id: i64,
    /// Units used (positive).
    pub quantity: i64,
    pub unit_cost_cents: i64,
    /// `quantity × unit_cost_cents`.
    pub cost_cents: i64,
    pub used_by: Option<i64>,
    pub created_at: Timestamp,
}

/// Every part used on a work order, oldest first, with the total cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkOrderParts {
    pub items: Vec<WorkOrderPartOut>,
    pub total_cost_cents: i64,
}

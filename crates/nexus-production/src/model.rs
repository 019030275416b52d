//! Request and response types of production tracking, their validation, and the
//! domain's permissions.

use chrono::NaiveDate;
use nexus_core::domain::PermissionDef;
use nexus_core::validate::{Validator, clean};
use nexus_core::{ApiError, ApiResult, Timestamp};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Permission types of this domain, for `Require<...>` in handlers.
pub mod perm {
    nexus_core::permissions! {
        ProductionRead = "production:read";
        ProductionRecord = "production:record";
        ProductionCorrect = "production:correct";
        ProductionImport = "production:import";
        ProductionConfigure = "production:configure";
        WorkCentersRead = "work_centers:read";
        WorkCentersWrite = "work_centers:write";
    }
}

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        name: "production:read",
        description: "View movements, WIP, the live board and production reports",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "production:record",
        description: "Record production order movements at work centers",
        granted_to: &["manager", "staff", "user"],
    },
    PermissionDef {
        name: "production:correct",
        description: "Reverse a movement recorded by mistake",
        granted_to: &["manager", "staff"],
    },
    PermissionDef {
        name: "production:import",
        description: "Import movements from CSV",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "production:configure",
        description: "Change production settings (time zone, negative WIP)",
        granted_to: &[],
    },
    PermissionDef {
        name: "work_centers:read",
        description: "List and view work centers",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "work_centers:write",
        description: "Create and change work centers",
        granted_to: &["manager"],
    },
];

/// Longest date range a report may cover, in days.
pub const MAX_REPORT_DAYS: i64 = 366;

/// The direction of a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum OrderType {
    #[serde(rename = "IN")]
    In,
    #[serde(rename = "OUT")]
    Out,
}

impl OrderType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "IN",
            Self::Out => "OUT",
        }
    }

    /// Parses `IN`/`OUT` in any case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "IN" => Some(Self::In),
            "OUT" => Some(Self::Out),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkCenterOut {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub department_id: Option<i64>,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkCenter {
    /// Short unique code, e.g. `WC001`.
    pub code: String,
    pub name: String,
    pub department_id: Option<i64>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkCenter {
    pub code: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub department_id: Option<Option<i64>>,
    pub is_active: Option<bool>,
}

pub fn valid_code(v: &mut Validator, code: &str) {
    v.text("code", code, 1, 20);
    v.check(
        code.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
        "code",
        "may contain letters, digits, '-', '_' and '.' only",
    );
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkCenterFilter {
    pub is_active: Option<bool>,
    pub department_id: Option<i64>,
}

/// A movement to record. The user and the time are set by the server.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordMovement {
    /// Production order number, 1-50 characters (trimmed).
    pub production_order: String,
    pub workcenter_id: i64,
    /// Units moved: a positive whole number.
    pub quantity: i64,
    /// `IN` or `OUT`.
    pub order_type: String,
    pub scrap_quantity: Option<i64>,
    pub shift: Option<String>,
    pub note: Option<String>,
}

/// A movement after validation: what the service writes.
#[derive(Debug, Clone)]
pub struct NewMovement {
    pub production_order: String,
    pub workcenter_id: i64,
    pub quantity: i32,
    pub order_type: OrderType,
    pub scrap_quantity: i32,
    pub shift: Option<String>,
    pub note: Option<String>,
}

impl RecordMovement {
    /// Trims and checks every field; `prefix` names the row in an import.
    pub fn validate(self, v: &mut Validator, prefix: &str) -> Option<NewMovement> {
        let f = |name: &str| format!("{prefix}{name}");
        let order = self.production_order.trim().to_string();
        v.text(&f("production_order"), &order, 1, 50);
        let order_type = OrderType::parse(&self.order_type);
        v.check(order_type.is_some(), &f("order_type"), "must be IN or OUT");
        v.check(
            self.quantity > 0,
            &f("quantity"),
            "must be a positive whole number",
        );
        v.check(
            self.quantity <= 1_000_000_000,
            &f("quantity"),
            "must be at most 1000000000",
        );
        let scrap = self.scrap_quantity.unwrap_or(0);
        v.check(
            (0..=1_000_000_000).contains(&scrap),
            &f("scrap_quantity"),
            "must be zero or a positive whole number",
        );
        // Only against a quantity that is itself valid, so one mistake gives one error.
        let scrap_fits = self.quantity <= 0 || scrap <= self.quantity;
        v.check(
            scrap_fits,
            &f("scrap_quantity"),
            "must not be more than the quantity moved",
        );
        let shift = clean(self.shift);
        let note = clean(self.note);
        v.opt_text(&f("shift"), shift.as_deref(), 20);
        v.opt_text(&f("note"), note.as_deref(), 500);
        v.check(
            self.workcenter_id > 0,
            &f("workcenter_id"),
            "must be a work center id",
        );
        let ok = !order.is_empty()
            && order.chars().count() <= 50
            && self.quantity > 0
            && self.quantity <= 1_000_000_000
            && (0..=1_000_000_000).contains(&scrap)
            && scrap_fits
            && shift.as_deref().is_none_or(|s| s.chars().count() <= 20)
            && note.as_deref().is_none_or(|s| s.chars().count() <= 500);
        match (ok, order_type) {
            (true, Some(order_type)) => Some(NewMovement {
                production_order: order,
                workcenter_id: self.workcenter_id,
                quantity: self.quantity as i32,
                order_type,
                scrap_quantity: scrap as i32,
                shift,
                note,
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MovementOut {
    pub id: i64,
    pub production_order: String,
    pub workcenter_id: i64,
    pub quantity: i32,
    /// `IN` or `OUT`.
    pub order_type: String,
    pub scrap_quantity: i32,
    pub shift: Option<String>,
    pub note: Option<String>,
    pub user_id: i64,
    /// Set on a reversal: the movement it undoes.
    pub reverses_id: Option<i64>,
    pub created_at: Timestamp,
}

/// A recorded movement with the order's WIP at that work center afterwards.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedMovement {
    #[serde(flatten)]
    pub movement: MovementOut,
    pub wip: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseMovement {
    /// Why the movement is being undone.
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementFilter {
    pub production_order: Option<String>,
    pub workcenter_id: Option<i64>,
    /// `IN` or `OUT`.
    pub order_type: Option<String>,
    pub user_id: Option<i64>,
    /// Movements at or after this instant (RFC 3339).
    pub from: Option<Timestamp>,
    /// Movements before this instant (RFC 3339).
    pub to: Option<Timestamp>,
    /// The previous page's `next_after`.
    pub after: Option<String>,
    pub limit: Option<u64>,
}

/// A page of movements, newest first; pass `next_after` as `after` for the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementPage {
    pub items: Vec<MovementOut>,
    pub limit: u64,
    pub next_after: Option<String>,
}

/// The keyset cursor of a movement list: `created_at.id` of the last item.
pub fn parse_cursor(s: &str) -> ApiResult<(i64, i64)> {
    s.split_once('.')
        .and_then(|(t, id)| Some((t.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(|| ApiError::invalid("after", "is not a cursor from a previous page"))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WipOut {
    pub production_order: String,
    pub workcenter_id: i64,
    pub qty_in: i64,
    pub qty_out: i64,
    pub wip: i64,
}

/// Which WIP to list: one work center, orders whose number contains a text.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WipFilter {
    pub workcenter_id: Option<i64>,
    /// Orders whose number contains this, ignoring case.
    pub production_order: Option<String>,
}

/// One order's WIP per work center and its movements, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderHistory {
    pub production_order: String,
    pub wip: Vec<WipOut>,
    pub movements: Vec<MovementOut>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day, `YYYY-MM-DD`, in the plant's time zone.
    #[param(value_type = String)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive).
    #[param(value_type = String)]
    pub to: Option<NaiveDate>,
    pub workcenter_id: Option<i64>,
    /// `csv` for a CSV download (or send `Accept: text/csv`).
    pub format: Option<String>,
    /// How many orders the top-orders report lists (default 10, at most 100).
    pub limit: Option<u64>,
}

impl ReportQuery {
    /// The range, checked: both ends given, not backwards, at most `MAX_REPORT_DAYS`.
    pub fn range(&self) -> ApiResult<(NaiveDate, NaiveDate)> {
        let mut v = Validator::new();
        v.check(self.from.is_some(), "from", "is required (YYYY-MM-DD)");
        v.check(self.to.is_some(), "to", "is required (YYYY-MM-DD)");
        v.finish()?;
        let (from, to) = (self.from.unwrap_or_default(), self.to.unwrap_or_default());
        if to < from {
            return Err(ApiError::invalid("to", "must not be before `from`"));
        }
        if (to - from).num_days() + 1 > MAX_REPORT_DAYS {
            return Err(ApiError::invalid(
                "to",
                format!("a report covers at most {MAX_REPORT_DAYS} days"),
            ));
        }
        Ok((from, to))
    }

    pub fn wants_csv(&self) -> bool {
        self.format
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("csv"))
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DailyRow {
    pub day: String,
    pub workcenter_id: i64,
    pub workcenter_code: String,
    /// `IN` or `OUT`.
    pub order_type: String,
    pub movements: i64,
    pub quantity: i64,
    pub scrap: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DailySummary {
    pub from: String,
    pub to: String,
    pub timezone: String,
    pub rows: Vec<DailyRow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkCenterTotal {
    pub workcenter_id: i64,
    pub workcenter_code: String,
    pub workcenter_name: String,
    pub in_movements: i64,
    pub in_quantity: i64,
    pub out_movements: i64,
    pub out_quantity: i64,
    pub scrap: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopOrder {
    pub production_order: String,
    pub movements: i64,
    /// Units moved OUT (produced) in the range.
    pub out_quantity: i64,
    pub in_quantity: i64,
}

/// Production settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductionSettings {
    /// IANA time zone that days are counted in, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Whether an OUT may exceed the order's WIP at the work center.
    pub allow_negative_wip: bool,
}

impl Default for ProductionSettings {
    fn default() -> Self {
        Self {
            timezone: "UTC".into(),
            allow_negative_wip: false,
        }
    }
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MovementImportResult)]
pub struct ImportResult {
    pub imported: u64,
}

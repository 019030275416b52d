//! Request and response types of locations, asset types and assets, with validation.

use chrono::NaiveDate;
use nexus_core::validate::{Validator, clean, patch};
use nexus_core::{ApiResult, Timestamp};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The statuses an asset can be in.
pub const ASSET_STATUSES: [&str; 4] = ["operational", "maintenance", "down", "retired"];

// ---------------------------------------------------------------- locations

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocationOut {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub parent_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// A location as written: what create sends, and what an update yields once applied.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LocationData {
    pub name: String,
    pub description: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    /// Degrees, -90..90.
    pub latitude: Option<f64>,
    /// Degrees, -180..180.
    pub longitude: Option<f64>,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLocation {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub state: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
    /// Moves the location (and everything under it) to another parent.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<i64>>,
}

impl UpdateLocation {
    pub fn apply(self, d: &mut LocationData) {
        patch(&mut d.name, self.name);
        patch(&mut d.description, self.description);
        patch(&mut d.address, self.address);
        patch(&mut d.city, self.city);
        patch(&mut d.state, self.state);
        patch(&mut d.country, self.country);
        patch(&mut d.postal_code, self.postal_code);
        patch(&mut d.latitude, self.latitude);
        patch(&mut d.longitude, self.longitude);
        patch(&mut d.parent_id, self.parent_id);
    }
}

impl LocationData {
    /// Trims texts and checks every field; 422 with all errors.
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.name = self.name.trim().to_string();
        v.text("name", &self.name, 1, 100);
        for (field, value, max) in [
            ("description", &mut self.description, 5000),
            ("address", &mut self.address, 1000),
            ("city", &mut self.city, 100),
            ("state", &mut self.state, 100),
            ("country", &mut self.country, 100),
            ("postal_code", &mut self.postal_code, 20),
        ] {
            *value = clean(value.take());
            v.opt_text(field, value.as_deref(), max);
        }
        v.check(
            self.latitude.is_none_or(|l| (-90.0..=90.0).contains(&l)),
            "latitude",
            "must be between -90 and 90",
        );
        v.check(
            self.longitude.is_none_or(|l| (-180.0..=180.0).contains(&l)),
            "longitude",
            "must be between -180 and 180",
        );
        v.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocationAssetsQuery {
    /// Also the assets of every location below this one.
    pub include_descendants: Option<bool>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

// ---------------------------------------------------------------- asset types

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssetTypeOut {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// An icon name, e.g. `pump`.
    pub icon: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetTypeData {
    pub name: String,
    pub description: Option<String>,
    pub icon: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssetType {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub icon: Option<Option<String>>,
}

impl UpdateAssetType {
    pub fn apply(self, d: &mut AssetTypeData) {
        patch(&mut d.name, self.name);
        patch(&mut d.description, self.description);
        patch(&mut d.icon, self.icon);
    }
}

impl AssetTypeData {
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.name = self.name.trim().to_string();
        v.text("name", &self.name, 1, 100);
        self.description = clean(self.description);
        v.opt_text("description", self.description.as_deref(), 5000);
        self.icon = clean(self.icon);
        v.opt_text("icon", self.icon.as_deref(), 50);
        v.finish()?;
        Ok(self)
    }
}

// ---------------------------------------------------------------- assets

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssetOut {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub asset_type_id: Option<i64>,
    /// operational, maintenance, down or retired.
    pub status: String,
    pub health_score: Option<i32>,
    pub location_id: Option<i64>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    /// The plant's own asset tag (unique when set).
    pub tag: Option<String>,
    pub installation_date: Option<String>,
    /// In minor units (cents).
    pub purchase_cost_cents: Option<i64>,
    /// In months.
    pub expected_lifetime: Option<i32>,
    pub warranty_expiry_date: Option<String>,
    /// A (a stop halts production), B (it slows production) or C (neither).
    pub criticality: Option<String>,
    pub purchase_date: Option<String>,
    pub last_maintenance_date: Option<String>,
    pub next_maintenance_date: Option<String>,
    pub parent_asset_id: Option<i64>,
    /// The random token the asset's QR code carries.
    pub qr_code: String,
    pub image_url: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    pub version: i32,
}

/// An asset as written: what create sends, and what an update yields once applied.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AssetData {
    pub name: String,
    pub description: Option<String>,
    pub asset_type_id: Option<i64>,
    /// operational (default), maintenance, down or retired.
    pub status: Option<String>,
    /// 0-100.
    pub health_score: Option<i64>,
    pub location_id: Option<i64>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    /// The plant's own asset tag (unique when set).
    pub tag: Option<String>,
    #[schema(value_type = Option<String>)]
    pub installation_date: Option<NaiveDate>,
    /// In minor units (cents).
    pub purchase_cost_cents: Option<i64>,
    /// In months.
    pub expected_lifetime: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub warranty_expiry_date: Option<NaiveDate>,
    /// A (a stop halts production), B (it slows production) or C (neither).
    pub criticality: Option<String>,
    #[schema(value_type = Option<String>)]
    pub purchase_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub last_maintenance_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub next_maintenance_date: Option<NaiveDate>,
    pub parent_asset_id: Option<i64>,
    pub image_url: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAsset {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub asset_type_id: Option<Option<i64>>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub health_score: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub location_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub manufacturer: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub model: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub serial_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub tag: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub installation_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub purchase_cost_cents: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub expected_lifetime: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub warranty_expiry_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub criticality: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub purchase_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub last_maintenance_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub next_maintenance_date: Option<Option<NaiveDate>>,
    /// Moves the asset (and its components) under another asset; `null` makes it a root.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub parent_asset_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub image_url: Option<Option<String>>,
    /// Why the asset went down: only with `"status": "down"`, recorded on the downtime
    /// interval that opens.
    pub downtime_reason: Option<String>,
}

impl UpdateAsset {
    /// Takes the trimmed downtime reason; 422 when given without `"status": "down"`.
    pub fn downtime_reason(&mut self) -> ApiResult<Option<String>> {
        let reason = clean(self.downtime_reason.take());
        let mut v = Validator::new();
        v.check(
            reason.is_none()
                || self
                    .status
                    .as_deref()
                    .is_some_and(|s| s.trim().eq_ignore_ascii_case("down")),
            "downtime_reason",
            "can only be given when setting status to down",
        );
        v.opt_text("downtime_reason", reason.as_deref(), 2000);
        v.finish()?;
        Ok(reason)
    }

    pub fn apply(self, d: &mut AssetData) {
        patch(&mut d.name, self.name);
        patch(&mut d.description, self.description);
        patch(&mut d.asset_type_id, self.asset_type_id);
        if self.status.is_some() {
            d.status = self.status;
        }
        patch(&mut d.health_score, self.health_score);
        patch(&mut d.location_id, self.location_id);
        patch(&mut d.manufacturer, self.manufacturer);
        patch(&mut d.model, self.model);
        patch(&mut d.serial_number, self.serial_number);
        patch(&mut d.tag, self.tag);
        patch(&mut d.installation_date, self.installation_date);
        patch(&mut d.purchase_cost_cents, self.purchase_cost_cents);
        patch(&mut d.expected_lifetime, self.expected_lifetime);
        patch(&mut d.warranty_expiry_date, self.warranty_expiry_date);
        patch(&mut d.criticality, self.criticality);
        patch(&mut d.purchase_date, self.purchase_date);
        patch(&mut d.last_maintenance_date, self.last_maintenance_date);
        patch(&mut d.next_maintenance_date, self.next_maintenance_date);
        patch(&mut d.parent_asset_id, self.parent_asset_id);
        patch(&mut d.image_url, self.image_url);
    }
}

impl AssetData {
    /// Trims texts and checks every field; 422 with all errors.
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.name = self.name.trim().to_string();
        v.text("name", &self.name, 1, 100);
        for (field, value, max) in [
            ("description", &mut self.description, 5000),
            ("manufacturer", &mut self.manufacturer, 100),
            ("model", &mut self.model, 100),
            ("serial_number", &mut self.serial_number, 100),
            ("tag", &mut self.tag, 50),
            ("image_url", &mut self.image_url, 255),
        ] {
            *value = clean(value.take());
            v.opt_text(field, value.as_deref(), max);
        }
        let status = self.status.get_or_insert_with(|| "operational".into());
        *status = status.trim().to_lowercase();
        v.check(
            ASSET_STATUSES.contains(&status.as_str()),
            "status",
            "must be operational, maintenance, down or retired",
        );
        self.criticality = clean(self.criticality.take()).map(|c| c.to_uppercase());
        v.check(
            self.criticality
                .as_deref()
                .is_none_or(|c| ["A", "B", "C"].contains(&c)),
            "criticality",
            "must be A, B or C",
        );
        v.check(
            self.health_score.is_none_or(|h| (0..=100).contains(&h)),
            "health_score",
            "must be between 0 and 100",
        );
        v.check(
            self.purchase_cost_cents
                .is_none_or(|c| (0..=1_000_000_000_000_000).contains(&c)),
            "purchase_cost_cents",
            "must be zero or more (in cents)",
        );
        v.check(
            self.expected_lifetime
                .is_none_or(|m| (0..=12_000).contains(&m)),
            "expected_lifetime",
            "must be between 0 and 12000 months",
        );
        v.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetFilter {
    /// Matches name or serial number, ignoring case.
    pub q: Option<String>,
    pub status: Option<String>,
    pub asset_type_id: Option<i64>,
    pub location_id: Option<i64>,
    pub parent_asset_id: Option<i64>,
}

/// An asset in a subtree with its depth below the subtree's root (the root is 0).
#[derive(Debug, Serialize, ToSchema)]
pub struct SubtreeItem {
    pub depth: i64,
    #[serde(flatten)]
    pub asset: AssetOut,
}

/// A location or an asset in a branch of the trees.
#[derive(Debug, Clone)]
pub enum TreeItem {
    Location(Box<LocationOut>),
    Asset(Box<AssetOut>),
}

/// A node of the location and asset trees with what hangs below it.
#[derive(Debug, Clone)]
pub struct TreeNode {
    pub node: TreeItem,
    /// Inner locations of a location, components of an asset.
    pub below: u64,
    /// Assets standing at a location (0 for an asset).
    pub assets: u64,
}

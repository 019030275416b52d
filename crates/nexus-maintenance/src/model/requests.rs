//! Request and response types of public work requests, with validation.

use chrono::NaiveDate;
use nexus_core::validate::{Validator, clean};
use nexus_core::{ApiResult, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The states of a work request.
pub const REQUEST_STATUSES: [&str; 3] = ["pending", "approved", "rejected"];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkRequestOut {
    pub id: i64,
    pub asset_id: Option<i64>,
    pub location_id: Option<i64>,
    pub title: String,
    pub description: Option<String>,
    pub requester_name: String,
    pub requester_contact: Option<String>,
    /// The photo sent with the request (a private file).
    pub photo_file_id: Option<i64>,
    /// pending, approved or rejected.
    pub status: String,
    /// The work order an approval created.
    pub work_order_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<Timestamp>,
    pub rejection_reason: Option<String>,
    pub client_ip: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// What the anonymous sender gets back: enough to refer to the request, nothing more.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkRequestReceipt {
    pub id: i64,
    pub status: String,
    pub created_at: Timestamp,
}

/// A work request as sent from the public form (JSON, or multipart with a `photo`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkRequest {
    /// The token in the asset's QR code.
    pub qr_code: String,
    pub title: String,
    pub description: Option<String>,
    pub requester_name: String,
    /// Phone or e-mail, to be called back.
    pub requester_contact: Option<String>,
}

impl NewWorkRequest {
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.qr_code = self.qr_code.trim().to_string();
        v.text("qr_code", &self.qr_code, 1, 64);
        self.title = self.title.trim().to_string();
        v.text("title", &self.title, 1, 200);
        self.requester_name = self.requester_name.trim().to_string();
        v.text("requester_name", &self.requester_name, 1, 100);
        self.description = clean(self.description);
        v.opt_text("description", self.description.as_deref(), 5000);
        self.requester_contact = clean(self.requester_contact);
        v.opt_text("requester_contact", self.requester_contact.as_deref(), 255);
        v.finish()?;
        Ok(self)
    }
}

/// The multipart form of `POST /api/v1/work-requests` (documentation only).
#[derive(ToSchema)]
pub struct NewWorkRequestForm {
    pub qr_code: String,
    pub title: String,
    pub description: Option<String>,
    pub requester_name: String,
    pub requester_contact: Option<String>,
    /// A photo of the problem: an image, under the upload limit.
    #[schema(value_type = Option<String>, format = Binary)]
    pub photo: Option<Vec<u8>>,
}

/// How the work order an approval creates is set up; title, description, asset and
/// location come from the request.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveWorkRequest {
    /// corrective (default), preventive, inspection, emergency, ...
    #[serde(rename = "type")]
    pub work_order_type: Option<String>,
    /// low, medium (default), high or critical.
    pub priority: Option<String>,
    pub assigned_to_id: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub due_date: Option<NaiveDate>,
    pub estimated_minutes: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectWorkRequest {
    /// Why, for the record and the requester.
    pub reason: String,
}

impl RejectWorkRequest {
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.reason = self.reason.trim().to_string();
        v.text("reason", &self.reason, 1, 2000);
        v.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WorkRequestFilter {
    /// pending, approved or rejected.
    pub status: Option<String>,
    pub asset_id: Option<i64>,
    /// Paging: at most 500, default 50.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

impl WorkRequestFilter {
    pub fn validate(&self) -> ApiResult<()> {
        let mut v = Validator::new();
        v.check(
            self.status
                .as_deref()
                .is_none_or(|s| REQUEST_STATUSES.contains(&s)),
            "status",
            format!("must be one of {}", REQUEST_STATUSES.join(", ")),
        );
        v.finish()
    }
}

//! Request and response types of files and attachments, what may be attached to, and
//! this domain's permissions.

use nexus_core::domain::PermissionDef;
use nexus_core::{ApiResult, Timestamp, Validator};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Permission types of this domain, for `Require<...>` in handlers.
pub mod perm {
    nexus_core::permissions! {
        FilesRead = "files:read";
        FilesWrite = "files:write";
        FilesManage = "files:manage";
    }
}

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        name: "files:read",
        description: "View and download private files and list attachments",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "files:write",
        description: "Upload files and attach them to records",
        granted_to: &["manager", "staff", "user"],
    },
    PermissionDef {
        name: "files:manage",
        description: "Change the upload limits",
        granted_to: &[],
    },
];

/// Upload limit when none is set: 20 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: i64 = 20 * 1024 * 1024;
/// The most the limit may be raised to: uploads are held in memory while hashed.
pub const MAX_UPLOAD_CEILING: i64 = 1024 * 1024 * 1024;

/// Which files to list: by name, by who uploaded them.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileFilter {
    /// File name contains this, ignoring case.
    pub q: Option<String>,
    pub uploaded_by: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileOut {
    pub id: i64,
    /// The name it was uploaded with.
    pub filename: String,
    /// Sniffed from the content, not taken from the client.
    pub mime_type: String,
    pub file_size: i64,
    /// SHA-256 of the content, hex.
    pub file_hash: String,
    /// Public files download without signing in.
    pub is_public: bool,
    pub download_count: i64,
    pub description: Option<String>,
    pub uploaded_by: Option<i64>,
    pub created_at: Timestamp,
    /// Where to download it.
    pub content_url: String,
}

/// An uploaded file before it is stored.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: bytes::Bytes,
    pub is_public: bool,
    pub description: Option<String>,
}

/// The multipart form of `POST /api/v1/files` (documentation only: read field by field).
#[derive(ToSchema)]
pub struct UploadForm {
    /// The file; images, PDF, text, CSV and office documents.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// `true` to let anyone download it; default false.
    pub is_public: Option<bool>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentOut {
    pub id: i64,
    pub entity_type: String,
    pub entity_id: i64,
    pub file: FileOut,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachRequest {
    pub file_id: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilesSettings {
    /// Largest file accepted, in bytes.
    pub max_upload_bytes: i64,
}

impl FilesSettings {
    pub fn validate(self) -> ApiResult<Self> {
        let mut v = Validator::new();
        v.check(
            (1..=MAX_UPLOAD_CEILING).contains(&self.max_upload_bytes),
            "max_upload_bytes",
            format!("must be between 1 and {MAX_UPLOAD_CEILING}"),
        );
        v.finish()?;
        Ok(self)
    }
}

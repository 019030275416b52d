//! What a CSV import answers.

use serde::Serialize;
use utoipa::ToSchema;

/// Rows an import created and updated; unchanged rows count in neither.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub created: u64,
    pub updated: u64,
}

//! Settings of maintenance: where printed QR codes point.

use nexus_core::{ApiResult, Validator};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceSettings {
    /// The address people reach Nexus at, like `https://nexus.plant.example`; QR codes
    /// point below it. Unset: the address of the request that draws the code.
    pub public_url: Option<String>,
}

impl MaintenanceSettings {
    pub fn validate(mut self) -> ApiResult<Self> {
        self.public_url = nexus_core::validate::clean(self.public_url)
            .map(|u| u.trim_end_matches('/').to_string());
        let mut v = Validator::new();
        if let Some(url) = &self.public_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            v.check(
                rest.is_some_and(|r| {
                    !r.is_empty()
                        && !r.contains(|c: char| c.is_whitespace() || c == '"' || c == '<')
                }) && url.len() <= 255,
                "public_url",
                "must be an http:// or https:// address",
            );
        }
        v.finish()?;
        Ok(self)
    }
}

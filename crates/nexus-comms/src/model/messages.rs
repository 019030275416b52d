//! System messages: banners for everyone or for chosen users, until they expire.

use nexus_core::validate::{Validator, clean};
use nexus_core::{ApiResult, Timestamp};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The message types of `000_c229cfaa0d2d7bf6.txt`.
pub const MESSAGE_TYPES: [&str; 4] = ["info", "warning", "error", "success"];
/// Users one message may name.
pub const MAX_MESSAGE_TARGETS: usize = 1000;

/// A user a message is for, by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetUser {
    pub id: i64,
    pub username: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SystemMessageOut {
    pub id: i64,
    pub title: String,
    pub content: String,
    /// `info`, `warning`, `error` or `success`.
    pub message_type: String,
    /// For every signed-in user; otherwise for `target_users` only.
    pub is_broadcast: bool,
    pub target_users: Vec<TargetUser>,
    pub expires_at: Option<Timestamp>,
    /// None when the system posted it.
    pub created_by_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSystemMessage {
    /// 1 to 200 characters.
    pub title: String,
    /// 1 to 5,000 characters.
    pub content: String,
    /// `info` (default), `warning`, `error` or `success`.
    pub message_type: Option<String>,
    #[serde(default)]
    pub is_broadcast: bool,
    /// Ids of the users it is for, when not broadcast.
    #[serde(default)]
    pub target_users: Vec<i64>,
    /// In the future; never expires when absent.
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSystemMessage {
    pub title: Option<String>,
    pub content: Option<String>,
    pub message_type: Option<String>,
    pub is_broadcast: Option<bool>,
    pub target_users: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "present")]
    pub expires_at: Option<Option<Timestamp>>,
}

impl NewSystemMessage {
    /// Trims and checks every field against `now`; 422 naming each one at fault.
    pub fn validate(mut self, now: Timestamp) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.title = self.title.trim().to_string();
        v.text("title", &self.title, 1, 200);
        self.content = self.content.trim().to_string();
        v.text("content", &self.content, 1, 5000);
        let mut kind = clean(self.message_type.take()).unwrap_or_else(|| "info".into());
        v.choice("message_type", &mut kind, &MESSAGE_TYPES);
        self.message_type = Some(kind);
        self.target_users.sort_unstable();
        self.target_users.dedup();
        if self.is_broadcast {
            self.target_users.clear();
        }
        v.check(
            self.is_broadcast || !self.target_users.is_empty(),
            "target_users",
            "choose who it is for, or broadcast it to everyone",
        );
        v.check(
            self.target_users.len() <= MAX_MESSAGE_TARGETS,
            "target_users",
            format!("at most {MAX_MESSAGE_TARGETS} users"),
        );
        v.check(
            self.expires_at.is_none_or(|e| e > now),
            "expires_at",
            "must be in the future",
        );
        v.finish()?;
        Ok(self)
    }
}

impl UpdateSystemMessage {
    /// Applies the fields the request carried to `m`.
    pub fn apply(self, m: &mut NewSystemMessage) {
        use nexus_core::validate::patch;
        patch(&mut m.title, self.title);
        patch(&mut m.content, self.content);
        patch(&mut m.message_type, self.message_type.map(Some));
        patch(&mut m.is_broadcast, self.is_broadcast);
        patch(&mut m.target_users, self.target_users);
        patch(&mut m.expires_at, self.expires_at);
    }
}

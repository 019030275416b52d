//! Announcements (updates): what is composed, what readers and authors are shown, and
//! the checks on what is typed. The audience is checked against the database by the
//! service; here only the shape.

use nexus_core::validate::{Validator, patch};
use nexus_core::{ApiResult, ListResponse, Timestamp};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const UPDATE_TYPES: [&str; 5] = ["announcement", "alert", "maintenance", "update", "news"];
pub const UPDATE_PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];
pub const UPDATE_STATUSES: [&str; 4] = ["draft", "scheduled", "published", "unpublished"];
pub const MEDIA_TYPES: [&str; 3] = ["image", "video", "audio"];
/// Receipt states a report can be narrowed to.
pub const RECEIPT_STATES: [&str; 4] = ["unread", "read", "unacknowledged", "acknowledged"];
/// Users, departments or roles named in one audience at most.
pub const MAX_TARGETS: usize = 1000;
pub const MAX_CONTENT: usize = 20_000;
pub const MAX_COMMENT: usize = 2000;

/// A type, priority or status in words.
pub fn update_word(code: &str) -> &'static str {
    match code {
        "announcement" => "Announcement",
        "alert" => "Alert",
        "maintenance" => "Maintenance",
        "update" => "System update",
        "news" => "News",
        "low" => "Low",
        "medium" => "Medium",
        "high" => "High",
        "critical" => "Critical",
        "draft" => "Draft",
        "scheduled" => "Scheduled",
        "published" => "Published",
        "unpublished" => "Unpublished",
        "image" => "Image",
        "video" => "Video",
        "audio" => "Audio",
        _ => "Unknown",
    }
}

/// A role of an audience: by id or by name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RoleRef {
    Id(i64),
    Name(String),
}

/// Who receives an update besides `target_all`: users, departments and roles (by name or id).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    #[serde(default)]
    pub users: Vec<i64>,
    #[serde(default)]
    pub departments: Vec<i64>,
    #[serde(default)]
    pub roles: Vec<RoleRef>,
}

impl Targets {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.departments.is_empty() && self.roles.is_empty()
    }
}

/// A named member of an audience.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NamedRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TargetsOut {
    pub users: Vec<NamedRef>,
    pub departments: Vec<NamedRef>,
    pub roles: Vec<NamedRef>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpdate {
    /// At most 200 characters.
    pub title: String,
    /// Plain text with a safe subset of Markdown; raw HTML is shown as text.
    pub content: String,
    /// announcement, alert, maintenance, update or news.
    #[serde(rename = "type")]
    pub update_type: String,
    /// low, medium (default), high or critical.
    pub priority: Option<String>,
    /// Readers are asked to acknowledge it (a safety notice, a procedure change).
    #[serde(default)]
    pub ack_required: bool,
    /// Everyone active receives it; otherwise `targets` say who.
    #[serde(default)]
    pub target_all: bool,
    #[serde(default)]
    pub targets: Targets,
    /// draft (default), published (now) or scheduled (at `publish_at`).
    pub status: Option<String>,
    /// When a scheduled update is published; in the future.
    pub publish_at: Option<Timestamp>,
}

/// A change: the fields sent replace the stored ones. `status` publishes, schedules,
/// returns to draft or unpublishes.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChange {
    pub title: Option<String>,
    pub content: Option<String>,
    #[serde(rename = "type")]
    pub update_type: Option<String>,
    pub priority: Option<String>,
    pub ack_required: Option<bool>,
    pub target_all: Option<bool>,
    pub targets: Option<Targets>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Timestamp>)]
    pub publish_at: Option<Option<Timestamp>>,
}

/// An update as typed, checked and with every field known: what is stored.
#[derive(Debug, Clone)]
pub struct UpdateDraft {
    pub title: String,
    pub content: String,
    pub update_type: String,
    pub priority: String,
    pub ack_required: bool,
    pub target_all: bool,
    pub targets: Targets,
    pub status: String,
    pub publish_at: Option<Timestamp>,
}

impl From<NewUpdate> for UpdateDraft {
    fn from(n: NewUpdate) -> Self {
        Self {
            title: n.title,
            content: n.content,
            update_type: n.update_type,
            priority: n.priority.unwrap_or_else(|| "medium".into()),
            ack_required: n.ack_required,
            target_all: n.target_all,
            targets: n.targets,
            status: n.status.unwrap_or_else(|| {
                if n.publish_at.is_some() {
                    "scheduled".into()
                } else {
                    "draft".into()
                }
            }),
            publish_at: n.publish_at,
        }
    }
}

impl UpdateChange {
    /// Applies the fields the request carried to `d`; true when the audience changed.
    pub fn apply(self, d: &mut UpdateDraft) -> bool {
        let audience = self.target_all.is_some() || self.targets.is_some();
        patch(&mut d.title, self.title);
        patch(&mut d.content, self.content);
        patch(&mut d.update_type, self.update_type);
        patch(&mut d.priority, self.priority);
        patch(&mut d.ack_required, self.ack_required);
        patch(&mut d.target_all, self.target_all);
        patch(&mut d.targets, self.targets);
        let status = self.status.is_some();
        patch(&mut d.status, self.status);
        match self.publish_at {
            Some(at) => d.publish_at = at,
            // Leaving the schedule without naming a time forgets the old one.
            None if status && d.status != "scheduled" => d.publish_at = None,
            None => {}
        }
        audience
    }
}

impl UpdateDraft {
    /// Trims and checks every field against the rules that need no database; `now` for
    /// the schedule. 422 naming each field at fault.
    pub fn validate(mut self, now: Timestamp) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.title = self.title.trim().to_string();
        v.text("title", &self.title, 1, 200);
        self.content = self.content.trim_end().to_string();
        v.text("content", &self.content, 1, MAX_CONTENT);
        v.choice("type", &mut self.update_type, &UPDATE_TYPES);
        v.choice("priority", &mut self.priority, &UPDATE_PRIORITIES);
        v.choice("status", &mut self.status, &UPDATE_STATUSES);
        match (self.status.as_str(), self.publish_at) {
            ("scheduled", None) => v.add("publish_at", "is required to schedule"),
            ("scheduled", Some(at)) if at <= now => v.add("publish_at", "must be in the future"),
            ("scheduled", Some(_)) => {}
            (_, Some(_)) => v.add("publish_at", "is only for a scheduled update"),
            _ => {}
        }
        let t = &mut self.targets;
        t.users.sort_unstable();
        t.users.dedup();
        t.departments.sort_unstable();
        t.departments.dedup();
        t.roles.dedup();
        for (field, n) in [
            ("targets.users", t.users.len()),
            ("targets.departments", t.departments.len()),
            ("targets.roles", t.roles.len()),
        ] {
            v.check(
                n <= MAX_TARGETS,
                field,
                format!("at most {MAX_TARGETS} may be named"),
            );
        }
        if self.target_all {
            self.targets = Targets::default();
        }
        let sends = matches!(self.status.as_str(), "scheduled" | "published");
        v.check(
            !sends || self.target_all || !self.targets.is_empty(),
            "targets",
            "choose who receives it: everyone, or people, departments or roles",
        );
        v.finish()?;
        Ok(self)
    }
}

/// An update as listed: what a reader sees in a feed, with their own read and
/// acknowledgement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdateOut {
    pub id: i64,
    pub title: String,
    /// As typed (Markdown).
    pub content: String,
    /// The first words, without Markdown.
    pub excerpt: String,
    #[serde(rename = "type")]
    pub update_type: String,
    pub priority: String,
    pub status: String,
    pub ack_required: bool,
    pub target_all: bool,
    pub publish_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
    pub created_by_id: i64,
    pub created_by: String,
    /// Whether you are among its recipients.
    pub is_recipient: bool,
    pub read_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdateAttachmentOut {
    pub id: i64,
    pub file_id: i64,
    pub filename: String,
    pub file_size: i64,
    pub mime_type: String,
    pub uploaded_at: Timestamp,
    /// Where its recipients download it.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediaOut {
    pub id: i64,
    pub file_id: i64,
    /// image, video or audio.
    pub media_type: String,
    pub mime_type: String,
    pub caption: String,
    pub uploaded_at: Timestamp,
    pub url: String,
}

/// One update with its rendered content, audience, files, likes and comments count.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdateDetail {
    #[serde(flatten)]
    pub update: UpdateOut,
    /// The content as safe HTML.
    pub content_html: String,
    pub targets: TargetsOut,
    pub attachments: Vec<UpdateAttachmentOut>,
    pub media: Vec<MediaOut>,
    pub like_count: u64,
    pub liked_by_me: bool,
    pub comment_count: u64,
    /// Whether you may change it and see who read it.
    pub can_manage: bool,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpdateFilter {
    /// One type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub update_type: Option<String>,
    pub priority: Option<String>,
    /// Every update in this status (with `updates:manage`; else yours).
    pub status: Option<String>,
    /// The updates you wrote, whatever their status.
    pub mine: Option<bool>,
    /// Only those you have not read (your feed).
    pub unread: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnreadCount {
    /// Published to you and not read yet.
    pub unread: u64,
    /// Asking for your acknowledgement and not acknowledged yet.
    pub unacknowledged: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpdateComment {
    /// At most 2000 characters.
    pub content: String,
}

impl NewUpdateComment {
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.content = self.content.trim().to_string();
        v.text("content", &self.content, 1, MAX_COMMENT);
        v.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdateCommentOut {
    pub id: i64,
    pub update_id: i64,
    pub author_id: i64,
    pub author: String,
    pub content: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LikesOut {
    pub like_count: u64,
    pub liked_by_me: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttachment {
    /// A stored file (`/api/v1/files`) you may see.
    pub file_id: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMedia {
    /// A stored image, video or audio file you may see.
    pub file_id: i64,
    /// image, video or audio: the file's own type must match.
    pub media_type: String,
    #[serde(default)]
    pub caption: String,
}

impl NewMedia {
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        v.choice("media_type", &mut self.media_type, &MEDIA_TYPES);
        self.caption = self.caption.trim().to_string();
        v.text("caption", &self.caption, 0, 500);
        v.finish()?;
        Ok(self)
    }
}

/// One recipient's receipt.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Receipt {
    pub user_id: i64,
    pub username: String,
    /// First and last name, or the username.
    pub name: String,
    pub department_id: Option<i64>,
    pub department: Option<String>,
    pub read_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
}

/// Receipts of one department (the recipients' department when it was published).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentReceipts {
    pub department_id: Option<i64>,
    /// "No department" for recipients without one.
    pub department: String,
    pub recipients: u64,
    pub read: u64,
    pub acknowledged: u64,
}

/// Who read and acknowledged an update, in all and per department, and a page of people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptReport {
    pub update_id: i64,
    pub ack_required: bool,
    pub recipients: u64,
    pub read: u64,
    pub acknowledged: u64,
    pub departments: Vec<DepartmentReceipts>,
    pub people: ListResponse<Receipt>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptFilter {
    /// unread, read, unacknowledged or acknowledged.
    pub state: Option<String>,
    pub department_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(status: &str, at: Option<i64>) -> UpdateDraft {
        UpdateDraft {
            title: " Hi ".into(),
            content: "x".into(),
            update_type: "News".into(),
            priority: "medium".into(),
            ack_required: false,
            target_all: true,
            targets: Targets::default(),
            status: status.into(),
            publish_at: at.map(Timestamp),
        }
    }

    #[test]
    fn schedules_only_ahead() {
        let now = Timestamp(1_000);
        let ok = draft("scheduled", Some(2_000)).validate(now).unwrap();
        assert_eq!((ok.title.as_str(), ok.update_type.as_str()), ("Hi", "news"));
        let err = draft("scheduled", Some(500)).validate(now).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "publish_at");
        let err = draft("published", Some(2_000)).validate(now).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "publish_at");
        let mut none = draft("published", None);
        none.target_all = false;
        assert_eq!(
            none.validate(now).unwrap_err().field_errors()[0].field,
            "targets"
        );
    }
}

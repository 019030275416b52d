//! Notifications, their kinds (each a choice in the preferences) and the preferences.

use nexus_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The notification types of `001_fc7d4f68e8fe081f.txt`, with success for completions.
pub const NOTIFICATION_TYPES: [&str; 4] = ["info", "warning", "alert", "success"];

/// A kind of notification: one choice in a user's preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub label: &'static str,
    /// Roles that get it unless they turn it off; everyone else only if they turn it on.
    pub on_for: &'static [&'static str],
}

const EVERYONE: &[&str] = &["admin", "manager", "staff", "user", "guest"];
const WORKERS: &[&str] = &["admin", "manager", "staff", "user"];

pub const WORK_ORDER_ASSIGNED: &str = "work_order_assigned";
pub const REQUEST_ON_ASSET: &str = "request_on_asset";
pub const ALERT_RAISED: &str = "alert_raised";
pub const PART_LOW_STOCK: &str = "part_low_stock";
pub const ACTIVITY_ASSIGNED: &str = "activity_assigned";
pub const TASK_ASSIGNED: &str = "task_assigned";
pub const DUE_TOMORROW: &str = "due_tomorrow";
pub const MENTION: &str = "mention";
pub const ANNOUNCEMENT: &str = "announcement";
pub const SYSTEM_MESSAGE: &str = "system_message";

/// Every kind, in the order the preferences form shows them.
pub const KINDS: &[Kind] = &[
    Kind {
        name: WORK_ORDER_ASSIGNED,
        label: "A work order is assigned to me",
        on_for: EVERYONE,
    },
    Kind {
        name: REQUEST_ON_ASSET,
        label: "A work order is requested on an asset I follow",
        on_for: &["admin", "manager", "staff"],
    },
    Kind {
        name: ALERT_RAISED,
        label: "An alert is raised or escalated on an asset I follow",
        on_for: WORKERS,
    },
    Kind {
        name: PART_LOW_STOCK,
        label: "A part I follow runs low",
        on_for: &["admin", "manager", "staff"],
    },
    Kind {
        name: ACTIVITY_ASSIGNED,
        label: "An activity is assigned to me",
        on_for: EVERYONE,
    },
    Kind {
        name: TASK_ASSIGNED,
        label: "A task is assigned to me",
        on_for: EVERYONE,
    },
    Kind {
        name: DUE_TOMORROW,
        label: "An activity or task of mine is due tomorrow",
        on_for: WORKERS,
    },
    Kind {
        name: MENTION,
        label: "Someone mentions me in a comment",
        on_for: EVERYONE,
    },
    Kind {
        name: ANNOUNCEMENT,
        label: "An announcement is published for me",
        on_for: EVERYONE,
    },
    Kind {
        name: SYSTEM_MESSAGE,
        label: "A system message is posted for me",
        on_for: EVERYONE,
    },
];

/// The kind called `name`.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

impl Kind {
    /// Whether a user of `role` gets this kind when they have not chosen.
    pub fn default_for(&self, role: &str) -> bool {
        self.on_for.contains(&role)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: i64,
    /// What it is about, one of the preference kinds (`work_order_assigned`, ...).
    pub kind: String,
    /// `info`, `warning`, `alert` or `success`.
    #[serde(rename = "type")]
    pub r#type: String,
    pub title: String,
    pub message: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    /// The page of the record it is about.
    pub link: Option<String>,
    pub is_read: bool,
    pub read_at: Option<Timestamp>,
    pub is_dismissed: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationFilter {
    /// `true` for read ones, `false` for unread ones.
    pub is_read: Option<bool>,
    /// Dismissed ones are left out unless this is `true`.
    pub include_dismissed: Option<bool>,
    pub kind: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub r#type: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnreadNotifications {
    pub unread: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Marked {
    /// How many notifications changed.
    pub updated: u64,
}

/// One kind in a user's preferences.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreferenceOut {
    pub kind: String,
    /// What it means, in words.
    pub label: String,
    pub enabled: bool,
    /// Whether this kind also comes by email, in the digest (when the server sends email).
    pub email: bool,
    /// Whether this is the default of the user's role (they never changed it).
    pub is_default: bool,
}

/// The choices to change: kinds left out keep theirs.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesIn {
    pub preferences: Vec<PreferenceChoice>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferenceChoice {
    pub kind: String,
    pub enabled: bool,
    /// Also by email, in the digest; left out, it stays as it was.
    #[serde(default)]
    pub email: Option<bool>,
}

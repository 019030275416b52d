//! Request and response types of notifications, announcements, system messages and the
//! feed, their validation, and the domain's permissions. One module per area; everything
//! is re-exported here.

mod feed;
mod messages;
mod notifications;
mod updates;

pub use feed::*;
pub use messages::*;
pub use notifications::*;
pub use updates::*;

use nexus_core::domain::PermissionDef;

/// Permission types of this domain, for `Require<...>` in handlers.
pub mod perm {
    nexus_core::permissions! {
        UpdatesRead = "updates:read";
        UpdatesWrite = "updates:write";
        UpdatesComment = "updates:comment";
        SystemMessagesWrite = "system_messages:write";
    }
}

/// Changing and unpublishing anyone's announcements, and seeing who read every one.
pub const UPDATES_MANAGE: &str = "updates:manage";

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        name: "updates:read",
        description: "Read the announcements published for you, and acknowledge them",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "updates:write",
        description: "Compose, schedule and publish announcements, and see who read yours",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "updates:comment",
        description: "Comment on and like the announcements you can read",
        granted_to: &["manager", "staff", "user"],
    },
    PermissionDef {
        name: UPDATES_MANAGE,
        description: "Change and unpublish anyone's announcements and see who read every one",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "system_messages:write",
        description: "Post, change and withdraw system messages (banners)",
        granted_to: &[],
    },
];

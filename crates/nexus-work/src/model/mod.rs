//! Request and response types of activities, tags, projects and tasks, their validation,
//! and the domain's permissions. One module per area; everything is re-exported here.

mod activities;
mod projects;

pub use activities::*;
pub use projects::*;

use nexus_core::domain::PermissionDef;

/// Permission types of this domain, for `Require<...>` in handlers.
pub mod perm {
    nexus_core::permissions! {
        ActivitiesRead = "activities:read";
        ActivitiesWrite = "activities:write";
        TagsWrite = "tags:write";
        ProjectsRead = "projects:read";
        ProjectsWrite = "projects:write";
    }
}

/// Seeing every activity, not only one's own and one's projects'.
pub const ACTIVITIES_READ_ALL: &str = "activities:read_all";
/// Changing any activity, not only one's own.
pub const ACTIVITIES_MANAGE: &str = "activities:manage";
/// Seeing every project, not only those one manages or is on.
pub const PROJECTS_READ_ALL: &str = "projects:read_all";
/// Changing any project's team, budget and tasks, not only one's own.
pub const PROJECTS_MANAGE: &str = "projects:manage";

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        name: "activities:read",
        description: "See the activities you created or are assigned to and those of your projects",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "activities:write",
        description: "Plan activities and change the ones you created or are assigned to",
        granted_to: &["manager", "staff", "user"],
    },
    PermissionDef {
        name: ACTIVITIES_READ_ALL,
        description: "See every activity in the plant",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: ACTIVITIES_MANAGE,
        description: "Change and reassign anyone's activities",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "tags:write",
        description: "Create, change and delete tags",
        granted_to: &["manager", "staff"],
    },
    PermissionDef {
        name: "projects:read",
        description: "See the projects you manage or are on, with their tasks",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "projects:write",
        description: "Create projects (you manage them), and work on the tasks of your projects",
        granted_to: &["manager", "staff", "user"],
    },
    PermissionDef {
        name: PROJECTS_READ_ALL,
        description: "See every project in the plant",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: PROJECTS_MANAGE,
        description: "Change any project's team, budget and tasks",
        granted_to: &[],
    },
];

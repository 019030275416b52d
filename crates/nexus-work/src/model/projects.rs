//! Projects, their teams and costs, and their tasks with dependencies and worklogs.

pub const PROJECT_STATUSES: [&str; 5] = ["planning", "active", "on-hold", "completed", "cancelled"];
/// Priorities of projects and tasks (`002_62df140f2ee747f7.txt`).
pub const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];
pub const TASK_STATUSES: [&str; 5] = ["todo", "in-progress", "blocked", "done", "cancelled"];
pub const DEPENDENCY_KINDS: [&str; 4] = [
    "finish-to-start",
    "start-to-start",
    "finish-to-finish",
    "start-to-finish",
];

//! SeaORM entities of the work tables.

pub mod activity;
pub mod activity_tag;
pub mod calendar_feed;
pub mod dependency;
pub mod priority_change;
pub mod project;
pub mod project_activity;
pub mod project_cost;
pub mod project_member;
pub mod series;
pub mod status_change;
pub mod tag;
pub mod task;
pub mod task_tag;
pub mod worklog;

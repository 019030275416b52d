//! Thin handlers of the work API, one module per area.

pub mod activities;
pub mod calendar;
pub mod projects;

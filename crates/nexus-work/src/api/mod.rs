//! Thin handlers of the work API, one module per area.

pub mod activities;

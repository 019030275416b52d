//! TODO

use nexus_core::AppState;

pub fn start(_state: &AppState) {}

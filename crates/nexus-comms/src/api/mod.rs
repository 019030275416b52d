//! Thin handlers of the comms API, one module per area.

pub mod feed;
pub mod messages;
pub mod notifications;
pub mod updates;

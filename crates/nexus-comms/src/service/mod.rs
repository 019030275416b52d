//! Business rules and queries of comms; functions take a connection or the state.

pub mod digests;
pub mod feed;
pub mod follows;
pub mod markdown;
pub mod messages;
pub mod notifications;
pub mod reactions;
pub mod seed;
pub mod updates;

use nexus_core::{ApiResult, AppState};

/// Starts what runs in the background: the reactions to other domains' events and the
/// passes over scheduled announcements and due reminders.
pub async fn start(state: &AppState) -> ApiResult<()> {
    reactions::start(state);
    digests::start(state)?;
    updates::start(state);
    Ok(())
}

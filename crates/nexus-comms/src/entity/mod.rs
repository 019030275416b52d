//! SeaORM entities of the comms tables.

pub mod digest;
pub mod dismissal;
pub mod follow;
pub mod message_target;
pub mod notification;
pub mod preference;
pub mod system_message;
pub mod update;
pub mod update_attachment;
pub mod update_comment;
pub mod update_like;
pub mod update_media;
pub mod update_recipient;
pub mod update_target;

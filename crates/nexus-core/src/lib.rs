//! The shared kernel of Nexus: database handle, the one error type, auth primitives,
//! audit trail, event bus, request extractors and list helpers. No domain knowledge.

pub mod archive;
pub mod audit;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod extract;
pub mod home;
pub mod jobs;
pub mod pages;
pub mod paging;
pub mod plant;
pub mod ratelimit;
pub mod recurrence;
pub mod samples;
pub mod seeding;
pub mod settings;
pub mod state;
pub mod tabular;
pub mod time;
pub mod unique;
pub mod validate;
pub mod write;

pub use auth::{CurrentUser, Principal};
pub use config::Config;
pub use db::Db;
pub use domain::Domain;
pub use error::{ApiError, ApiResult, FieldError};
pub use events::{Event, EventBus};
pub use extract::{ApiJson, ApiQuery, ClientInfo, IfMatch, Versioned};
pub use paging::{ListResponse, PageParams, contains_pattern};
pub use state::{AppState, Domains};
pub use time::Timestamp;
pub use validate::Validator;
pub use write::Work;

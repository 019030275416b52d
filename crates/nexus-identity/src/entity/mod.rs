//! SeaORM entities of the identity tables.

pub mod department;
pub mod permission;
pub mod refresh_token;
pub mod role;
pub mod role_permission;
pub mod session;
pub mod user;

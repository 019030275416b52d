//! SeaORM entities of the content tables.

pub mod attachment;
pub mod file;

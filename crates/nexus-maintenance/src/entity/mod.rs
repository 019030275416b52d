//! SeaORM entities of the maintenance tables.

pub mod asset;
pub mod asset_type;
pub mod location;

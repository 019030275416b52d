//! SeaORM entities of the production tables.

pub mod daily;
pub mod movement;
pub mod wip;
pub mod work_center;

//! SeaORM entities of the maintenance tables.

pub mod asset;
pub mod asset_type;
pub mod checklist_item;
pub mod comment;
pub mod downtime;
pub mod labor;
pub mod location;
pub mod part;
pub mod part_stock;
pub mod pm_schedule;
pub mod stock_movement;
pub mod work_order;
pub mod work_request;

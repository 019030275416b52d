//! Every schema change of Nexus, in order. Portable across SQLite and PostgreSQL: ids are
//! BIGINT, timestamps BIGINT microseconds since the epoch (UTC), enums TEXT with CHECK,
//! JSON as TEXT.

pub use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_production;
mod m0003_daily_covering_index;
mod m0004_maintenance_assets;
mod m0005_work_orders;
mod m0006_inventory;
mod m0007_files_requests;
mod m0008_telemetry;
mod m0009_asset_tags;
mod m0010_sample_chunks;
mod m0011_wip_by_work_center;
mod m0012_rule_versions;
mod m0013_asset_criticality;
mod m0014_work;
mod m0015_my_work_indexes;
mod m0016_comms;
mod m0017_digests;
mod m0018_plant;
mod m0019_open_wip;
mod m0020_archive;
mod m0021_wip_balance;
mod m0022_archive_runs;
mod m0023_event_payloads;
mod m0024_activity_tag_start;
mod shapes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_production::Migration),
            Box::new(m0003_daily_covering_index::Migration),
            Box::new(m0004_maintenance_assets::Migration),
            Box::new(m0005_work_orders::Migration),
            Box::new(m0006_inventory::Migration),
            Box::new(m0007_files_requests::Migration),
            Box::new(m0008_telemetry::Migration),
            Box::new(m0009_asset_tags::Migration),
            Box::new(m0010_sample_chunks::Migration),
            Box::new(m0011_wip_by_work_center::Migration),
            Box::new(m0012_rule_versions::Migration),
            Box::new(m0013_asset_criticality::Migration),
            Box::new(m0014_work::Migration),
            Box::new(m0015_my_work_indexes::Migration),
            Box::new(m0016_comms::Migration),
            Box::new(m0017_digests::Migration),
            Box::new(m0018_plant::Migration),
            Box::new(m0019_open_wip::Migration),
            Box::new(m0020_archive::Migration),
            Box::new(m0021_wip_balance::Migration),
            Box::new(m0022_archive_runs::Migration),
            Box::new(m0023_event_payloads::Migration),
            Box::new(m0024_activity_tag_start::Migration),
        ]
    }
}

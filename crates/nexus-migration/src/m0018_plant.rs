//! The plant's currency and time zone became one kernel setting (`plant`), read by every
//! domain. Production had the time zone among its own settings: an existing one is
//! carried over, with the default currency (US dollars). Production keeps its own
//! `timezone` as the zone its daily rollup is counted in, and follows the plant's.

use nexus_core::settings;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PLANT: &str = "plant";

fn failed(e: nexus_core::ApiError) -> DbErr {
    DbErr::Custom(e.to_string())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let plant: Option<serde_json::Value> = settings::get(conn, PLANT).await.map_err(failed)?;
        if plant.is_some() {
            return Ok(());
        }
        let production: Option<serde_json::Value> =
            settings::get(conn, "production").await.map_err(failed)?;
        let Some(timezone) = production
            .as_ref()
            .and_then(|p| p.get("timezone"))
            .and_then(|t| t.as_str())
        else {
            return Ok(());
        };
        let plant = serde_json::json!({ "currency": "USD", "timezone": timezone });
        settings::set(conn, PLANT, &plant).await.map_err(failed)
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Production's own `timezone` still holds the zone last used: nothing to copy back.
        m.get_connection()
            .execute_unprepared("DELETE FROM settings WHERE key = 'plant'")
            .await
            .map(|_| ())
    }
}

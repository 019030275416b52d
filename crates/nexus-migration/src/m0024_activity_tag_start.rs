//! A tag's activities in start-time order from the tag's index alone: `activity_tags`
//! carries its activity's `start_time` (kept equal by the write path), so a list of one
//! tag reads a range of `(tag_id, start_time, activity_id)` instead of walking every
//! activity in start order and probing its tags.

use sea_orm_migration::prelude::*;

use crate::shapes::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ActivityTags {
    Table,
    TagId,
    ActivityId,
    StartTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ActivityTags as AT;
        m.alter_table(
            Table::alter()
                .table(AT::Table)
                .add_column(
                    ColumnDef::new(AT::StartTime)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE activity_tags SET start_time = \
                 (SELECT a.start_time FROM activities a WHERE a.id = activity_tags.activity_id)",
            )
            .await?;
        m.drop_index(
            Index::drop()
                .name("idx_activity_tags_tag")
                .table(AT::Table)
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            AT::Table,
            "idx_activity_tags_tag_start",
            &[AT::TagId, AT::StartTime, AT::ActivityId],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ActivityTags as AT;
        m.drop_index(
            Index::drop()
                .name("idx_activity_tags_tag_start")
                .table(AT::Table)
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            AT::Table,
            "idx_activity_tags_tag",
            &[AT::TagId, AT::ActivityId],
        ))
        .await?;
        m.alter_table(
            Table::alter()
                .table(AT::Table)
                .drop_column(AT::StartTime)
                .to_owned(),
        )
        .await
    }
}

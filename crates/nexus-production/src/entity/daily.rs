use sea_orm::entity::prelude::*;

/// Movements per plant-local day, work center and direction, kept current in the same
/// transaction as each movement so reports never scan the movements.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "production_daily")]
pub struct Model {
    /// `YYYY-MM-DD` in the plant's time zone.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub workcenter_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_type: String,
    pub movements: i64,
    pub quantity: i64,
    pub scrap: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! Plant-wide settings: a key-value table of JSON values, read and written by domains.

use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;

use crate::error::ApiResult;
use crate::time::Timestamp;

pub mod entity {
    use sea_orm::entity::prelude::*;

    use crate::time::Timestamp;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// JSON.
        pub value: String,
        pub updated_at: Timestamp,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The stored value of `key`, or `None` when never set.
pub async fn get<C: ConnectionTrait, T: serde::de::DeserializeOwned>(
    conn: &C,
    key: &str,
) -> ApiResult<Option<T>> {
    let row = entity::Entity::find_by_id(key.to_string())
        .one(conn)
        .await?;
    Ok(row.and_then(|r| serde_json::from_str(&r.value).ok()))
}

/// Stores `value` under `key`.
pub async fn set<C: ConnectionTrait, T: serde::Serialize>(
    conn: &C,
    key: &str,
    value: &T,
) -> ApiResult<()> {
    let model = entity::ActiveModel {
        key: Set(key.to_string()),
        value: Set(serde_json::to_string(value).map_err(crate::ApiError::internal)?),
        updated_at: Set(Timestamp::now()),
    };
    entity::Entity::insert(model)
        .on_conflict(
            OnConflict::column(entity::Column::Key)
                .update_columns([entity::Column::Value, entity::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(conn)
        .await?;
    Ok(())
}

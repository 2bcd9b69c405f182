use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseConnection, QueryOrder};

use super::{Module, Permission};

pub mod module_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "modules")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub name: String,
        pub description: String,
        pub position: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod permission_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "permissions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub module_code: String,
        pub description: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The whole catalog, modules in their order, permissions by code.
pub async fn load(db: &DatabaseConnection) -> Result<Vec<Module>, DbErr> {
    let modules = module_row::Entity::find().order_by_asc(module_row::Column::Position).all(db).await?;
    let permissions = permission_row::Entity::find().order_by_asc(permission_row::Column::Code).all(db).await?;
    Ok(modules
        .into_iter()
        .map(|m| Module {
            permissions: permissions
                .iter()
                .filter(|p| p.module_code == m.code)
                .map(|p| Permission { code: p.code.clone(), description: p.description.clone() })
                .collect(),
            code: m.code,
            name: m.name,
            description: m.description,
        })
        .collect())
}

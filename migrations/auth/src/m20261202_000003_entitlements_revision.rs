//! One access revision per company over grants and entitlements: the company
//! row remembers the entitlements revision its own revision already covers, so
//! each entitlement change raises the company's revision exactly once, however
//! many replicas hear of it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    EntitlementsRevision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Companies::Table)
                    .add_column(ColumnDef::new(Companies::EntitlementsRevision).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Companies::Table).drop_column(Companies::EntitlementsRevision).to_owned())
            .await
    }
}

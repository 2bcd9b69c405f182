//! Mutable resources under concurrent edits carry a version: a write changes
//! a row only at the version it read, and `If-Match` names the version a
//! client last saw.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Version,
}

#[derive(DeriveIden)]
enum Shifts {
    Table,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(ColumnDef::new(Events::Version).big_integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Shifts::Table)
                    .add_column(ColumnDef::new(Shifts::Version).big_integer().not_null().default(1))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Events::Table).drop_column(Events::Version).to_owned()).await?;
        manager.alter_table(Table::alter().table(Shifts::Table).drop_column(Shifts::Version).to_owned()).await
    }
}

//! Operators' sessions auth has ended while their tokens may still be valid.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EndedSessions {
    Table,
    SessionId,
    Until,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EndedSessions::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(EndedSessions::SessionId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(EndedSessions::Until).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(EndedSessions::Table).to_owned()).await
    }
}

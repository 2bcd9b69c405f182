//! Event settlements and the payouts made against them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Settlements {
    Table,
    Id,
    CompanyId,
    EventId,
    Currency,
    Status,
    Splits,
    Figures,
    EntryId,
    Version,
    CreatedBy,
    CreatedAt,
    FinalizedBy,
    FinalizedAt,
}

#[derive(DeriveIden)]
enum Payouts {
    Table,
    Id,
    CompanyId,
    SettlementId,
    Party,
    Amount,
    Currency,
    EntryId,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Settlements::Table)
                    .col(ColumnDef::new(Settlements::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Settlements::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Settlements::EventId).uuid().not_null())
                    .col(ColumnDef::new(Settlements::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Settlements::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Settlements::Splits).text().not_null())
                    .col(ColumnDef::new(Settlements::Figures).text().null())
                    .col(ColumnDef::new(Settlements::EntryId).uuid().null())
                    .col(ColumnDef::new(Settlements::Version).big_integer().not_null())
                    .col(ColumnDef::new(Settlements::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(Settlements::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Settlements::FinalizedBy).uuid().null())
                    .col(ColumnDef::new(Settlements::FinalizedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("settlements_company_event")
                    .table(Settlements::Table)
                    .col(Settlements::CompanyId)
                    .col(Settlements::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Payouts::Table)
                    .col(ColumnDef::new(Payouts::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Payouts::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Payouts::SettlementId).uuid().not_null())
                    .col(ColumnDef::new(Payouts::Party).string_len(200).not_null())
                    .col(ColumnDef::new(Payouts::Amount).big_integer().not_null())
                    .col(ColumnDef::new(Payouts::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Payouts::EntryId).uuid().not_null())
                    .col(ColumnDef::new(Payouts::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(Payouts::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("payouts_settlement").table(Payouts::Table).col(Payouts::SettlementId).to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Payouts::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Settlements::Table).to_owned()).await?;
        Ok(())
    }
}

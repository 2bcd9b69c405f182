//! Booking offers, and the outbox of facts owed to financial.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Offers {
    Table,
    Id,
    CompanyId,
    EventId,
    ArtistId,
    FeeMinor,
    Currency,
    Terms,
    Deadline,
    Status,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    CompanyId,
    Kind,
    SourceId,
    Payload,
    CreatedAt,
    DeliveredAt,
    Attempts,
    NextAttemptAt,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Offers::Table)
                    .col(ColumnDef::new(Offers::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Offers::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Offers::EventId).uuid().not_null())
                    .col(ColumnDef::new(Offers::ArtistId).uuid().not_null())
                    .col(ColumnDef::new(Offers::FeeMinor).big_integer().not_null())
                    .col(ColumnDef::new(Offers::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Offers::Terms).text().not_null())
                    .col(ColumnDef::new(Offers::Deadline).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Offers::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Offers::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(Offers::UpdatedBy).uuid().not_null())
                    .col(ColumnDef::new(Offers::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Offers::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("offers_status_deadline")
                    .table(Offers::Table)
                    .col(Offers::Status)
                    .col(Offers::Deadline)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(ColumnDef::new(Outbox::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Outbox::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Outbox::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Outbox::SourceId).string_len(200).not_null().unique_key())
                    .col(ColumnDef::new(Outbox::Payload).text().not_null())
                    .col(ColumnDef::new(Outbox::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Outbox::DeliveredAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Outbox::Attempts).integer().not_null())
                    .col(ColumnDef::new(Outbox::NextAttemptAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Outbox::LastError).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_pending")
                    .table(Outbox::Table)
                    .col(Outbox::DeliveredAt)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Outbox::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Offers::Table).to_owned()).await?;
        Ok(())
    }
}

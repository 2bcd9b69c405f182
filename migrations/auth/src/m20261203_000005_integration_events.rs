//! Events a company's webhooks announce (members added and removed), kept
//! until base has taken them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IntegrationEvents {
    Table,
    Id,
    CompanyId,
    EventType,
    Body,
    CreatedAt,
    AcknowledgedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IntegrationEvents::Table)
                    .col(ColumnDef::new(IntegrationEvents::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(IntegrationEvents::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(IntegrationEvents::EventType).string_len(64).not_null())
                    .col(ColumnDef::new(IntegrationEvents::Body).text().not_null())
                    .col(ColumnDef::new(IntegrationEvents::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(IntegrationEvents::AcknowledgedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("integration_events_waiting")
                    .table(IntegrationEvents::Table)
                    .col(IntegrationEvents::AcknowledgedAt)
                    .col(IntegrationEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IntegrationEvents::Table).to_owned()).await
    }
}

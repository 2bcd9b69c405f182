//! A delivery remembers until when an attempt has claimed it, so a manual
//! redelivery never sends a message a second time while it is on its way;
//! messages are found by age for the retention sweep.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    ClaimedUntil,
}

#[derive(DeriveIden)]
enum WebhookMessages {
    Table,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookDeliveries::Table)
                    .add_column(ColumnDef::new(WebhookDeliveries::ClaimedUntil).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_messages_created")
                    .table(WebhookMessages::Table)
                    .col(WebhookMessages::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("webhook_messages_created").table(WebhookMessages::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter().table(WebhookDeliveries::Table).drop_column(WebhookDeliveries::ClaimedUntil).to_owned(),
            )
            .await
    }
}

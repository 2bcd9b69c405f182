//! Webhooks: a company's endpoints, the messages its changes produce (written
//! in the changes' own transactions), and one delivery per message and
//! endpoint, with what its last attempt came to.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    CompanyId,
    Url,
    Description,
    EventTypes,
    Enabled,
    DisabledReason,
    SecretSealed,
    PreviousSecretSealed,
    PreviousSecretUntil,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookMessages {
    Table,
    Id,
    CompanyId,
    EventType,
    Payload,
    CreatedAt,
    FannedOut,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    CompanyId,
    MessageId,
    EndpointId,
    EventType,
    Status,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    LastStatusCode,
    LastLatencyMs,
    LastResponse,
    LastError,
    DeliveredAt,
}

fn at(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().not_null().to_owned()
}

fn at_null(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().null().to_owned()
}

fn id(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).uuid().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(id(WebhookEndpoints::Id).primary_key())
                    .col(id(WebhookEndpoints::CompanyId))
                    .col(ColumnDef::new(WebhookEndpoints::Url).string_len(2000).not_null())
                    .col(ColumnDef::new(WebhookEndpoints::Description).string_len(500).not_null())
                    .col(ColumnDef::new(WebhookEndpoints::EventTypes).text().not_null())
                    .col(ColumnDef::new(WebhookEndpoints::Enabled).boolean().not_null())
                    .col(ColumnDef::new(WebhookEndpoints::DisabledReason).string_len(200).null())
                    .col(ColumnDef::new(WebhookEndpoints::SecretSealed).text().not_null())
                    .col(ColumnDef::new(WebhookEndpoints::PreviousSecretSealed).text().null())
                    .col(at_null(WebhookEndpoints::PreviousSecretUntil))
                    .col(ColumnDef::new(WebhookEndpoints::Version).big_integer().not_null())
                    .col(id(WebhookEndpoints::CreatedBy))
                    .col(at(WebhookEndpoints::CreatedAt))
                    .col(at(WebhookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_endpoints_company")
                    .table(WebhookEndpoints::Table)
                    .col(WebhookEndpoints::CompanyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookMessages::Table)
                    .col(id(WebhookMessages::Id).primary_key())
                    .col(id(WebhookMessages::CompanyId))
                    .col(ColumnDef::new(WebhookMessages::EventType).string_len(64).not_null())
                    .col(ColumnDef::new(WebhookMessages::Payload).text().not_null())
                    .col(at(WebhookMessages::CreatedAt))
                    .col(ColumnDef::new(WebhookMessages::FannedOut).boolean().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_messages_waiting")
                    .table(WebhookMessages::Table)
                    .col(WebhookMessages::FannedOut)
                    .col(WebhookMessages::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(id(WebhookDeliveries::Id).primary_key())
                    .col(id(WebhookDeliveries::CompanyId))
                    .col(id(WebhookDeliveries::MessageId))
                    .col(id(WebhookDeliveries::EndpointId))
                    .col(ColumnDef::new(WebhookDeliveries::EventType).string_len(64).not_null())
                    .col(ColumnDef::new(WebhookDeliveries::Status).string_len(16).not_null())
                    .col(ColumnDef::new(WebhookDeliveries::Attempts).integer().not_null())
                    .col(at(WebhookDeliveries::NextAttemptAt))
                    .col(at_null(WebhookDeliveries::LastAttemptAt))
                    .col(ColumnDef::new(WebhookDeliveries::LastStatusCode).integer().null())
                    .col(ColumnDef::new(WebhookDeliveries::LastLatencyMs).big_integer().null())
                    .col(ColumnDef::new(WebhookDeliveries::LastResponse).text().null())
                    .col(ColumnDef::new(WebhookDeliveries::LastError).text().null())
                    .col(at_null(WebhookDeliveries::DeliveredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_message_endpoint")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::MessageId)
                    .col(WebhookDeliveries::EndpointId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_endpoint")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::EndpointId)
                    .col(WebhookDeliveries::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["webhook_deliveries", "webhook_messages", "webhook_endpoints"] {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}

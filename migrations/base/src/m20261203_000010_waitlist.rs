//! The waiting list of orders: an entry waits for seats of one ticket type,
//! is offered a reservation when seats free up, and is then used, expired or
//! declined, never waiting again. Mail (the offers' one-time links) leaves
//! through an outbox of its own.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WaitlistEntries {
    Table,
    Id,
    CompanyId,
    EventId,
    TicketTypeId,
    Email,
    Name,
    Quantity,
    Status,
    OrderId,
    OfferTokenHash,
    OfferedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    ToAddress,
    Subject,
    Body,
    CreatedAt,
    SentAt,
    Attempts,
    NextAttemptAt,
    LastError,
}

fn at(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().not_null().to_owned()
}

fn at_null(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WaitlistEntries::Table)
                    .col(ColumnDef::new(WaitlistEntries::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(WaitlistEntries::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(WaitlistEntries::EventId).uuid().not_null())
                    .col(ColumnDef::new(WaitlistEntries::TicketTypeId).uuid().not_null())
                    .col(ColumnDef::new(WaitlistEntries::Email).string_len(254).not_null())
                    .col(ColumnDef::new(WaitlistEntries::Name).string_len(200).null())
                    .col(ColumnDef::new(WaitlistEntries::Quantity).integer().not_null())
                    .col(ColumnDef::new(WaitlistEntries::Status).string_len(16).not_null())
                    .col(ColumnDef::new(WaitlistEntries::OrderId).uuid().null())
                    .col(ColumnDef::new(WaitlistEntries::OfferTokenHash).string_len(64).null())
                    .col(at_null(WaitlistEntries::OfferedAt))
                    .col(ColumnDef::new(WaitlistEntries::CreatedBy).uuid().not_null())
                    .col(at(WaitlistEntries::CreatedAt))
                    .col(at(WaitlistEntries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("waitlist_entries_event_status")
                    .table(WaitlistEntries::Table)
                    .col(WaitlistEntries::CompanyId)
                    .col(WaitlistEntries::EventId)
                    .col(WaitlistEntries::Status)
                    .col(WaitlistEntries::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("waitlist_entries_order")
                    .table(WaitlistEntries::Table)
                    .col(WaitlistEntries::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("waitlist_entries_token")
                    .table(WaitlistEntries::Table)
                    .col(WaitlistEntries::OfferTokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(ColumnDef::new(MailOutbox::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(MailOutbox::ToAddress).string_len(254).not_null())
                    .col(ColumnDef::new(MailOutbox::Subject).string_len(200).not_null())
                    .col(ColumnDef::new(MailOutbox::Body).text().not_null())
                    .col(at(MailOutbox::CreatedAt))
                    .col(at_null(MailOutbox::SentAt))
                    .col(ColumnDef::new(MailOutbox::Attempts).integer().not_null())
                    .col(at(MailOutbox::NextAttemptAt))
                    .col(ColumnDef::new(MailOutbox::LastError).text().null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(MailOutbox::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(WaitlistEntries::Table).to_owned()).await
    }
}

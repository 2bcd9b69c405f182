//! Signed tickets and check-in: each company's Ed25519 ticket keys (sealed at
//! rest), check-in lists, where each ticket is on each list, and every scan,
//! once per nonce.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TicketKeys {
    Table,
    Kid,
    CompanyId,
    Generation,
    PublicKey,
    PrivateSealed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CheckinLists {
    Table,
    Id,
    CompanyId,
    EventId,
    Name,
    TicketTypeIds,
    AllowReentry,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CheckinStates {
    Table,
    ListId,
    TicketId,
    Inside,
    Admissions,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Scans {
    Table,
    Id,
    CompanyId,
    ListId,
    Nonce,
    TicketId,
    Direction,
    ScannedAt,
    Gate,
    Result,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TicketKeys::Table)
                    .col(ColumnDef::new(TicketKeys::Kid).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(TicketKeys::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(TicketKeys::Generation).integer().not_null())
                    .col(ColumnDef::new(TicketKeys::PublicKey).string_len(64).not_null())
                    .col(ColumnDef::new(TicketKeys::PrivateSealed).text().not_null())
                    .col(ColumnDef::new(TicketKeys::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ticket_keys_company_generation")
                    .table(TicketKeys::Table)
                    .col(TicketKeys::CompanyId)
                    .col(TicketKeys::Generation)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CheckinLists::Table)
                    .col(ColumnDef::new(CheckinLists::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(CheckinLists::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(CheckinLists::EventId).uuid().not_null())
                    .col(ColumnDef::new(CheckinLists::Name).string_len(200).not_null())
                    .col(ColumnDef::new(CheckinLists::TicketTypeIds).text().not_null())
                    .col(ColumnDef::new(CheckinLists::AllowReentry).boolean().not_null())
                    .col(ColumnDef::new(CheckinLists::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(CheckinLists::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("checkin_lists_event")
                    .table(CheckinLists::Table)
                    .col(CheckinLists::CompanyId)
                    .col(CheckinLists::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CheckinStates::Table)
                    .col(ColumnDef::new(CheckinStates::ListId).uuid().not_null())
                    .col(ColumnDef::new(CheckinStates::TicketId).uuid().not_null())
                    .col(ColumnDef::new(CheckinStates::Inside).boolean().not_null())
                    .col(ColumnDef::new(CheckinStates::Admissions).integer().not_null())
                    .col(ColumnDef::new(CheckinStates::UpdatedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(CheckinStates::ListId).col(CheckinStates::TicketId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Scans::Table)
                    .col(ColumnDef::new(Scans::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Scans::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Scans::ListId).uuid().not_null())
                    .col(ColumnDef::new(Scans::Nonce).string_len(100).not_null())
                    .col(ColumnDef::new(Scans::TicketId).uuid().null())
                    .col(ColumnDef::new(Scans::Direction).string_len(3).not_null())
                    .col(ColumnDef::new(Scans::ScannedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Scans::Gate).string_len(100).not_null())
                    .col(ColumnDef::new(Scans::Result).string_len(20).not_null())
                    .col(ColumnDef::new(Scans::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("scans_list_nonce")
                    .table(Scans::Table)
                    .col(Scans::ListId)
                    .col(Scans::Nonce)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Scans::Table.into_iden(),
            CheckinStates::Table.into_iden(),
            CheckinLists::Table.into_iden(),
            TicketKeys::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

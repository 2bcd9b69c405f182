//! The double-entry ledger: accounts with their running balance, immutable
//! journal entries and their postings.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    CompanyId,
    Code,
    Name,
    Kind,
    Currency,
    NoNegative,
    Balance,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JournalEntries {
    Table,
    Id,
    CompanyId,
    Description,
    EffectiveDate,
    Reference,
    IdempotencyKey,
    RequestHash,
    ReversesId,
    ReversedById,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Postings {
    Table,
    Id,
    CompanyId,
    EntryId,
    AccountId,
    Amount,
    Currency,
    EffectiveDate,
    Seq,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(ColumnDef::new(Accounts::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Accounts::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Accounts::Code).string_len(64).not_null())
                    .col(ColumnDef::new(Accounts::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Accounts::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Accounts::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Accounts::NoNegative).boolean().not_null())
                    .col(ColumnDef::new(Accounts::Balance).big_integer().not_null())
                    .col(ColumnDef::new(Accounts::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(Accounts::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("accounts_company_code")
                    .table(Accounts::Table)
                    .col(Accounts::CompanyId)
                    .col(Accounts::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JournalEntries::Table)
                    .col(ColumnDef::new(JournalEntries::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(JournalEntries::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(JournalEntries::Description).string_len(500).not_null())
                    .col(ColumnDef::new(JournalEntries::EffectiveDate).date().not_null())
                    .col(ColumnDef::new(JournalEntries::Reference).string_len(200).null())
                    .col(ColumnDef::new(JournalEntries::IdempotencyKey).string_len(200).null())
                    .col(ColumnDef::new(JournalEntries::RequestHash).string_len(64).null())
                    .col(ColumnDef::new(JournalEntries::ReversesId).uuid().null())
                    .col(ColumnDef::new(JournalEntries::ReversedById).uuid().null())
                    .col(ColumnDef::new(JournalEntries::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(JournalEntries::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("entries_company_idempotency")
                    .table(JournalEntries::Table)
                    .col(JournalEntries::CompanyId)
                    .col(JournalEntries::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("entries_company_date")
                    .table(JournalEntries::Table)
                    .col(JournalEntries::CompanyId)
                    .col(JournalEntries::EffectiveDate)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Postings::Table)
                    .col(ColumnDef::new(Postings::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Postings::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Postings::EntryId).uuid().not_null())
                    .col(ColumnDef::new(Postings::AccountId).uuid().not_null())
                    .col(ColumnDef::new(Postings::Amount).big_integer().not_null())
                    .col(ColumnDef::new(Postings::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Postings::EffectiveDate).date().not_null())
                    .col(ColumnDef::new(Postings::Seq).integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Postings::Table, Postings::EntryId)
                            .to(JournalEntries::Table, JournalEntries::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Postings::Table, Postings::AccountId)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("postings_account_date")
                    .table(Postings::Table)
                    .col(Postings::AccountId)
                    .col(Postings::EffectiveDate)
                    .col(Postings::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("postings_entry").table(Postings::Table).col(Postings::EntryId).to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Postings::Table.into_iden(), JournalEntries::Table.into_iden(), Accounts::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

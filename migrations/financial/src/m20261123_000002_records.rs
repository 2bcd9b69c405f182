//! Expense and income records with their approval history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Records {
    Table,
    Id,
    CompanyId,
    Kind,
    Amount,
    Currency,
    Category,
    Counterparty,
    EventId,
    ReceiptRef,
    Description,
    Status,
    ReviewerId,
    SourceId,
    EntryIds,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RecordTransitions {
    Table,
    Id,
    CompanyId,
    RecordId,
    FromStatus,
    ToStatus,
    ActorId,
    Note,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Records::Table)
                    .col(ColumnDef::new(Records::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Records::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Records::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Records::Amount).big_integer().not_null())
                    .col(ColumnDef::new(Records::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Records::Category).string_len(64).not_null())
                    .col(ColumnDef::new(Records::Counterparty).string_len(200).not_null())
                    .col(ColumnDef::new(Records::EventId).uuid().null())
                    .col(ColumnDef::new(Records::ReceiptRef).string_len(500).null())
                    .col(ColumnDef::new(Records::Description).text().not_null())
                    .col(ColumnDef::new(Records::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Records::ReviewerId).uuid().null())
                    .col(ColumnDef::new(Records::SourceId).string_len(200).null())
                    .col(ColumnDef::new(Records::EntryIds).text().not_null())
                    .col(ColumnDef::new(Records::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(Records::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Records::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("records_company_source")
                    .table(Records::Table)
                    .col(Records::CompanyId)
                    .col(Records::SourceId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("records_company_kind")
                    .table(Records::Table)
                    .col(Records::CompanyId)
                    .col(Records::Kind)
                    .col(Records::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecordTransitions::Table)
                    .col(ColumnDef::new(RecordTransitions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(RecordTransitions::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(RecordTransitions::RecordId).uuid().not_null())
                    .col(ColumnDef::new(RecordTransitions::FromStatus).string_len(16).null())
                    .col(ColumnDef::new(RecordTransitions::ToStatus).string_len(16).not_null())
                    .col(ColumnDef::new(RecordTransitions::ActorId).uuid().not_null())
                    .col(ColumnDef::new(RecordTransitions::Note).text().null())
                    .col(ColumnDef::new(RecordTransitions::At).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("record_transitions_record")
                    .table(RecordTransitions::Table)
                    .col(RecordTransitions::RecordId)
                    .col(RecordTransitions::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RecordTransitions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Records::Table).to_owned()).await?;
        Ok(())
    }
}

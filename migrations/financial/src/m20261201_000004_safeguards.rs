//! Safeguards on money leaving: at most one live settlement per event and
//! currency (a `slot` held while draft or final, cleared when voided, unique),
//! the record of every edit of a draft, and facts from base that could not be
//! posted for a business reason, kept visible instead of retried forever.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Settlements {
    Table,
    CompanyId,
    EventId,
    Currency,
    Slot,
    VoidedBy,
    VoidedAt,
    VoidEntryId,
}

#[derive(DeriveIden)]
enum RecordEdits {
    Table,
    Id,
    CompanyId,
    RecordId,
    ActorId,
    Changes,
    At,
}

#[derive(DeriveIden)]
enum ParkedFacts {
    Table,
    Id,
    CompanyId,
    SourceId,
    Kind,
    Payload,
    ErrorCode,
    ErrorMessage,
    Attempts,
    FirstAt,
    LastAt,
}

/// Settlements written before the rule: of several drafts for one event and
/// currency the earliest stays, the others (which moved no money) are voided;
/// where one is final every draft beside it is voided.
const VOID_DUPLICATE_DRAFTS: &str = "UPDATE settlements SET status = 'voided' \
     WHERE status = 'draft' AND EXISTS (SELECT 1 FROM settlements o \
       WHERE o.company_id = settlements.company_id AND o.event_id = settlements.event_id \
       AND o.currency = settlements.currency AND o.id <> settlements.id \
       AND (o.status = 'finalized' OR (o.status = 'draft' AND o.id < settlements.id)))";

/// The slot goes to the remaining draft, or to the earliest final settlement;
/// a later final duplicate keeps no slot, refuses payouts and awaits its void.
const TAKE_SLOTS: &str = "UPDATE settlements SET slot = 1 \
     WHERE status <> 'voided' AND NOT EXISTS (SELECT 1 FROM settlements o \
       WHERE o.company_id = settlements.company_id AND o.event_id = settlements.event_id \
       AND o.currency = settlements.currency AND o.status = 'finalized' \
       AND settlements.status = 'finalized' AND o.id < settlements.id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            ColumnDef::new(Settlements::Slot).integer().null().to_owned(),
            ColumnDef::new(Settlements::VoidedBy).uuid().null().to_owned(),
            ColumnDef::new(Settlements::VoidedAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Settlements::VoidEntryId).uuid().null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Settlements::Table).add_column(column).to_owned()).await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(VOID_DUPLICATE_DRAFTS).await?;
        db.execute_unprepared(TAKE_SLOTS).await?;
        manager
            .create_index(
                Index::create()
                    .name("settlements_live_slot")
                    .table(Settlements::Table)
                    .col(Settlements::CompanyId)
                    .col(Settlements::EventId)
                    .col(Settlements::Currency)
                    .col(Settlements::Slot)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecordEdits::Table)
                    .col(ColumnDef::new(RecordEdits::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(RecordEdits::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(RecordEdits::RecordId).uuid().not_null())
                    .col(ColumnDef::new(RecordEdits::ActorId).uuid().not_null())
                    .col(ColumnDef::new(RecordEdits::Changes).text().not_null())
                    .col(ColumnDef::new(RecordEdits::At).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("record_edits_record")
                    .table(RecordEdits::Table)
                    .col(RecordEdits::RecordId)
                    .col(RecordEdits::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ParkedFacts::Table)
                    .col(ColumnDef::new(ParkedFacts::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ParkedFacts::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(ParkedFacts::SourceId).string_len(200).not_null())
                    .col(ColumnDef::new(ParkedFacts::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(ParkedFacts::Payload).text().not_null())
                    .col(ColumnDef::new(ParkedFacts::ErrorCode).string_len(64).not_null())
                    .col(ColumnDef::new(ParkedFacts::ErrorMessage).text().not_null())
                    .col(ColumnDef::new(ParkedFacts::Attempts).integer().not_null())
                    .col(ColumnDef::new(ParkedFacts::FirstAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ParkedFacts::LastAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("parked_facts_company_source")
                    .table(ParkedFacts::Table)
                    .col(ParkedFacts::CompanyId)
                    .col(ParkedFacts::SourceId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ParkedFacts::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RecordEdits::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("settlements_live_slot").table(Settlements::Table).to_owned()).await?;
        for column in [Settlements::VoidEntryId, Settlements::VoidedAt, Settlements::VoidedBy, Settlements::Slot] {
            manager.alter_table(Table::alter().table(Settlements::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

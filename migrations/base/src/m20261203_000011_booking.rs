//! Booking: ranked holds on a venue's date (with challenges and the event a
//! confirmed hold booked), each company's challenge window, offers' deals,
//! and the comps and kills of ticket types (seats not for sale).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Holds {
    Table,
    CompanyId,
    VenueId,
    Space,
    HoldDate,
    Rank,
    Status,
    ExpiresAt,
    OwnerId,
    ChallengedBy,
    ChallengeDeadline,
    EventId,
}

#[derive(DeriveIden)]
enum BookingSettings {
    Table,
    CompanyId,
    ChallengeHours,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    Deal,
}

#[derive(DeriveIden)]
enum TicketTypes {
    Table,
    Comps,
    Kills,
}

const RANK_HOLDS_IN_FORCE: &str = "UPDATE holds SET rank = ranked.n FROM (SELECT id, ROW_NUMBER() OVER \
     (PARTITION BY company_id, venue_id, space, hold_date ORDER BY created_at, id) AS n \
     FROM holds WHERE status = 'held' AND venue_id IS NOT NULL) AS ranked WHERE holds.id = ranked.id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            ColumnDef::new(Holds::Space).string_len(200).not_null().default("").to_owned(),
            ColumnDef::new(Holds::HoldDate).string_len(10).null().to_owned(),
            ColumnDef::new(Holds::Rank).integer().null().to_owned(),
            ColumnDef::new(Holds::OwnerId).uuid().null().to_owned(),
            ColumnDef::new(Holds::ChallengedBy).uuid().null().to_owned(),
            ColumnDef::new(Holds::ChallengeDeadline).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Holds::EventId).uuid().null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Holds::Table).add_column(column).to_owned()).await?;
        }
        // Holds made before ranks: their owner is who made them, their lane's
        // date is the UTC date they start, and those in force are ranked in
        // the order they were made.
        let db = manager.get_connection();
        let date_of_start = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => {
                "to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            }
            _ => "substr(starts_at, 1, 10)",
        };
        db.execute_unprepared("UPDATE holds SET owner_id = created_by WHERE owner_id IS NULL").await?;
        db.execute_unprepared(&format!("UPDATE holds SET hold_date = {date_of_start} WHERE venue_id IS NOT NULL"))
            .await?;
        db.execute_unprepared(RANK_HOLDS_IN_FORCE).await?;
        // One hold of a rank per lane: ranks of holds no longer held are null,
        // and nulls never collide.
        manager
            .create_index(
                Index::create()
                    .name("holds_lane_rank")
                    .table(Holds::Table)
                    .col(Holds::CompanyId)
                    .col(Holds::VenueId)
                    .col(Holds::Space)
                    .col(Holds::HoldDate)
                    .col(Holds::Rank)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The sweeper's questions: held holds past expiry, past a deadline.
        for (name, column) in
            [("holds_due_expiry", Holds::ExpiresAt), ("holds_due_challenge", Holds::ChallengeDeadline)]
        {
            manager
                .create_index(Index::create().name(name).table(Holds::Table).col(Holds::Status).col(column).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(BookingSettings::Table)
                    .col(ColumnDef::new(BookingSettings::CompanyId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(BookingSettings::ChallengeHours).integer().not_null())
                    .col(ColumnDef::new(BookingSettings::UpdatedBy).uuid().not_null())
                    .col(ColumnDef::new(BookingSettings::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Offers::Table).add_column(ColumnDef::new(Offers::Deal).text().null()).to_owned(),
            )
            .await?;
        for column in [
            ColumnDef::new(TicketTypes::Comps).integer().not_null().default(0).to_owned(),
            ColumnDef::new(TicketTypes::Kills).integer().not_null().default(0).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(TicketTypes::Table).add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [TicketTypes::Kills, TicketTypes::Comps] {
            manager.alter_table(Table::alter().table(TicketTypes::Table).drop_column(column).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(Offers::Table).drop_column(Offers::Deal).to_owned()).await?;
        manager.drop_table(Table::drop().table(BookingSettings::Table).to_owned()).await?;
        for name in ["holds_due_challenge", "holds_due_expiry", "holds_lane_rank"] {
            manager.drop_index(Index::drop().name(name).table(Holds::Table).to_owned()).await?;
        }
        for column in [
            Holds::EventId,
            Holds::ChallengeDeadline,
            Holds::ChallengedBy,
            Holds::OwnerId,
            Holds::Rank,
            Holds::HoldDate,
            Holds::Space,
        ] {
            manager.alter_table(Table::alter().table(Holds::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

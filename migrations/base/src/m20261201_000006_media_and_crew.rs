//! Media assets (metadata and the object's key; the bytes live in object
//! storage) with each company's stored total, and crew: profiles, shifts and
//! assignments.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MediaAssets {
    Table,
    Id,
    CompanyId,
    OwnerType,
    OwnerId,
    Filename,
    ContentType,
    SizeBytes,
    ChecksumSha256,
    StorageKey,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MediaUsage {
    Table,
    CompanyId,
    Bytes,
}

#[derive(DeriveIden)]
enum CrewMembers {
    Table,
    Id,
    CompanyId,
    UserId,
    Name,
    Email,
    Phone,
    Kind,
    Skills,
    Certifications,
    Availability,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Shifts {
    Table,
    Id,
    CompanyId,
    EventId,
    Name,
    StartsAt,
    EndsAt,
    RequiredSkills,
    Headcount,
    Filled,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ShiftAssignments {
    Table,
    Id,
    CompanyId,
    ShiftId,
    CrewId,
    AssignedBy,
    CreatedAt,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().to_owned()
}

fn at(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MediaAssets::Table)
                    .col(id(MediaAssets::Id).primary_key())
                    .col(id(MediaAssets::CompanyId))
                    .col(ColumnDef::new(MediaAssets::OwnerType).string_len(16).not_null())
                    .col(id(MediaAssets::OwnerId))
                    .col(ColumnDef::new(MediaAssets::Filename).string_len(200).not_null())
                    .col(ColumnDef::new(MediaAssets::ContentType).string_len(100).not_null())
                    .col(ColumnDef::new(MediaAssets::SizeBytes).big_integer().not_null())
                    .col(ColumnDef::new(MediaAssets::ChecksumSha256).string_len(64).not_null())
                    .col(ColumnDef::new(MediaAssets::StorageKey).string_len(200).not_null())
                    .col(id(MediaAssets::CreatedBy))
                    .col(at(MediaAssets::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("media_assets_owner")
                    .table(MediaAssets::Table)
                    .col(MediaAssets::CompanyId)
                    .col(MediaAssets::OwnerType)
                    .col(MediaAssets::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MediaUsage::Table)
                    .col(id(MediaUsage::CompanyId).primary_key())
                    .col(ColumnDef::new(MediaUsage::Bytes).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CrewMembers::Table)
                    .col(id(CrewMembers::Id).primary_key())
                    .col(id(CrewMembers::CompanyId))
                    .col(ColumnDef::new(CrewMembers::UserId).uuid().null())
                    .col(ColumnDef::new(CrewMembers::Name).string_len(200).not_null())
                    .col(ColumnDef::new(CrewMembers::Email).string_len(254).null())
                    .col(ColumnDef::new(CrewMembers::Phone).string_len(32).null())
                    .col(ColumnDef::new(CrewMembers::Kind).string_len(16).not_null())
                    .col(text(CrewMembers::Skills))
                    .col(text(CrewMembers::Certifications))
                    .col(text(CrewMembers::Availability))
                    .col(id(CrewMembers::CreatedBy))
                    .col(id(CrewMembers::UpdatedBy))
                    .col(at(CrewMembers::CreatedAt))
                    .col(at(CrewMembers::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // One profile per identity user in a company (NULLs, people without an account, do not collide).
        manager
            .create_index(
                Index::create()
                    .name("crew_members_user")
                    .table(CrewMembers::Table)
                    .col(CrewMembers::CompanyId)
                    .col(CrewMembers::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Shifts::Table)
                    .col(id(Shifts::Id).primary_key())
                    .col(id(Shifts::CompanyId))
                    .col(id(Shifts::EventId))
                    .col(ColumnDef::new(Shifts::Name).string_len(200).not_null())
                    .col(at(Shifts::StartsAt))
                    .col(at(Shifts::EndsAt))
                    .col(text(Shifts::RequiredSkills))
                    .col(ColumnDef::new(Shifts::Headcount).integer().not_null())
                    .col(ColumnDef::new(Shifts::Filled).integer().not_null())
                    .col(id(Shifts::CreatedBy))
                    .col(id(Shifts::UpdatedBy))
                    .col(at(Shifts::CreatedAt))
                    .col(at(Shifts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shifts_event")
                    .table(Shifts::Table)
                    .col(Shifts::CompanyId)
                    .col(Shifts::EventId)
                    .col(Shifts::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShiftAssignments::Table)
                    .col(id(ShiftAssignments::Id).primary_key())
                    .col(id(ShiftAssignments::CompanyId))
                    .col(id(ShiftAssignments::ShiftId))
                    .col(id(ShiftAssignments::CrewId))
                    .col(id(ShiftAssignments::AssignedBy))
                    .col(at(ShiftAssignments::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shift_assignments_once")
                    .table(ShiftAssignments::Table)
                    .col(ShiftAssignments::ShiftId)
                    .col(ShiftAssignments::CrewId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shift_assignments_crew")
                    .table(ShiftAssignments::Table)
                    .col(ShiftAssignments::CompanyId)
                    .col(ShiftAssignments::CrewId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ShiftAssignments::Table.into_iden(),
            Shifts::Table.into_iden(),
            CrewMembers::Table.into_iden(),
            MediaUsage::Table.into_iden(),
            MediaAssets::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

//! Date holds, and the workspace: boards, tasks and comments.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Holds {
    Table,
    Id,
    CompanyId,
    VenueId,
    ArtistId,
    StartsAt,
    EndsAt,
    ExpiresAt,
    Note,
    Status,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Boards {
    Table,
    Id,
    CompanyId,
    Name,
    EventId,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    CompanyId,
    BoardId,
    Title,
    Description,
    Status,
    Priority,
    DueDate,
    Assignees,
    EventId,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    CompanyId,
    TaskId,
    AuthorId,
    Body,
    CreatedAt,
}

fn uuid(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).uuid().not_null().to_owned()
}

fn ts(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Holds::Table)
                    .col(uuid(Holds::Id).primary_key())
                    .col(uuid(Holds::CompanyId))
                    .col(ColumnDef::new(Holds::VenueId).uuid().null())
                    .col(ColumnDef::new(Holds::ArtistId).uuid().null())
                    .col(ts(Holds::StartsAt))
                    .col(ts(Holds::EndsAt))
                    .col(ts(Holds::ExpiresAt))
                    .col(ColumnDef::new(Holds::Note).text().not_null())
                    .col(ColumnDef::new(Holds::Status).string_len(16).not_null())
                    .col(uuid(Holds::CreatedBy))
                    .col(uuid(Holds::UpdatedBy))
                    .col(ts(Holds::CreatedAt))
                    .col(ts(Holds::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("holds_company_starts")
                    .table(Holds::Table)
                    .col(Holds::CompanyId)
                    .col(Holds::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Boards::Table)
                    .col(uuid(Boards::Id).primary_key())
                    .col(uuid(Boards::CompanyId))
                    .col(ColumnDef::new(Boards::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Boards::EventId).uuid().null())
                    .col(uuid(Boards::CreatedBy))
                    .col(uuid(Boards::UpdatedBy))
                    .col(ts(Boards::CreatedAt))
                    .col(ts(Boards::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(uuid(Tasks::Id).primary_key())
                    .col(uuid(Tasks::CompanyId))
                    .col(uuid(Tasks::BoardId))
                    .col(ColumnDef::new(Tasks::Title).string_len(300).not_null())
                    .col(ColumnDef::new(Tasks::Description).text().not_null())
                    .col(ColumnDef::new(Tasks::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Tasks::Priority).string_len(16).not_null())
                    .col(ColumnDef::new(Tasks::DueDate).date().null())
                    .col(ColumnDef::new(Tasks::Assignees).text().not_null())
                    .col(ColumnDef::new(Tasks::EventId).uuid().null())
                    .col(uuid(Tasks::CreatedBy))
                    .col(uuid(Tasks::UpdatedBy))
                    .col(ts(Tasks::CreatedAt))
                    .col(ts(Tasks::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tasks_company_board")
                    .table(Tasks::Table)
                    .col(Tasks::CompanyId)
                    .col(Tasks::BoardId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(uuid(Comments::Id).primary_key())
                    .col(uuid(Comments::CompanyId))
                    .col(uuid(Comments::TaskId))
                    .col(uuid(Comments::AuthorId))
                    .col(ColumnDef::new(Comments::Body).text().not_null())
                    .col(ts(Comments::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("comments_task")
                    .table(Comments::Table)
                    .col(Comments::TaskId)
                    .col(Comments::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [Comments::Table.into_iden(), Tasks::Table.into_iden(), Boards::Table.into_iden(), Holds::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

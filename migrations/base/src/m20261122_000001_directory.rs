//! Artists and the activity log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Artists {
    Table,
    Id,
    CompanyId,
    Name,
    Genres,
    Contacts,
    Representation,
    FeeMin,
    FeeMax,
    FeeCurrency,
    Notes,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Activity {
    Table,
    Id,
    CompanyId,
    At,
    ActorUserId,
    Entity,
    EntityId,
    Action,
    Before,
    After,
}

/// The columns every tenant-scoped table has.
fn tenant_columns(
    table: &mut TableCreateStatement,
    id: impl IntoIden,
    company: impl IntoIden,
    created_by: impl IntoIden,
    updated_by: impl IntoIden,
    created_at: impl IntoIden,
    updated_at: impl IntoIden,
) {
    table
        .col(ColumnDef::new(id).uuid().not_null().primary_key())
        .col(ColumnDef::new(company).uuid().not_null())
        .col(ColumnDef::new(created_by).uuid().not_null())
        .col(ColumnDef::new(updated_by).uuid().not_null())
        .col(ColumnDef::new(created_at).timestamp_with_time_zone().not_null())
        .col(ColumnDef::new(updated_at).timestamp_with_time_zone().not_null());
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut artists = Table::create();
        artists.table(Artists::Table);
        tenant_columns(
            &mut artists,
            Artists::Id,
            Artists::CompanyId,
            Artists::CreatedBy,
            Artists::UpdatedBy,
            Artists::CreatedAt,
            Artists::UpdatedAt,
        );
        artists
            .col(ColumnDef::new(Artists::Name).string_len(200).not_null())
            .col(ColumnDef::new(Artists::Genres).text().not_null())
            .col(ColumnDef::new(Artists::Contacts).text().not_null())
            .col(ColumnDef::new(Artists::Representation).string_len(300).null())
            .col(ColumnDef::new(Artists::FeeMin).big_integer().null())
            .col(ColumnDef::new(Artists::FeeMax).big_integer().null())
            .col(ColumnDef::new(Artists::FeeCurrency).string_len(3).null())
            .col(ColumnDef::new(Artists::Notes).text().not_null());
        manager.create_table(artists.to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("artists_company_name")
                    .table(Artists::Table)
                    .col(Artists::CompanyId)
                    .col(Artists::Name)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Activity::Table)
                    .col(ColumnDef::new(Activity::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Activity::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Activity::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Activity::ActorUserId).uuid().not_null())
                    .col(ColumnDef::new(Activity::Entity).string_len(32).not_null())
                    .col(ColumnDef::new(Activity::EntityId).uuid().not_null())
                    .col(ColumnDef::new(Activity::Action).string_len(32).not_null())
                    .col(ColumnDef::new(Activity::Before).text().not_null())
                    .col(ColumnDef::new(Activity::After).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("activity_company_at")
                    .table(Activity::Table)
                    .col(Activity::CompanyId)
                    .col(Activity::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Activity::Table.into_iden(), Artists::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

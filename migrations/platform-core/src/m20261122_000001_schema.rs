use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Modules {
    Table,
    Code,
    Name,
    Description,
    Position,
}

#[derive(DeriveIden)]
pub enum Permissions {
    Table,
    Code,
    ModuleCode,
    Description,
}

#[derive(DeriveIden)]
pub enum Plans {
    Table,
    Id,
    Kind,
    Code,
    Version,
    Name,
    Description,
    Modules,
    Permissions,
    Limits,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    CompanyId,
    Status,
    PackageId,
    AddonIds,
    CurrentPeriodStart,
    CurrentPeriodEnd,
    TrialEndsAt,
    PastDueSince,
    GraceDays,
    Revision,
    CreatedAt,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum SubscriptionChanges {
    Table,
    Id,
    CompanyId,
    Revision,
    FromStatus,
    ToStatus,
    PackageId,
    AddonIds,
    Actor,
    Note,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Modules::Table)
                    .col(ColumnDef::new(Modules::Code).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Modules::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Modules::Description).text().not_null())
                    .col(ColumnDef::new(Modules::Position).integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Permissions::Table)
                    .col(ColumnDef::new(Permissions::Code).string_len(128).not_null().primary_key())
                    .col(ColumnDef::new(Permissions::ModuleCode).string_len(64).not_null())
                    .col(ColumnDef::new(Permissions::Description).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Permissions::Table, Permissions::ModuleCode)
                            .to(Modules::Table, Modules::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(ColumnDef::new(Plans::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Plans::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Plans::Code).string_len(64).not_null())
                    .col(ColumnDef::new(Plans::Version).integer().not_null())
                    .col(ColumnDef::new(Plans::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Plans::Description).text().not_null())
                    .col(ColumnDef::new(Plans::Modules).text().not_null())
                    .col(ColumnDef::new(Plans::Permissions).text().not_null())
                    .col(ColumnDef::new(Plans::Limits).text().not_null())
                    .col(ColumnDef::new(Plans::CreatedBy).uuid().null())
                    .col(ColumnDef::new(Plans::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plans_kind_code_version")
                    .table(Plans::Table)
                    .col(Plans::Kind)
                    .col(Plans::Code)
                    .col(Plans::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Subscriptions::Table)
                    .col(ColumnDef::new(Subscriptions::CompanyId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Subscriptions::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Subscriptions::PackageId).uuid().not_null())
                    .col(ColumnDef::new(Subscriptions::AddonIds).text().not_null())
                    .col(ColumnDef::new(Subscriptions::CurrentPeriodStart).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Subscriptions::CurrentPeriodEnd).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Subscriptions::TrialEndsAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Subscriptions::PastDueSince).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Subscriptions::GraceDays).integer().not_null())
                    .col(ColumnDef::new(Subscriptions::Revision).big_integer().not_null())
                    .col(ColumnDef::new(Subscriptions::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Subscriptions::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Subscriptions::UpdatedBy).string_len(128).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Subscriptions::Table, Subscriptions::PackageId)
                            .to(Plans::Table, Plans::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubscriptionChanges::Table)
                    .col(ColumnDef::new(SubscriptionChanges::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(SubscriptionChanges::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(SubscriptionChanges::Revision).big_integer().not_null())
                    .col(ColumnDef::new(SubscriptionChanges::FromStatus).string_len(16).null())
                    .col(ColumnDef::new(SubscriptionChanges::ToStatus).string_len(16).not_null())
                    .col(ColumnDef::new(SubscriptionChanges::PackageId).uuid().not_null())
                    .col(ColumnDef::new(SubscriptionChanges::AddonIds).text().not_null())
                    .col(ColumnDef::new(SubscriptionChanges::Actor).string_len(128).not_null())
                    .col(ColumnDef::new(SubscriptionChanges::Note).text().null())
                    .col(ColumnDef::new(SubscriptionChanges::At).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("subscription_changes_company_revision")
                    .table(SubscriptionChanges::Table)
                    .col(SubscriptionChanges::CompanyId)
                    .col(SubscriptionChanges::Revision)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SubscriptionChanges::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Subscriptions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Plans::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Permissions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Modules::Table).to_owned()).await?;
        Ok(())
    }
}

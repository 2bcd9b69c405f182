//! API keys: a company's integrations sign in with them. Only the secret's
//! SHA-256 is kept; its first characters stay visible so people can tell
//! their keys apart.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    CompanyId,
    Name,
    Prefix,
    SecretHash,
    Permissions,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    RevokedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let ts = |col: ApiKeys| ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned();
        let ts_null = |col: ApiKeys| ColumnDef::new(col).timestamp_with_time_zone().null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(ColumnDef::new(ApiKeys::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ApiKeys::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(ApiKeys::Name).string_len(100).not_null())
                    .col(ColumnDef::new(ApiKeys::Prefix).string_len(16).not_null())
                    .col(ColumnDef::new(ApiKeys::SecretHash).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(ApiKeys::Permissions).text().not_null())
                    .col(ColumnDef::new(ApiKeys::CreatedBy).uuid().not_null())
                    .col(ts(ApiKeys::CreatedAt))
                    .col(ts_null(ApiKeys::ExpiresAt))
                    .col(ts_null(ApiKeys::LastUsedAt))
                    .col(ts_null(ApiKeys::RevokedAt))
                    .col(ColumnDef::new(ApiKeys::RevokedBy).uuid().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::CompanyId)
                            .to(Companies::Table, Companies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("api_keys_company").table(ApiKeys::Table).col(ApiKeys::CompanyId).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await
    }
}

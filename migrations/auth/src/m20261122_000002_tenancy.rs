//! Companies (tenants), memberships, roles, grants, invitations and the
//! tenant audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Name,
    CreatedBy,
    CreatedAt,
    Revision,
    SubscriptionReady,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    CompanyId,
    UserId,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    CompanyId,
    Name,
    Description,
    System,
    Permissions,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MembershipRoles {
    Table,
    MembershipId,
    RoleId,
}

#[derive(DeriveIden)]
enum DirectGrants {
    Table,
    MembershipId,
    Permission,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    CompanyId,
    Email,
    RoleIds,
    TokenHash,
    InvitedBy,
    Status,
    ExpiresAt,
    CreatedAt,
    AcceptedAt,
    AcceptedBy,
}

#[derive(DeriveIden)]
enum TenantAudit {
    Table,
    Id,
    CompanyId,
    At,
    ActorUserId,
    Action,
    Target,
    Before,
    After,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().primary_key().to_owned()
}

fn uuid(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().to_owned()
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Companies::Table)
                    .col(id(Companies::Id))
                    .col(ColumnDef::new(Companies::Name).string_len(200).not_null())
                    .col(uuid(Companies::CreatedBy))
                    .col(ts(Companies::CreatedAt))
                    .col(ColumnDef::new(Companies::Revision).big_integer().not_null())
                    .col(ColumnDef::new(Companies::SubscriptionReady).boolean().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(id(Memberships::Id))
                    .col(uuid(Memberships::CompanyId))
                    .col(uuid(Memberships::UserId))
                    .col(ColumnDef::new(Memberships::Status).string_len(16).not_null())
                    .col(ts(Memberships::CreatedAt))
                    .col(ts(Memberships::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::CompanyId)
                            .to(Companies::Table, Companies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("memberships_company_user")
                    .table(Memberships::Table)
                    .col(Memberships::CompanyId)
                    .col(Memberships::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("memberships_user").table(Memberships::Table).col(Memberships::UserId).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(id(Roles::Id))
                    .col(uuid(Roles::CompanyId))
                    .col(ColumnDef::new(Roles::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Roles::Description).text().not_null())
                    .col(ColumnDef::new(Roles::System).boolean().not_null())
                    .col(ColumnDef::new(Roles::Permissions).text().not_null())
                    .col(ts(Roles::CreatedAt))
                    .col(ts(Roles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create().from(Roles::Table, Roles::CompanyId).to(Companies::Table, Companies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("roles_company_name")
                    .table(Roles::Table)
                    .col(Roles::CompanyId)
                    .col(Roles::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MembershipRoles::Table)
                    .col(uuid(MembershipRoles::MembershipId))
                    .col(uuid(MembershipRoles::RoleId))
                    .primary_key(Index::create().col(MembershipRoles::MembershipId).col(MembershipRoles::RoleId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MembershipRoles::Table, MembershipRoles::MembershipId)
                            .to(Memberships::Table, Memberships::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MembershipRoles::Table, MembershipRoles::RoleId)
                            .to(Roles::Table, Roles::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DirectGrants::Table)
                    .col(uuid(DirectGrants::MembershipId))
                    .col(ColumnDef::new(DirectGrants::Permission).string_len(128).not_null())
                    .primary_key(Index::create().col(DirectGrants::MembershipId).col(DirectGrants::Permission))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DirectGrants::Table, DirectGrants::MembershipId)
                            .to(Memberships::Table, Memberships::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(id(Invitations::Id))
                    .col(uuid(Invitations::CompanyId))
                    .col(ColumnDef::new(Invitations::Email).string_len(254).not_null())
                    .col(ColumnDef::new(Invitations::RoleIds).text().not_null())
                    .col(ColumnDef::new(Invitations::TokenHash).string_len(64).not_null().unique_key())
                    .col(uuid(Invitations::InvitedBy))
                    .col(ColumnDef::new(Invitations::Status).string_len(16).not_null())
                    .col(ts(Invitations::ExpiresAt))
                    .col(ts(Invitations::CreatedAt))
                    .col(ColumnDef::new(Invitations::AcceptedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Invitations::AcceptedBy).uuid().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::CompanyId)
                            .to(Companies::Table, Companies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invitations_company")
                    .table(Invitations::Table)
                    .col(Invitations::CompanyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TenantAudit::Table)
                    .col(id(TenantAudit::Id))
                    .col(uuid(TenantAudit::CompanyId))
                    .col(ts(TenantAudit::At))
                    .col(uuid(TenantAudit::ActorUserId))
                    .col(ColumnDef::new(TenantAudit::Action).string_len(64).not_null())
                    .col(ColumnDef::new(TenantAudit::Target).string_len(128).not_null())
                    .col(ColumnDef::new(TenantAudit::Before).text().not_null())
                    .col(ColumnDef::new(TenantAudit::After).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tenant_audit_company_at")
                    .table(TenantAudit::Table)
                    .col(TenantAudit::CompanyId)
                    .col(TenantAudit::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TenantAudit::Table.into_iden(),
            Invitations::Table.into_iden(),
            DirectGrants::Table.into_iden(),
            MembershipRoles::Table.into_iden(),
            Roles::Table.into_iden(),
            Memberships::Table.into_iden(),
            Companies::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

//! Identity, sessions and tokens, signing keys, mail outbox, audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    BaseRole,
    Status,
    EmailVerifiedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserProfiles {
    Table,
    UserId,
    Name,
    Phone,
    Locale,
    AvatarRef,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
    UserAgent,
    Ip,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    RotatedAt,
    ReissueSealed,
    ReissueUntil,
}

#[derive(DeriveIden)]
enum SessionRevocations {
    Table,
    Id,
    SessionId,
    UserId,
    Reason,
    At,
}

#[derive(DeriveIden)]
enum OneTimeTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    Kid,
    PrivateSealed,
    PublicKey,
    Status,
    CurrentMarker,
    CreatedAt,
    RotatedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    ToAddress,
    Subject,
    Body,
    CreatedAt,
    SentAt,
    Attempts,
    NextAttemptAt,
    LastError,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Action,
    ActorUserId,
    SubjectUserId,
    SessionId,
    Ip,
    UserAgent,
    Detail,
}

fn ts<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

fn ts_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>, unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Users::Email).string_len(254).not_null().unique_key())
                    .col(ColumnDef::new(Users::PasswordHash).string_len(255).not_null())
                    .col(ColumnDef::new(Users::BaseRole).string_len(32).not_null())
                    .col(ColumnDef::new(Users::Status).string_len(16).not_null())
                    .col(ts_null(Users::EmailVerifiedAt))
                    .col(ts(Users::CreatedAt))
                    .col(ts(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserProfiles::Table)
                    .col(ColumnDef::new(UserProfiles::UserId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(UserProfiles::Name).string_len(200).not_null())
                    .col(ColumnDef::new(UserProfiles::Phone).string_len(40).null())
                    .col(ColumnDef::new(UserProfiles::Locale).string_len(35).null())
                    .col(ColumnDef::new(UserProfiles::AvatarRef).string_len(500).null())
                    .col(ts(UserProfiles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserProfiles::Table, UserProfiles::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Sessions::UserId).uuid().not_null())
                    .col(ts(Sessions::CreatedAt))
                    .col(ts(Sessions::LastSeenAt))
                    .col(ts(Sessions::ExpiresAt))
                    .col(ts_null(Sessions::RevokedAt))
                    .col(ColumnDef::new(Sessions::RevokedReason).string_len(64).null())
                    .col(ColumnDef::new(Sessions::UserAgent).string_len(500).null())
                    .col(ColumnDef::new(Sessions::Ip).string_len(64).null())
                    .foreign_key(
                        ForeignKey::create().from(Sessions::Table, Sessions::UserId).to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("sessions_user", Sessions::Table, vec![Sessions::UserId.into_iden()], false))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(ColumnDef::new(RefreshTokens::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(RefreshTokens::SessionId).uuid().not_null())
                    .col(ColumnDef::new(RefreshTokens::TokenHash).string_len(64).not_null().unique_key())
                    .col(ts(RefreshTokens::CreatedAt))
                    .col(ts_null(RefreshTokens::RotatedAt))
                    .col(ColumnDef::new(RefreshTokens::ReissueSealed).text().null())
                    .col(ts_null(RefreshTokens::ReissueUntil))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SessionRevocations::Table)
                    .col(ColumnDef::new(SessionRevocations::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(SessionRevocations::SessionId).uuid().not_null())
                    .col(ColumnDef::new(SessionRevocations::UserId).uuid().not_null())
                    .col(ColumnDef::new(SessionRevocations::Reason).string_len(64).not_null())
                    .col(ts(SessionRevocations::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OneTimeTokens::Table)
                    .col(ColumnDef::new(OneTimeTokens::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(OneTimeTokens::UserId).uuid().not_null())
                    .col(ColumnDef::new(OneTimeTokens::Purpose).string_len(32).not_null())
                    .col(ColumnDef::new(OneTimeTokens::TokenHash).string_len(64).not_null().unique_key())
                    .col(ts(OneTimeTokens::ExpiresAt))
                    .col(ts_null(OneTimeTokens::UsedAt))
                    .col(ts(OneTimeTokens::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(ColumnDef::new(SigningKeys::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(SigningKeys::Kid).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(SigningKeys::PrivateSealed).text().not_null())
                    .col(ColumnDef::new(SigningKeys::PublicKey).string_len(128).not_null())
                    .col(ColumnDef::new(SigningKeys::Status).string_len(16).not_null())
                    // 1 on the current key, NULL otherwise: the unique index allows one current key.
                    .col(ColumnDef::new(SigningKeys::CurrentMarker).integer().null().unique_key())
                    .col(ts(SigningKeys::CreatedAt))
                    .col(ts_null(SigningKeys::RotatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(ColumnDef::new(MailOutbox::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(MailOutbox::ToAddress).string_len(254).not_null())
                    .col(ColumnDef::new(MailOutbox::Subject).string_len(200).not_null())
                    .col(ColumnDef::new(MailOutbox::Body).text().not_null())
                    .col(ts(MailOutbox::CreatedAt))
                    .col(ts_null(MailOutbox::SentAt))
                    .col(ColumnDef::new(MailOutbox::Attempts).integer().not_null())
                    .col(ts(MailOutbox::NextAttemptAt))
                    .col(ColumnDef::new(MailOutbox::LastError).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "mail_outbox_pending",
                MailOutbox::Table,
                vec![MailOutbox::SentAt.into_iden(), MailOutbox::NextAttemptAt.into_iden()],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(ColumnDef::new(AuditLog::Id).uuid().not_null().primary_key())
                    .col(ts(AuditLog::At))
                    .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::ActorUserId).uuid().null())
                    .col(ColumnDef::new(AuditLog::SubjectUserId).uuid().null())
                    .col(ColumnDef::new(AuditLog::SessionId).uuid().null())
                    .col(ColumnDef::new(AuditLog::Ip).string_len(64).null())
                    .col(ColumnDef::new(AuditLog::UserAgent).string_len(500).null())
                    .col(ColumnDef::new(AuditLog::Detail).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "audit_subject",
                AuditLog::Table,
                vec![AuditLog::SubjectUserId.into_iden(), AuditLog::At.into_iden()],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            MailOutbox::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            OneTimeTokens::Table.into_iden(),
            SessionRevocations::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            UserProfiles::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

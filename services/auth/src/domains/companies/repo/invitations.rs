//! Invitations, by company or by their token's hash.

use super::*;

pub(super) fn invitation_of(r: invitation_row::Model) -> Result<Invitation, DbErr> {
    Ok(Invitation {
        id: r.id,
        company_id: r.company_id,
        email: r.email,
        role_ids: serde_json::from_str(&r.role_ids).map_err(corrupt)?,
        status: InvitationStatus::parse(&r.status),
        invited_by: r.invited_by,
        expires_at: r.expires_at,
        created_at: r.created_at,
        accepted_at: r.accepted_at,
        token: None,
    })
}

pub async fn insert_invitation(db: &impl ConnectionTrait, i: &Invitation, token_hash: String) -> Result<(), DbErr> {
    invitation_row::ActiveModel {
        id: Set(i.id),
        company_id: Set(i.company_id),
        email: Set(i.email.clone()),
        role_ids: Set(json(&i.role_ids)?),
        token_hash: Set(token_hash),
        invited_by: Set(i.invited_by),
        status: Set(i.status.as_str().to_owned()),
        expires_at: Set(i.expires_at),
        created_at: Set(i.created_at),
        accepted_at: Set(None),
        accepted_by: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn invitation(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Invitation>, DbErr> {
    invitation_row::Entity::find()
        .filter(invitation_row::Column::CompanyId.eq(company))
        .filter(invitation_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(invitation_of)
        .transpose()
}

pub async fn invitation_by_token(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<Invitation>, DbErr> {
    invitation_row::Entity::find()
        .filter(invitation_row::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
        .map(invitation_of)
        .transpose()
}

pub async fn invitations(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Invitation>, u64), DbErr> {
    let query = invitation_row::Entity::find().filter(invitation_row::Column::CompanyId.eq(company));
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(invitation_row::Column::CreatedAt).offset(offset).limit(limit).all(db).await?;
    Ok((rows.into_iter().map(invitation_of).collect::<Result<_, _>>()?, total))
}

/// Moves a pending invitation to `status`; false if it was no longer pending.
pub async fn finish_invitation(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: InvitationStatus,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update =
        invitation_row::Entity::update_many().col_expr(invitation_row::Column::Status, Expr::value(status.as_str()));
    if status == InvitationStatus::Accepted {
        update = update
            .col_expr(invitation_row::Column::AcceptedAt, Expr::value(now))
            .col_expr(invitation_row::Column::AcceptedBy, Expr::value(by));
    }
    let done = update
        .filter(invitation_row::Column::Id.eq(id))
        .filter(invitation_row::Column::Status.eq(InvitationStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// A new token and expiry for a pending invitation.
pub async fn renew_invitation(
    db: &impl ConnectionTrait,
    id: Uuid,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    invitation_row::Entity::update_many()
        .col_expr(invitation_row::Column::TokenHash, Expr::value(token_hash))
        .col_expr(invitation_row::Column::ExpiresAt, Expr::value(expires_at))
        .filter(invitation_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

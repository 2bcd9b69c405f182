//! Invitations: sent by mail, resent, revoked, and accepted once.

use super::*;

pub async fn invite(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    input: InvitationIn,
) -> Result<(Invitation, u64), Error> {
    let email = Email::parse(&input.email).map_err(|e| Error::field("email", e))?;
    let actor_grants = admin_grants(state, &state.db, company, actor).await?;
    let role_ids = default_roles(state, company, &input.role_ids).await?;
    let roles = roles_by_id(&state.db, company, &role_ids).await?;
    check_grantable(state, &actor_grants, &roles, &BTreeSet::new()).await?;
    if let Some(user) = users::by_email(&state.db, &email).await?
        && repo::membership(&state.db, company, user.id).await?.is_some()
    {
        return Err(Error::AlreadyMember);
    }
    let now = state.clock.now();
    let token = random_token();
    let mut invitation = Invitation {
        id: Uuid::now_v7(),
        company_id: company,
        email: email.as_str().to_owned(),
        role_ids,
        status: InvitationStatus::Pending,
        invited_by: actor,
        expires_at: now + Duration::from_std(state.config.invitation_ttl).unwrap_or(Duration::days(7)),
        created_at: now,
        accepted_at: None,
        token: None,
    };
    let txn = state.db.begin().await?;
    repo::insert_invitation(&txn, &invitation, token_hash(&token)).await?;
    send_invitation_mail(state, &txn, &invitation, &token).await?;
    let change = Change {
        action: "invitation.created",
        target: format!("invitation:{}", invitation.id),
        before: Value::Null,
        after: json!({"email": invitation.email, "roles": roles.iter().map(|r| &r.name).collect::<Vec<_>>()}),
        event: ChangeKind::MembershipChanged,
        user: None,
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    state.outbox.wake();
    invitation.token = Some(token);
    Ok((invitation, revision))
}

pub(super) async fn send_invitation_mail(
    state: &AppState,
    db: &impl ConnectionTrait,
    invitation: &Invitation,
    token: &str,
) -> Result<(), Error> {
    let company = repo::company(db, invitation.company_id).await?.ok_or(Error::NoCompany)?;
    let link = state.config.mail.link(&format!("/accept-invitation?token={token}"));
    let body = format!(
        "You are invited to join {} on Marquee.\n\nOpen this link to accept (it expires {}):\n\n{link}\n",
        company.name,
        invitation.expires_at.format("%Y-%m-%d %H:%M UTC")
    );
    marquee_mail::Outbox::enqueue(
        db,
        state.clock.now(),
        &invitation.email,
        &format!("Join {} on Marquee", company.name),
        body,
    )
    .await?;
    Ok(())
}

pub async fn invitations(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Invitation>, u64), Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let now = state.clock.now();
    let (mut items, total) = repo::invitations(&state.db, company, offset, limit).await?;
    for i in &mut items {
        if i.status == InvitationStatus::Pending && i.expires_at <= now {
            i.status = InvitationStatus::Expired;
        }
    }
    Ok((items, total))
}

pub async fn revoke_invitation(state: &AppState, company: Uuid, actor: Uuid, id: Uuid) -> Result<u64, Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let invitation = repo::invitation(&state.db, company, id).await?.ok_or(Error::NotFound("invitation"))?;
    let txn = state.db.begin().await?;
    if !repo::finish_invitation(&txn, id, InvitationStatus::Revoked, None, state.clock.now()).await? {
        return Err(Error::InvitationInvalid("it is no longer pending"));
    }
    let change = Change {
        action: "invitation.revoked",
        target: format!("invitation:{id}"),
        before: json!({"email": invitation.email, "status": "pending"}),
        after: json!({"status": "revoked"}),
        event: ChangeKind::MembershipChanged,
        user: None,
    };
    commit(state, txn, company, actor, vec![change]).await
}

/// A new token and a new expiry; the old link stops working.
pub async fn resend_invitation(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    id: Uuid,
) -> Result<(Invitation, u64), Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let mut invitation = repo::invitation(&state.db, company, id).await?.ok_or(Error::NotFound("invitation"))?;
    if invitation.status != InvitationStatus::Pending {
        return Err(Error::InvitationInvalid("it is no longer pending"));
    }
    let token = random_token();
    invitation.expires_at =
        state.clock.now() + Duration::from_std(state.config.invitation_ttl).unwrap_or(Duration::days(7));
    let txn = state.db.begin().await?;
    repo::renew_invitation(&txn, id, token_hash(&token), invitation.expires_at).await?;
    send_invitation_mail(state, &txn, &invitation, &token).await?;
    let change = Change {
        action: "invitation.resent",
        target: format!("invitation:{id}"),
        before: Value::Null,
        after: json!({"expiresAt": invitation.expires_at}),
        event: ChangeKind::MembershipChanged,
        user: None,
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    state.outbox.wake();
    invitation.token = Some(token);
    Ok((invitation, revision))
}

/// The signed-in invitee accepts: their verified email must be the invited one,
/// and the company must have room.
pub async fn accept_invitation(state: &AppState, user: Uuid, token: &str) -> Result<(Company, u64), Error> {
    let invitation = repo::invitation_by_token(&state.db, &token_hash(token))
        .await?
        .ok_or(Error::InvitationInvalid("unknown token"))?;
    let now = state.clock.now();
    match invitation.status {
        InvitationStatus::Pending if invitation.expires_at > now => {}
        InvitationStatus::Pending | InvitationStatus::Expired => {
            return Err(Error::InvitationInvalid("it has expired"));
        }
        InvitationStatus::Revoked => return Err(Error::InvitationInvalid("it was revoked")),
        InvitationStatus::Accepted => return Err(Error::InvitationInvalid("it was already accepted")),
    }
    let account = users::by_id(&state.db, user).await?.ok_or(Error::NotFound("user"))?;
    if account.email_verified_at.is_none() {
        return Err(Error::EmailNotVerified);
    }
    if account.email != invitation.email {
        return Err(Error::InvitationEmailMismatch);
    }
    let company = invitation.company_id;
    let roles = roles_by_id(&state.db, company, &invitation.role_ids).await.unwrap_or_default();
    let txn = state.db.begin().await?;
    if repo::membership(&txn, company, user).await?.is_some() {
        return Err(Error::AlreadyMember);
    }
    check_room(state, &txn, company).await?;
    if !repo::finish_invitation(&txn, invitation.id, InvitationStatus::Accepted, Some(user), now).await? {
        return Err(Error::InvitationInvalid("it was already used"));
    }
    insert_member(state, &txn, company, user, &roles).await?;
    let change = Change {
        action: "invitation.accepted",
        target: format!("user:{user}"),
        before: json!({"invitation": invitation.id}),
        after: json!({"roles": roles.iter().map(|r| &r.name).collect::<Vec<_>>()}),
        event: ChangeKind::MembershipChanged,
        user: Some(user),
    };
    let revision = commit(state, txn, company, invitation.invited_by, vec![change]).await?;
    let company = repo::company(&state.db, company).await?.ok_or(Error::NoCompany)?;
    Ok((company, revision))
}

pub async fn audit(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<TenantAuditEntry>, u64), Error> {
    admin_grants(state, &state.db, company, actor).await?;
    Ok(repo::audit(&state.db, company, offset, limit).await?)
}

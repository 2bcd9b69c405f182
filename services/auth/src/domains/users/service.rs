//! The rules of accounts.

use chrono::Duration;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::model::{
    Email, Me, PasswordChangeIn, Profile, ProfileIn, Purpose, ROLE_PLATFORM_ADMIN, ROLE_USER, ResetConfirmIn, SignupIn,
    Status, User,
};
use super::repo;
use crate::client::ClientMeta;
use crate::crypto::{Verified, random_token, token_hash};
use crate::domains::audit::{AuditEntry, repo as audit};
use crate::domains::sessions::model::RevokeReason;
use crate::domains::sessions::service as sessions;
use crate::error::Error;
use crate::state::AppState;
use marquee_mail::Outbox;

const VERIFY_TTL_HOURS: i64 = 48;
const RESET_TTL_MINUTES: i64 = 30;

fn link(state: &AppState, path: &str, token: &str) -> String {
    state.config.mail.link(&format!("/{path}?token={token}"))
}

async fn create(
    state: &AppState,
    email: Email,
    password: &str,
    name: &str,
    role: &str,
    verified: bool,
) -> Result<(User, Option<String>), Error> {
    if repo::by_email(&state.db, &email).await?.is_some() {
        return Err(Error::EmailTaken);
    }
    let now = state.clock.now();
    let user = User {
        id: Uuid::now_v7(),
        email: email.as_str().to_owned(),
        password_hash: state.passwords.hash(password).await?,
        base_role: role.to_owned(),
        status: Status::Active,
        email_verified_at: verified.then_some(now),
        created_at: now,
        updated_at: now,
    };
    let profile = Profile { name: name.trim().to_owned(), phone: None, locale: None, avatar_ref: None };
    let txn = state.db.begin().await?;
    match repo::insert(&txn, &user, &profile).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => return Err(Error::EmailTaken),
        other => other?,
    }
    let verification = if verified { None } else { Some(send_verification(state, &txn, &user).await?) };
    txn.commit().await?;
    state.outbox.wake();
    Ok((user, verification))
}

async fn send_verification(state: &AppState, db: &impl sea_orm::ConnectionTrait, user: &User) -> Result<String, Error> {
    let now = state.clock.now();
    let token = random_token();
    repo::insert_token(
        db,
        user.id,
        Purpose::VerifyEmail,
        token_hash(&token),
        now,
        now + Duration::hours(VERIFY_TTL_HOURS),
    )
    .await?;
    let body = format!(
        "Welcome to Marquee.\n\nConfirm your email address by opening this link within {VERIFY_TTL_HOURS} hours:\n\n{}\n",
        link(state, "verify-email", &token)
    );
    Outbox::enqueue(db, now, &user.email, "Confirm your email address", body).await?;
    Ok(token)
}

pub async fn signup(state: &AppState, input: SignupIn, client: &ClientMeta) -> Result<Me, Error> {
    let email = Email::parse(&input.email).map_err(|e| Error::field("email", e))?;
    sessions::check_rate(state, client, Some(&email)).await?;
    let (user, _) = create(state, email, &input.password, &input.name, ROLE_USER, false).await?;
    audit::insert(&state.db, &AuditEntry::new("signup", state.clock.now(), client).by(user.id)).await?;
    me(state, user.id).await
}

/// Creates the platform admin from the environment when that user does not exist yet.
pub async fn bootstrap_admin(state: &AppState) -> Result<(), Error> {
    let (Some(email), Some(password)) = (&state.config.admin_email, &state.config.admin_password) else {
        return Ok(());
    };
    let email = Email::parse(email).map_err(|e| Error::field("MARQUEE_ADMIN_EMAIL", e))?;
    if repo::by_email(&state.db, &email).await?.is_some() {
        return Ok(());
    }
    match create(state, email, password.expose(), "Platform admin", ROLE_PLATFORM_ADMIN, true).await {
        Ok((user, _)) => {
            tracing::info!(user_id = %user.id, "platform admin created");
            Ok(())
        }
        // Another replica created it at the same moment.
        Err(Error::EmailTaken) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn me(state: &AppState, user: Uuid) -> Result<Me, Error> {
    let found = repo::by_id(&state.db, user).await?.ok_or(Error::NotFound("user"))?;
    Ok(Me::of(&found, repo::profile(&state.db, user).await?))
}

pub async fn update_profile(state: &AppState, user: Uuid, edit: ProfileIn) -> Result<Me, Error> {
    let mut profile = repo::profile(&state.db, user).await?;
    if let Some(name) = edit.name {
        profile.name = name.trim().to_owned();
    }
    if let Some(phone) = edit.phone {
        profile.phone = phone;
    }
    if let Some(locale) = edit.locale {
        profile.locale = locale;
    }
    if let Some(avatar) = edit.avatar_ref {
        profile.avatar_ref = avatar;
    }
    repo::save_profile(&state.db, user, &profile, state.clock.now()).await?;
    me(state, user).await
}

pub async fn verify_email(state: &AppState, token: &str, client: &ClientMeta) -> Result<(), Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let user = repo::consume_token(&txn, Purpose::VerifyEmail, &token_hash(token), now)
        .await?
        .ok_or(Error::InvalidOneTimeToken)?;
    repo::mark_verified(&txn, user, now).await?;
    audit::insert(&txn, &AuditEntry::new("email.verified", now, client).by(user)).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn resend_verification(state: &AppState, user: Uuid) -> Result<(), Error> {
    let found = repo::by_id(&state.db, user).await?.ok_or(Error::NotFound("user"))?;
    if found.email_verified_at.is_some() {
        return Ok(());
    }
    let txn = state.db.begin().await?;
    send_verification(state, &txn, &found).await?;
    txn.commit().await?;
    state.outbox.wake();
    Ok(())
}

/// Changes the password and ends every other session of the user.
pub async fn change_password(
    state: &AppState,
    user: Uuid,
    session: Uuid,
    input: PasswordChangeIn,
    client: &ClientMeta,
) -> Result<u64, Error> {
    let found = repo::by_id(&state.db, user).await?.ok_or(Error::NotFound("user"))?;
    sessions::check_rate(state, client, None).await?;
    // Turned away by a full hashing pool before it counts as an attempt.
    let ticket = state.passwords.admit()?;
    sessions::take_password_attempt(state, &found.email).await?;
    if state.passwords.verify_admitted(ticket, &input.current_password, Some(&found.password_hash)).await?
        == Verified::No
    {
        audit::insert(&state.db, &AuditEntry::new("password.change_refused", state.clock.now(), client).by(user))
            .await?;
        return Err(Error::WrongCurrentPassword);
    }
    sessions::clear_password_attempts(state, &found.email).await?;
    let hash = state.passwords.hash(&input.new_password).await?;
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    repo::set_password_hash(&txn, user, &hash, now).await?;
    let revoked = sessions::revoke_all(&txn, user, Some(session), RevokeReason::PasswordChanged, now).await?;
    audit::insert(
        &txn,
        &AuditEntry::new("password.changed", now, client)
            .by(user)
            .session(session)
            .detail(serde_json::json!({"sessionsRevoked": revoked.len()})),
    )
    .await?;
    txn.commit().await?;
    sessions::announce(state, user, &revoked).await;
    Ok(revoked.len() as u64)
}

/// Sends a reset link if the account exists; the answer is the same either way.
pub async fn request_reset(state: &AppState, email: &str, client: &ClientMeta) -> Result<(), Error> {
    let email = Email::parse(email).map_err(|e| Error::field("email", e))?;
    sessions::check_rate(state, client, Some(&email)).await?;
    let now = state.clock.now();
    let Some(user) = repo::by_email(&state.db, &email).await? else {
        audit::insert(
            &state.db,
            &AuditEntry::new("password.reset_requested", now, client).detail(serde_json::json!({"known": false})),
        )
        .await?;
        return Ok(());
    };
    let token = random_token();
    let txn = state.db.begin().await?;
    repo::insert_token(
        &txn,
        user.id,
        Purpose::ResetPassword,
        token_hash(&token),
        now,
        now + Duration::minutes(RESET_TTL_MINUTES),
    )
    .await?;
    let body = format!(
        "Someone asked to reset the password of your Marquee account.\n\nIf it was you, open this link within {RESET_TTL_MINUTES} minutes:\n\n{}\n\nIf it was not, ignore this message; your password stays as it is.\n",
        link(state, "reset-password", &token)
    );
    Outbox::enqueue(&txn, now, &user.email, "Reset your Marquee password", body).await?;
    audit::insert(&txn, &AuditEntry::new("password.reset_requested", now, client).on(user.id)).await?;
    txn.commit().await?;
    state.outbox.wake();
    Ok(())
}

/// Sets a new password from a reset link and ends every session of the user.
pub async fn confirm_reset(state: &AppState, input: ResetConfirmIn, client: &ClientMeta) -> Result<(), Error> {
    sessions::check_rate(state, client, None).await?;
    let now = state.clock.now();
    // The token first: a made-up one never reaches the hashing threads, so a
    // flood of them cannot crowd out sign-ins.
    let digest = token_hash(&input.token);
    if repo::usable_token(&state.db, Purpose::ResetPassword, &digest, now).await?.is_none() {
        return Err(Error::InvalidOneTimeToken);
    }
    let hash = state.passwords.hash(&input.password).await?;
    let txn = state.db.begin().await?;
    let user =
        repo::consume_token(&txn, Purpose::ResetPassword, &digest, now).await?.ok_or(Error::InvalidOneTimeToken)?;
    repo::set_password_hash(&txn, user, &hash, now).await?;
    let revoked = sessions::revoke_all(&txn, user, None, RevokeReason::PasswordReset, now).await?;
    audit::insert(
        &txn,
        &AuditEntry::new("password.reset", now, client)
            .by(user)
            .detail(serde_json::json!({"sessionsRevoked": revoked.len()})),
    )
    .await?;
    txn.commit().await?;
    sessions::announce(state, user, &revoked).await;
    Ok(())
}

/// A platform admin disables an account: every session ends at once.
pub async fn disable(state: &AppState, admin: Uuid, user: Uuid, client: &ClientMeta) -> Result<(), Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    if !repo::set_status(&txn, user, Status::Disabled, now).await? {
        return Err(Error::NotFound("user"));
    }
    let revoked = sessions::revoke_all(&txn, user, None, RevokeReason::AdminDisabled, now).await?;
    audit::insert(
        &txn,
        &AuditEntry::new("user.disabled", now, client)
            .by(admin)
            .on(user)
            .detail(serde_json::json!({"sessionsRevoked": revoked.len()})),
    )
    .await?;
    txn.commit().await?;
    sessions::announce(state, user, &revoked).await;
    Ok(())
}

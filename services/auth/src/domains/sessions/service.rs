//! The rules of signing in and staying signed in.

use chrono::Duration;
use marquee_db::{BatchFailed, Batching, GroupCommit};
use marquee_guard::{ACCESS_TOKEN_TYPE, AccessClaims};
use marquee_kit::Clock;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use super::model::{LoginIn, RevokeReason, Session, SessionOut, TokenPair};
use super::repo;
use crate::client::ClientMeta;
use crate::crypto::{Verified, random_token, token_hash};
use crate::domains::audit::{AuditEntry, repo as audit};
use crate::domains::users::model::{Email, Status, User};
use crate::domains::users::repo as users;
use crate::error::Error;
use crate::events::AccessChange;
use crate::memo::Remembered;
use crate::state::AppState;

fn dur(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

/// Per-IP and per-account request limits on the auth endpoints.
pub async fn check_rate(state: &AppState, client: &ClientMeta, account: Option<&Email>) -> Result<(), Error> {
    let config = &state.config;
    if let Some(ip) = &client.ip {
        let hit = state.address_budgets.hit(&format!("auth:ip:{ip}"), config.ip_rate_limit, config.rate_window).await?;
        if hit.count > config.ip_rate_limit {
            return Err(Error::RateLimited { retry_after_secs: hit.retry_after_secs() });
        }
    }
    if let Some(email) = account {
        let hit = state.counters.hit(&format!("auth:account:{}", email.as_str()), config.rate_window).await?;
        if hit.count > config.account_rate_limit {
            return Err(Error::RateLimited { retry_after_secs: hit.retry_after_secs() });
        }
    }
    Ok(())
}

fn lockout_key(email: &str) -> String {
    format!("auth:lockout:{email}")
}

/// A password check outside sign-in (a password change) takes a slot in the
/// same lockout window as sign-ins, so a stolen session cannot guess the
/// password at leisure.
pub async fn take_password_attempt(state: &AppState, email: &str) -> Result<(), Error> {
    let attempt = state.counters.hit(&lockout_key(email), state.config.lockout_window).await?;
    if attempt.count > state.config.lockout_attempts {
        return Err(Error::LockedOut { retry_after_secs: attempt.retry_after_secs() });
    }
    Ok(())
}

/// After a correct password: the window starts over.
pub async fn clear_password_attempts(state: &AppState, email: &str) -> Result<(), Error> {
    Ok(state.counters.reset(&lockout_key(email)).await?)
}

/// Checks the password and opens a session. Every attempt first takes a slot
/// in the account's lockout window, atomically, so parallel guesses cannot get
/// more password checks than the limit.
pub async fn login(state: &AppState, input: LoginIn, client: &ClientMeta) -> Result<TokenPair, Error> {
    let email = input.email().map_err(|issue| Error::Invalid(vec![issue]))?;
    check_rate(state, client, Some(&email)).await?;
    // Turned away, if it must be, before it counts as an attempt.
    let ticket = state.passwords.admit()?;
    let now = state.clock.now();
    let attempt = state.counters.hit(&lockout_key(email.as_str()), state.config.lockout_window).await?;
    let user = users::by_email(&state.db, &email).await?;
    if attempt.count > state.config.lockout_attempts {
        if attempt.count == state.config.lockout_attempts + 1 {
            let mut entry =
                AuditEntry::new("login.locked", now, client).detail(serde_json::json!({"email": email.as_str()}));
            if let Some(u) = &user {
                entry = entry.on(u.id);
            }
            audit::insert(&state.db, &entry).await?;
        }
        return Err(Error::LockedOut { retry_after_secs: attempt.retry_after_secs() });
    }

    let stored = user.as_ref().map(|u| u.password_hash.as_str());
    let verified = state.passwords.verify_admitted(ticket, &input.password, stored).await?;
    let user = match (verified, user) {
        (Verified::No, user) => {
            let mut entry =
                AuditEntry::new("login.failure", now, client).detail(serde_json::json!({"email": email.as_str()}));
            if let Some(u) = &user {
                entry = entry.on(u.id);
            }
            audit::insert(&state.db, &entry).await?;
            return Err(Error::BadCredentials);
        }
        (Verified::Yes, Some(user)) => user,
        (Verified::YesRehashed(hash), Some(user)) => {
            users::set_password_hash(&state.db, user.id, &hash, now).await?;
            user
        }
        (Verified::Yes | Verified::YesRehashed(_), None) => return Err(Error::BadCredentials),
    };
    state.counters.reset(&lockout_key(email.as_str())).await?;
    if user.status == Status::Disabled {
        return Err(Error::AccountDisabled);
    }
    let session = Session {
        id: Uuid::now_v7(),
        user_id: user.id,
        created_at: now,
        last_seen_at: now,
        expires_at: now + dur(state.config.session_lifetime),
        revoked_at: None,
        user_agent: client.user_agent.clone(),
        ip: client.ip.clone(),
    };
    let txn = state.db.begin().await?;
    repo::insert(&txn, &session).await?;
    let pair = issue(state, &txn, &user, session.id).await?;
    audit::insert(&txn, &AuditEntry::new("login.success", now, client).by(user.id).session(session.id)).await?;
    txn.commit().await?;
    Ok(pair)
}

/// A new access token and a new refresh token for a session.
async fn issue(state: &AppState, db: &impl ConnectionTrait, user: &User, session: Uuid) -> Result<TokenPair, Error> {
    let (pair, hash) = new_pair(state, user.id, &user.base_role, session)?;
    repo::insert_refresh(db, session, hash, state.clock.now()).await?;
    Ok(pair)
}

/// A new pair for `user`'s session, and the hash its refresh token is
/// stored under.
fn new_pair(state: &AppState, user: Uuid, role: &str, session: Uuid) -> Result<(TokenPair, String), Error> {
    let refresh_token = random_token();
    let hash = token_hash(&refresh_token);
    let pair = TokenPair {
        access_token: sign_access(state, user, session, role, state.config.access_token_ttl)?,
        refresh_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.config.access_token_ttl.as_secs(),
    };
    Ok((pair, hash))
}

/// Signs an access token for `sub` in `sid`, valid for `ttl`.
pub fn sign_access(
    state: &AppState,
    sub: Uuid,
    sid: Uuid,
    role: &str,
    ttl: std::time::Duration,
) -> Result<String, Error> {
    let now = state.clock.now().timestamp();
    let ttl = i64::try_from(ttl.as_secs()).unwrap_or(900);
    let claims = AccessClaims {
        iss: state.config.tokens.issuer.clone(),
        aud: state.config.tokens.audience.clone(),
        sub,
        sid,
        jti: Uuid::now_v7(),
        iat: now,
        nbf: now,
        exp: now + ttl,
        typ: ACCESS_TOKEN_TYPE.to_owned(),
        role: role.to_owned(),
    };
    state
        .keys
        .sign(&claims)
        .map_err(|e| Error::Crypto(crate::crypto::CryptoError::Hash(format!("signing failed: {e}"))))
}

/// Rotates a refresh token. A token already rotated is either a retry within
/// the grace (answered with the very same pair) or a reuse, which ends the
/// whole session.
pub async fn refresh(state: &AppState, presented: &str, client: &ClientMeta) -> Result<TokenPair, Error> {
    check_rate(state, client, None).await?;
    let now = state.clock.now();
    // Read beside the writer (from the last commit): the rotation itself is
    // conditional, so a token rotated meanwhile is found out by the write.
    let presented_hash = token_hash(presented);
    let (token, session, holder) =
        repo::refresh_with_holder(&state.reads, &presented_hash).await?.ok_or(Error::InvalidRefreshToken)?;
    if token.rotated_at.is_some() {
        return retry_or_reuse(state, &token, &session, client).await;
    }
    if !session.is_live(now, state.config.session_idle_timeout) {
        return Err(Error::SessionEnded);
    }
    let holder = holder.ok_or(Error::SessionEnded)?;
    if holder.status == Status::Disabled {
        return Err(Error::AccountDisabled);
    }
    let (pair, hash) = new_pair(state, session.user_id, &holder.base_role, session.id)?;
    let sealed = state.config.sealer.seal(&serde_json::to_vec(&pair).unwrap_or_default());
    let grace = dur(state.config.refresh_retry_grace);
    let rotation = Rotation { token: token.id, session: session.id, hash, sealed, grace };
    let rotated = state.rotations.submit(rotation).await.unwrap_or_else(|| {
        Err(Error::Db(marquee_db::DbError::Unavailable("the rotation's group commit failed".to_owned())))
    })?;
    if !rotated {
        // A concurrent request rotated it first (answer as its retry), or the
        // session ended meanwhile.
        let (token, session, _) =
            repo::refresh_with_holder(&state.db, &presented_hash).await?.ok_or(Error::InvalidRefreshToken)?;
        if token.rotated_at.is_none() {
            return Err(Error::SessionEnded);
        }
        return retry_or_reuse(state, &token, &session, client).await;
    }
    Ok(pair)
}

/// A refresh token's rotation on its way to the group commit: the token
/// presented, its session, the new token's hash and the sealed pair a retry
/// within the grace is answered with.
pub struct Rotation {
    token: Uuid,
    session: Uuid,
    hash: String,
    sealed: String,
    /// How long after the commit a retry gets the same pair.
    grace: Duration,
}

/// The queue every rotation goes through (see [`marquee_db::GroupCommit`]):
/// answers whether this request rotated the token (false: another did first).
pub type Rotations = GroupCommit<Rotation, Result<bool, Error>>;

/// Rotations committed together at most.
const ROTATIONS_PER_COMMIT: usize = 64;

pub fn rotations(db: DatabaseConnection, clock: Clock) -> Rotations {
    GroupCommit::start("refresh_rotations", Batching::serial(ROTATIONS_PER_COMMIT, &db), move |jobs| {
        let (db, clock) = (db.clone(), clock.clone());
        async move { rotate(&db, &clock, jobs).await }
    })
}

/// Rotates the waiting tokens of live sessions in one transaction: one
/// statement rotates those not rotated yet and marks their sessions seen
/// (two on SQLite), one writes their successors.
async fn rotate(db: &DatabaseConnection, clock: &Clock, jobs: Vec<Rotation>) -> Vec<Result<bool, Error>> {
    let outcome = try_rotate(db, clock, &jobs).await.map(|rotated| rotated.into_iter().map(Ok).collect());
    marquee_db::settle("refresh_rotations", jobs, outcome, |job| async move {
        match try_rotate(db, clock, std::slice::from_ref(&job)).await {
            Ok(rotated) => Ok(rotated.first().copied().unwrap_or(false)),
            Err(BatchFailed::Refused(reason)) => Err(Error::Db(marquee_db::DbError::Unavailable(reason))),
            Err(BatchFailed::Conflict) => {
                Err(Error::Db(marquee_db::DbError::Conflict { constraint: "refresh_tokens".to_owned() }))
            }
        }
    })
    .await
}

async fn try_rotate(db: &DatabaseConnection, clock: &Clock, jobs: &[Rotation]) -> Result<Vec<bool>, BatchFailed> {
    let now = clock.now();
    let txn = marquee_db::begin_batch(db).await?;
    let tokens: Vec<repo::Rotating> = jobs
        .iter()
        .map(|j| repo::Rotating {
            id: j.token,
            session: j.session,
            sealed_pair: j.sealed.clone(),
            reissue_until: now + j.grace,
        })
        .collect();
    let mut rotated = repo::rotate_refreshes(&txn, &tokens, now).await?;
    // A token sent twice in one batch is rotated by the first of the two.
    let answers: Vec<bool> = jobs.iter().map(|j| rotated.remove(&j.token)).collect();
    let won: Vec<&Rotation> = jobs.iter().zip(&answers).filter(|(_, won)| **won).map(|(j, _)| j).collect();
    // Each successor has its session checked: not planned again for each.
    marquee_db::plan_as_usual(&txn).await?;
    let successors: Vec<(Uuid, String)> = won.iter().map(|j| (j.session, j.hash.clone())).collect();
    repo::insert_refreshes(&txn, &successors, now).await?;
    marquee_db::commit_batch("refresh_rotations", txn).await?;
    Ok(answers)
}

async fn retry_or_reuse(
    state: &AppState,
    token: &repo::RefreshToken,
    session: &Session,
    client: &ClientMeta,
) -> Result<TokenPair, Error> {
    let now = state.clock.now();
    let within_grace = token.reissue_until.is_some_and(|until| now < until);
    if within_grace
        && session.revoked_at.is_none()
        && let Some(pair) = token
            .reissue_sealed
            .as_deref()
            .and_then(|sealed| state.config.sealer.open(sealed).ok())
            .and_then(|plain| serde_json::from_slice::<TokenPair>(&plain).ok())
    {
        return Ok(pair);
    }
    let txn = state.db.begin().await?;
    if repo::revoke(&txn, session.id, session.user_id, RevokeReason::ReuseDetected, now).await? {
        let entry = AuditEntry::new("refresh.reuse_detected", now, client).on(session.user_id).session(session.id);
        audit::insert(&txn, &entry).await?;
        tracing::warn!(session_id = %session.id, user_id = %session.user_id, "refresh token reuse: session revoked");
    }
    txn.commit().await?;
    announce(state, session.user_id, &[session.id]).await;
    Err(Error::RefreshTokenReused)
}

/// Ends one session of `user`; false if it was not theirs or already ended.
pub async fn revoke(
    state: &AppState,
    user: Uuid,
    session: Uuid,
    reason: RevokeReason,
    actor: Option<Uuid>,
    client: &ClientMeta,
) -> Result<bool, Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let revoked = repo::revoke(&txn, session, user, reason, now).await?;
    if revoked {
        let entry = AuditEntry::new("session.revoked", now, client)
            .by(actor.unwrap_or(user))
            .on(user)
            .session(session)
            .detail(serde_json::json!({"reason": reason.as_str()}));
        audit::insert(&txn, &entry).await?;
    }
    txn.commit().await?;
    if revoked {
        announce(state, user, &[session]).await;
    }
    Ok(revoked)
}

/// Ends every session of `user` but `except`, inside the caller's transaction.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user: Uuid,
    except: Option<Uuid>,
    reason: RevokeReason,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Uuid>, Error> {
    let mut revoked = Vec::new();
    for session in repo::of_user(db, user, now).await? {
        if Some(session.id) != except && repo::revoke(db, session.id, user, reason, now).await? {
            revoked.push(session.id);
        }
    }
    Ok(revoked)
}

/// Whether the session behind a token still stands: from this replica's memo
/// when it is trusted and the remembered row is still live (a row that looks
/// idle is read again, since a refresh elsewhere may have used it), otherwise
/// from the database.
pub async fn is_live(state: &AppState, id: Uuid, user: Uuid) -> Result<bool, Error> {
    let now = state.clock.now();
    let idle = state.config.session_idle_timeout;
    let memo = state.events.memo();
    match memo.and_then(|m| m.session(id)) {
        Some(Remembered::Revoked) => return Ok(false),
        Some(Remembered::Seen(s)) if s.is_live(now, idle) => return Ok(s.user_id == user),
        _ => {}
    }
    let session = repo::by_id(&state.db, id).await?;
    if let (Some(memo), Some(s)) = (memo, &session) {
        memo.remember_session(s);
    }
    Ok(session.is_some_and(|s| s.user_id == user && s.is_live(now, idle)))
}

/// Tells watchers that sessions ended (after the commit that ended them),
/// and platform-core too when they were a platform operator's.
pub async fn announce(state: &AppState, user: Uuid, sessions: &[Uuid]) {
    for session in sessions {
        state.events.publish(AccessChange::session(user, *session)).await;
    }
    let operator = match users::by_id(&state.db, user).await {
        Ok(found) => found.is_some_and(|u| u.base_role == marquee_guard::PLATFORM_ADMIN_ROLE),
        // Unknown: tell platform-core anyway; a needless notice costs nothing.
        Err(_) => true,
    };
    if operator && !sessions.is_empty() {
        tell_platform_core(state, sessions);
    }
}

/// The notice only matters while the sessions' tokens are unexpired, so it is
/// retried, with backoff, for exactly that long.
fn tell_platform_core(state: &AppState, sessions: &[Uuid]) {
    let now = state.clock.now();
    let until = now + dur(state.config.access_token_ttl) + dur(state.config.tokens.leeway);
    let ended: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = sessions.iter().map(|s| (*s, until)).collect();
    let platform = state.platform.clone();
    let give_up = std::time::Instant::now() + state.config.access_token_ttl + state.config.tokens.leeway;
    tokio::spawn(async move {
        let mut backoff = std::time::Duration::from_millis(100);
        loop {
            match platform.end_sessions(&ended).await {
                Ok(()) => return,
                Err(e) if std::time::Instant::now() + backoff < give_up => {
                    tracing::warn!(error = %e, "platform-core not told of ended operator sessions yet; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(10));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "platform-core was never told of ended operator sessions");
                    return;
                }
            }
        }
    });
}

pub async fn list(state: &AppState, user: Uuid, current: Uuid) -> Result<Vec<SessionOut>, Error> {
    let now = state.clock.now();
    Ok(repo::of_user(&state.db, user, now)
        .await?
        .into_iter()
        .filter(|s| s.is_live(now, state.config.session_idle_timeout))
        .map(|s| SessionOut {
            current: s.id == current,
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect())
}

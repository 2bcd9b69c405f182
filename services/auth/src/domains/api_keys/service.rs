//! The rules of API keys: who may create and revoke them, what they may
//! hold, how one becomes an access token, and what a key's token may do.

use std::collections::BTreeSet;

use chrono::Duration;
use marquee_kit::PageParams;
use marquee_kit::tokens::{random_token, token_hash};
use sea_orm::TransactionTrait;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::API_KEY_ROLE;
use super::model::{
    ApiKey, ApiKeyOut, ClientToken, CreatedApiKey, MAX_LIFETIME_DAYS, MAX_LIVE_KEYS, NewApiKey, SECRET_PREFIX,
    TokenRequest, VISIBLE,
};
use super::repo;
use crate::client::ClientMeta;
use crate::domains::access::service::{Access, resolve as resolve_member};
use crate::domains::companies::model::TenantAuditEntry;
use crate::domains::companies::repo as tenancy;
use crate::domains::companies::service::{admin_grants, check_catalog};
use crate::domains::sessions::service::{check_rate, sign_access};
use crate::error::Error;
use crate::events::AccessChange;
use crate::state::AppState;

/// Creates a key holding `input.permissions`, each of which the creating
/// admin holds. The secret is in the answer and nowhere else.
pub async fn create(state: &AppState, company: Uuid, actor: Uuid, input: NewApiKey) -> Result<CreatedApiKey, Error> {
    let grants = admin_grants(state, &state.db, company, actor).await?;
    check_catalog(state, "permissions", &input.permissions).await?;
    if let Some(missing) = input.permissions.iter().find(|p| !grants.permissions.contains(*p)) {
        return Err(Error::Escalation(missing.clone()));
    }
    let now = state.clock.now();
    if let Some(at) = input.expires_at {
        if at <= now {
            return Err(Error::field("expiresAt", "must be in the future"));
        }
        if at > now + Duration::days(MAX_LIFETIME_DAYS) {
            return Err(Error::field("expiresAt", format!("at most {MAX_LIFETIME_DAYS} days ahead")));
        }
    }
    let secret = format!("{SECRET_PREFIX}{}", random_token());
    let key = ApiKey {
        id: Uuid::now_v7(),
        company_id: company,
        name: input.name.trim().to_owned(),
        prefix: secret[..VISIBLE].to_owned(),
        permissions: input.permissions,
        created_by: actor,
        created_at: now,
        expires_at: input.expires_at,
        last_used_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    let txn = state.db.begin().await?;
    // The company's row lock: two creations at once cannot both take the last place.
    tenancy::lock_company(&txn, company).await?;
    if repo::count_live(&txn, company, now).await? >= MAX_LIVE_KEYS {
        return Err(Error::TooManyKeys(MAX_LIVE_KEYS));
    }
    repo::insert(&txn, &key, token_hash(&secret)).await?;
    let after =
        json!({"name": key.name, "prefix": key.prefix, "permissions": key.permissions, "expiresAt": key.expires_at});
    audit(&txn, company, actor, "api_key.created", key.id, Value::Null, after, now).await?;
    txn.commit().await?;
    Ok(CreatedApiKey { key: key.view(now), secret })
}

#[allow(clippy::too_many_arguments)]
async fn audit(
    db: &impl sea_orm::ConnectionTrait,
    company: Uuid,
    actor: Uuid,
    action: &str,
    key: Uuid,
    before: Value,
    after: Value,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let entry = TenantAuditEntry {
        id: Uuid::now_v7(),
        at,
        actor_user_id: actor,
        action: action.to_owned(),
        target: format!("api_key:{key}"),
        before,
        after,
    };
    Ok(tenancy::insert_audit(db, company, &entry).await?)
}

pub async fn list(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    page: &PageParams,
) -> Result<(Vec<ApiKeyOut>, u64), Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let (keys, total) = repo::list(&state.db, company, page.offset(), page.limit()).await?;
    let now = state.clock.now();
    Ok((keys.iter().map(|k| k.view(now)).collect(), total))
}

pub async fn get(state: &AppState, company: Uuid, actor: Uuid, id: Uuid) -> Result<ApiKeyOut, Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let key = repo::of_company(&state.db, company, id).await?.ok_or(Error::NotFound("API key"))?;
    Ok(key.view(state.clock.now()))
}

/// Revokes a key: its tokens are refused from the next request on, at every
/// replica of every service (the notice of an ended session). Revoking a
/// revoked key changes nothing and answers the same.
pub async fn revoke(state: &AppState, company: Uuid, actor: Uuid, id: Uuid) -> Result<ApiKeyOut, Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let revoked = repo::revoke(&txn, company, id, actor, now).await?;
    if revoked {
        audit(&txn, company, actor, "api_key.revoked", id, Value::Null, json!({"revokedAt": now}), now).await?;
    }
    txn.commit().await?;
    let key = repo::of_company(&state.db, company, id).await?.ok_or(Error::NotFound("API key"))?;
    if revoked {
        state.events.publish(AccessChange::session(id, id)).await;
    }
    Ok(key.view(now))
}

/// The client-credentials grant: a key's id and secret for an access token.
/// Every way to be wrong (unknown id, wrong secret, revoked, expired) gets
/// the same answer, so the grant tells a stranger nothing.
pub async fn grant(state: &AppState, request: TokenRequest, client: &ClientMeta) -> Result<ClientToken, Error> {
    check_rate(state, client, None).await?;
    let id = Uuid::parse_str(request.client_id.trim()).map_err(|_| Error::InvalidClient)?;
    // Per key and client address: a stranger who knows a key's id (it is no
    // secret) cannot use up the integration's own grants.
    let from = client.ip.as_deref().unwrap_or("unknown");
    let hit = state.counters.hit(&format!("auth:key:{id}:{from}"), state.config.rate_window).await?;
    if hit.count > state.config.key_rate_limit {
        return Err(Error::RateLimited { retry_after_secs: hit.retry_after_secs() });
    }
    let (key, stored) = repo::by_id(&state.reads, id).await?.ok_or(Error::InvalidClient)?;
    let presented = token_hash(&request.client_secret);
    let now = state.clock.now();
    if !bool::from(presented.as_bytes().ct_eq(stored.as_bytes())) || !key.usable(now) {
        return Err(Error::InvalidClient);
    }
    let mut ttl = state.config.key_token_ttl;
    if let Some(left) = key.expires_at.and_then(|at| (at - now).to_std().ok()) {
        ttl = ttl.min(left);
    }
    let access_token = sign_access(state, key.id, key.id, API_KEY_ROLE, ttl)?;
    repo::touch(&state.db, key.id, now).await?;
    Ok(ClientToken {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: ttl.as_secs(),
        company_id: key.company_id,
        permissions: key.permissions.into_iter().collect(),
    })
}

/// The key behind a key's token, if it still works.
pub async fn live_key(state: &AppState, id: Uuid) -> Result<Option<ApiKey>, Error> {
    let now = state.clock.now();
    let Some((key, _)) = repo::by_id(&state.reads, id).await? else {
        return Ok(None);
    };
    if !key.usable(now) {
        return Ok(None);
    }
    if key.last_used_at.is_none_or(|at| now - at >= Duration::minutes(1)) {
        repo::touch(&state.db, key.id, now).await?;
    }
    Ok(Some(key))
}

/// What a key may do in `company`: what its creator may do there now,
/// narrowed to the key's permissions. A key acts only in its own company,
/// and not at all once its creator is no longer an active member.
pub async fn resolve(state: &AppState, company: Uuid, key: &ApiKey, min_revision: u64) -> Result<Access, Error> {
    let mut access = resolve_member(state, company, key.created_by, min_revision).await?;
    access.user_id = key.id;
    access.roles = Vec::new();
    if key.company_id != company {
        access.membership = "none";
    }
    if access.membership != "active" {
        access.modules = BTreeSet::new();
        access.permissions = BTreeSet::new();
        access.limits = Default::default();
        access.cache_ttl_ms = 0;
        return Ok(access);
    }
    access.permissions.retain(|p| key.permissions.contains(p));
    if let Some(at) = key.expires_at {
        let left = (at - state.clock.now()).num_milliseconds().max(0);
        access.cache_ttl_ms = access.cache_ttl_ms.min(u32::try_from(left).unwrap_or(u32::MAX));
    }
    Ok(access)
}

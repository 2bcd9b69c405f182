//! The rules of webhook endpoints: where they may point, what they hear,
//! their secrets and their rotation, and the delivery log.

use chrono::Duration;
use marquee_guard::AccessContext;
use marquee_kit::PageParams;
use marquee_webhooks::Secret;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::model::{
    Delivery, EVENT_TYPES, Endpoint, EndpointCreated, EndpointEdit, EndpointIn, EndpointOut, EventType, MAX_ENDPOINTS,
    RotateIn, SecretOut, permission_to_hear,
};
use super::repo;
use crate::error::Error;
use crate::state::AppState;

pub fn event_types() -> Vec<EventType> {
    EVENT_TYPES
        .iter()
        .map(|(name, description)| EventType { name: (*name).into(), description: (*description).into() })
        .collect()
}

/// A URL receivers may be given: its host must resolve to permitted addresses.
async fn check_destination(state: &AppState, url: &str) -> Result<String, Error> {
    let url = state.webhooks.sender.check_destination(url).await.map_err(|why| Error::field("url", why))?;
    Ok(url.to_string())
}

/// The caller may hear every type named.
fn check_may_hear(ctx: &AccessContext, types: &[String]) -> Result<(), Error> {
    for t in types {
        if let Some(permission) = permission_to_hear(t)
            && !ctx.can(permission)
        {
            return Err(Error::NotAllowedToHear(format!("subscribing to {t} needs the {permission} permission")));
        }
    }
    Ok(())
}

fn deduplicated(mut types: Vec<String>) -> Vec<String> {
    types.sort();
    types.dedup();
    types
}

pub async fn create(state: &AppState, ctx: &AccessContext, input: EndpointIn) -> Result<EndpointCreated, Error> {
    check_may_hear(ctx, &input.event_types)?;
    let url = check_destination(state, &input.url).await?;
    let now = state.clock.now();
    let endpoint = Endpoint {
        id: Uuid::now_v7(),
        company_id: ctx.company_id,
        url,
        description: input.description.trim().to_owned(),
        event_types: deduplicated(input.event_types),
        enabled: input.enabled.unwrap_or(true),
        disabled_reason: None,
        secret: Secret::generate(),
        previous: None,
        version: 1,
        created_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    // Under the company's lock: creations at once cannot pass the limit together.
    crate::domains::events::repo::lock_company(&txn, ctx.company_id).await?;
    if repo::count_endpoints(&txn, ctx.company_id).await? >= MAX_ENDPOINTS {
        return Err(Error::EndpointLimit(format!("a company keeps at most {MAX_ENDPOINTS} webhook endpoints")));
    }
    repo::insert_endpoint(&txn, &state.webhooks.sealer, &endpoint).await?;
    txn.commit().await?;
    Ok(EndpointCreated { endpoint: endpoint.view(now), secret: endpoint.secret.to_text() })
}

pub async fn list(state: &AppState, ctx: &AccessContext, page: &PageParams) -> Result<(Vec<EndpointOut>, u64), Error> {
    let (endpoints, total) =
        repo::endpoints(&state.db, &state.webhooks.sealer, ctx.company_id, page.offset(), page.limit()).await?;
    let now = state.clock.now();
    Ok((endpoints.iter().map(|e| e.view(now)).collect(), total))
}

async fn find(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Endpoint, Error> {
    repo::endpoint(&state.db, &state.webhooks.sealer, ctx.company_id, id)
        .await?
        .ok_or(Error::NotFound("webhook endpoint"))
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<EndpointOut, Error> {
    Ok(find(state, ctx, id).await?.view(state.clock.now()))
}

/// Writes a changed endpoint over the version it was read at.
async fn write(state: &AppState, before: &Endpoint, mut after: Endpoint) -> Result<Endpoint, Error> {
    after.version = before.version + 1;
    after.updated_at = state.clock.now();
    if !repo::update_endpoint(&state.db, &state.webhooks.sealer, &after).await? {
        return Err(Error::ChangedMeanwhile("webhook endpoint"));
    }
    Ok(after)
}

pub async fn update(
    state: &AppState,
    ctx: &AccessContext,
    id: Uuid,
    expected: Option<u64>,
    edit: EndpointEdit,
) -> Result<EndpointOut, Error> {
    let before = find(state, ctx, id).await?;
    if expected.is_some_and(|v| v != before.version) {
        return Err(Error::VersionMismatch { current: Some(before.version) });
    }
    let mut after = before.clone();
    if let Some(url) = edit.url {
        after.url = check_destination(state, &url).await?;
    }
    if let Some(types) = edit.event_types {
        check_may_hear(ctx, &types)?;
        after.event_types = deduplicated(types);
    }
    if let Some(description) = edit.description {
        after.description = description.trim().to_owned();
    }
    if let Some(enabled) = edit.enabled {
        after.enabled = enabled;
        if enabled {
            after.disabled_reason = None;
        }
    }
    Ok(write(state, &before, after).await?.view(state.clock.now()))
}

pub async fn delete(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let txn = state.db.begin().await?;
    if !repo::delete_endpoint(&txn, ctx.company_id, id, state.clock.now()).await? {
        return Err(Error::NotFound("webhook endpoint"));
    }
    txn.commit().await?;
    Ok(())
}

pub async fn secret(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<SecretOut, Error> {
    let endpoint = find(state, ctx, id).await?;
    let view = endpoint.view(state.clock.now());
    Ok(SecretOut { secret: endpoint.secret.to_text(), previous_secret_until: view.previous_secret_until })
}

/// A new secret; the old one keeps signing beside it for the overlap, so a
/// receiver can switch without missing a message.
pub async fn rotate(state: &AppState, ctx: &AccessContext, id: Uuid, input: RotateIn) -> Result<SecretOut, Error> {
    let before = find(state, ctx, id).await?;
    let now = state.clock.now();
    let overlap = Duration::hours(i64::from(input.overlap_hours.unwrap_or(24)));
    let mut after = before.clone();
    after.secret = Secret::generate();
    after.previous = (overlap > Duration::zero()).then(|| (before.secret.clone(), now + overlap));
    let after = write(state, &before, after).await?;
    let view = after.view(now);
    Ok(SecretOut { secret: after.secret.to_text(), previous_secret_until: view.previous_secret_until })
}

pub async fn deliveries(
    state: &AppState,
    ctx: &AccessContext,
    endpoint: Uuid,
    page: &PageParams,
) -> Result<(Vec<Delivery>, u64), Error> {
    find(state, ctx, endpoint).await?;
    Ok(repo::deliveries(&state.db, ctx.company_id, endpoint, page.offset(), page.limit()).await?)
}

/// Sends a delivery again now, whatever became of it.
pub async fn redeliver(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Delivery, Error> {
    let delivery = repo::delivery(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("webhook delivery"))?;
    let endpoint = find(state, ctx, delivery.endpoint_id).await?;
    if !endpoint.enabled {
        return Err(Error::EndpointDisabled("enable the endpoint before redelivering to it".to_owned()));
    }
    if !repo::redeliver(&state.db, ctx.company_id, id, state.clock.now()).await? {
        // Forgotten meanwhile, or held by an attempt.
        repo::delivery(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("webhook delivery"))?;
        return Err(Error::DeliveryInFlight(
            "an attempt is on its way to the receiver; redeliver once it has ended".to_owned(),
        ));
    }
    repo::delivery(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("webhook delivery"))
}

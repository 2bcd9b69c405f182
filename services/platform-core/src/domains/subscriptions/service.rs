//! The rules of subscriptions: validated transitions, versions kept until a
//! company is moved, a recorded history, a revision per change, and a change
//! notice to every watcher once the change is committed.

use chrono::Duration;
use marquee_kit::{FieldIssue, PageParams};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::entitlements::Entitlements;
use super::model::{SetSubscription, Status, Subscription, SubscriptionChange, Transition};
use super::repo::{self, Record};
use crate::domains::plans::{self, Plan, PlanKind};
use crate::error::Error;
use crate::state::AppState;

/// Length of a billing period when none is given.
const DEFAULT_PERIOD_DAYS: i64 = 30;

async fn hydrate(state: &AppState, record: Record) -> Result<Subscription, Error> {
    let mut ids = vec![record.package_id];
    ids.extend(&record.addon_ids);
    let plans = plans::service::by_ids(state, &ids).await?;
    let plan = |id: &Uuid| plans.iter().find(|p| p.id == *id).cloned();
    let package = plan(&record.package_id).ok_or(Error::NotFound("package of the subscription"))?;
    let addons = record.addon_ids.iter().filter_map(plan).collect();
    Ok(Subscription {
        company_id: record.company_id,
        status: record.status,
        package,
        addons,
        current_period_start: record.current_period_start,
        current_period_end: record.current_period_end,
        trial_ends_at: record.trial_ends_at,
        past_due_since: record.past_due_since,
        grace_days: record.grace_days,
        revision: record.revision,
        created_at: record.created_at,
        updated_at: record.updated_at,
        updated_by: record.updated_by,
    })
}

pub async fn get(state: &AppState, company_id: Uuid) -> Result<Option<Subscription>, Error> {
    match repo::find(&state.reads, company_id).await? {
        Some(record) => Ok(Some(hydrate(state, record).await?)),
        None => Ok(None),
    }
}

pub async fn entitlements(state: &AppState, company_id: Uuid) -> Result<Entitlements, Error> {
    Ok(match get(state, company_id).await? {
        Some(subscription) => {
            Entitlements::of(&subscription, |p| state.catalog.module_of(p).map(str::to_owned), state.clock.now())
        }
        None => Entitlements::none(company_id),
    })
}

async fn resolve_package(
    state: &AppState,
    current: Option<&Subscription>,
    code: &str,
    version: Option<u32>,
) -> Result<Plan, Error> {
    if let (Some(current), None) = (current, version)
        && current.package.code == code
    {
        return Ok(current.package.clone());
    }
    plans::service::get(state, PlanKind::Package, code, version).await.map_err(|e| match (e, version) {
        (Error::NotFound(_), Some(v)) => Error::field("packageVersion", format!("package {code} has no version {v}")),
        (Error::NotFound(_), None) => Error::field("packageCode", format!("no package {code}")),
        (other, _) => other,
    })
}

async fn resolve_addons(
    state: &AppState,
    current: Option<&Subscription>,
    codes: &[String],
) -> Result<Vec<Plan>, Error> {
    let mut addons: Vec<Plan> = Vec::new();
    let mut issues = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        if addons.iter().any(|a| &a.code == code) {
            continue;
        }
        let kept = current.and_then(|c| c.addons.iter().find(|a| &a.code == code));
        match kept {
            Some(addon) => addons.push(addon.clone()),
            None => match plans::service::get(state, PlanKind::Addon, code, None).await {
                Ok(addon) => addons.push(addon),
                Err(Error::NotFound(_)) => {
                    issues.push(FieldIssue::new(format!("addonCodes[{i}]"), format!("no add-on {code}")))
                }
                Err(other) => return Err(other),
            },
        }
    }
    if issues.is_empty() { Ok(addons) } else { Err(Error::Invalid(issues)) }
}

/// Applies an operator's change to a company's subscription.
pub async fn set(
    state: &AppState,
    company_id: Uuid,
    change: SetSubscription,
    actor: String,
) -> Result<Subscription, Error> {
    let now = state.clock.now();
    let current = get(state, company_id).await?;
    let from = current.as_ref().map(|c| c.status);
    match Status::transition(from, change.status) {
        Transition::Allowed => {}
        Transition::Refused => {
            return Err(Error::InvalidTransition(match from {
                Some(from) => format!("a subscription cannot go from {} to {}", from.as_str(), change.status.as_str()),
                None => format!("a new subscription starts as trialing or active, not {}", change.status.as_str()),
            }));
        }
        Transition::NeedsNewPeriod => {
            let old_end = current.as_ref().map(|c| c.current_period_end);
            let new_period = matches!(
                (change.current_period_start, change.current_period_end),
                (Some(_), Some(end)) if end > now && old_end.is_none_or(|old| end > old)
            );
            if !new_period {
                return Err(Error::InvalidTransition(format!(
                    "going from {} to {} needs a new period: currentPeriodStart and a currentPeriodEnd in the future",
                    from.map(Status::as_str).unwrap_or_default(),
                    change.status.as_str()
                )));
            }
        }
    }

    let package = resolve_package(state, current.as_ref(), &change.package_code, change.package_version).await?;
    let addons = resolve_addons(state, current.as_ref(), &change.addon_codes).await?;

    let start = change.current_period_start.or(current.as_ref().map(|c| c.current_period_start)).unwrap_or(now);
    let end = change
        .current_period_end
        .or(current.as_ref().map(|c| c.current_period_end).filter(|end| *end > start))
        .unwrap_or(start + Duration::days(DEFAULT_PERIOD_DAYS));
    if end <= start {
        return Err(Error::field("currentPeriodEnd", "must be after currentPeriodStart"));
    }
    let trial_ends_at = match change.status {
        Status::Trialing => Some(
            change
                .trial_ends_at
                .or(current.as_ref().filter(|c| c.status == Status::Trialing).and_then(|c| c.trial_ends_at))
                .unwrap_or(now + Duration::days(i64::from(state.config.trial_days))),
        ),
        _ => change.trial_ends_at.or(current.as_ref().and_then(|c| c.trial_ends_at)),
    };
    let past_due_since = match (change.status, current.as_ref()) {
        (Status::PastDue, Some(c)) if c.status == Status::PastDue => c.past_due_since,
        (Status::PastDue, _) => Some(now),
        _ => None,
    };
    let record = Record {
        company_id,
        status: change.status,
        package_id: package.id,
        addon_ids: addons.iter().map(|a| a.id).collect(),
        current_period_start: start,
        current_period_end: end,
        trial_ends_at,
        past_due_since,
        grace_days: change.grace_days.or(current.as_ref().map(|c| c.grace_days)).unwrap_or(state.config.grace_days),
        revision: current.as_ref().map_or(1, |c| c.revision + 1),
        created_at: current.as_ref().map_or(now, |c| c.created_at),
        updated_at: now,
        updated_by: actor,
    };
    save(state, record, from, current.as_ref().map(|c| c.revision), change.note).await
}

/// Starts the default package as `trialing` unless the company already has a
/// subscription; either way answers the company's subscription.
pub async fn ensure_default(state: &AppState, company_id: Uuid, actor: String) -> Result<Subscription, Error> {
    if let Some(existing) = get(state, company_id).await? {
        return Ok(existing);
    }
    let code = &state.config.default_package;
    let package = plans::service::get(state, PlanKind::Package, code, None).await.map_err(|e| match e {
        Error::NotFound(_) => Error::DefaultPackageMissing(code.clone()),
        other => other,
    })?;
    let now = state.clock.now();
    let trial_end = now + Duration::days(i64::from(state.config.trial_days));
    let record = Record {
        company_id,
        status: Status::Trialing,
        package_id: package.id,
        addon_ids: Vec::new(),
        current_period_start: now,
        current_period_end: trial_end.max(now + Duration::days(1)),
        trial_ends_at: Some(trial_end),
        past_due_since: None,
        grace_days: state.config.grace_days,
        revision: 1,
        created_at: now,
        updated_at: now,
        updated_by: actor,
    };
    match save(state, record, None, None, Some("default subscription for a new company".to_owned())).await {
        // Two callers raced; the other one created it.
        Err(Error::ConcurrentChange) => get(state, company_id).await?.ok_or(Error::ConcurrentChange),
        other => other,
    }
}

async fn save(
    state: &AppState,
    record: Record,
    from: Option<Status>,
    expected: Option<u64>,
    note: Option<String>,
) -> Result<Subscription, Error> {
    let change = SubscriptionChange {
        id: Uuid::now_v7(),
        company_id: record.company_id,
        revision: record.revision,
        from_status: from,
        to_status: record.status,
        package_id: record.package_id,
        addon_ids: record.addon_ids.clone(),
        actor: record.updated_by.clone(),
        note,
        at: record.updated_at,
    };
    let txn = state.db.begin().await?;
    let written = match expected {
        Some(revision) => repo::update_if_revision(&txn, &record, revision).await?,
        None => match repo::insert(&txn, &record).await.map_err(Error::from) {
            Ok(()) => true,
            Err(Error::Db(marquee_db::DbError::Conflict { .. })) => false,
            Err(other) => return Err(other),
        },
    };
    if !written {
        return Err(Error::ConcurrentChange);
    }
    repo::insert_change(&txn, &change).await?;
    txn.commit().await?;
    announce(state, record.company_id, record.revision).await;
    hydrate(state, record).await
}

/// Tells every watcher (on every replica) that a company's entitlements changed.
async fn announce(state: &AppState, company_id: Uuid, revision: u64) {
    let notice = serde_json::json!({"companyId": company_id, "revision": revision}).to_string();
    if let Err(e) = state.bus.publish(notice).await {
        // Watchers on other replicas miss it; their caches are capped by a hard TTL.
        tracing::warn!(error = %e, %company_id, revision, "entitlement change not fanned out");
    }
}

pub async fn history(
    state: &AppState,
    company_id: Uuid,
    page: PageParams,
) -> Result<(Vec<SubscriptionChange>, u64), Error> {
    Ok(repo::changes(&state.reads, company_id, page.offset(), page.limit()).await?)
}

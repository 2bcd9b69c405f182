//! The rules of packages and add-ons: codes are unique per kind, contents
//! must name catalog modules and permissions, and a change is a new version.

use std::collections::BTreeSet;

use marquee_kit::{FieldIssue, PageParams};
use uuid::Uuid;

use super::model::{NewPlan, Plan, PlanContents, PlanKind};
use super::repo;
use crate::error::Error;
use crate::state::AppState;

/// Checks contents against the catalog and fills in the permissions.
fn resolve(state: &AppState, kind: PlanKind, contents: &PlanContents) -> Result<BTreeSet<String>, Error> {
    let catalog = &state.catalog;
    let mut issues = Vec::new();
    if kind == PlanKind::Package && contents.modules.is_empty() {
        issues.push(FieldIssue::new("modules", "a package enables at least one module"));
    }
    for module in &contents.modules {
        if !catalog.has_module(module) {
            issues.push(FieldIssue::new("modules", format!("{module} is not a module in the catalog")));
        }
    }
    let permissions = match &contents.permissions {
        None => catalog.permissions_of(&contents.modules).map(str::to_owned).collect(),
        Some(listed) => {
            for permission in listed {
                match catalog.module_of(permission) {
                    None => issues.push(FieldIssue::new(
                        "permissions",
                        format!("{permission} is not a permission in the catalog"),
                    )),
                    // A package's permissions come from its own modules; an add-on
                    // may add permissions of modules the package enables.
                    Some(module) if kind == PlanKind::Package && !contents.modules.contains(module) => {
                        issues.push(FieldIssue::new(
                            "permissions",
                            format!("{permission} belongs to module {module}, which the package does not enable"),
                        ))
                    }
                    Some(_) => {}
                }
            }
            listed.clone()
        }
    };
    if kind == PlanKind::Addon && contents.modules.is_empty() && permissions.is_empty() && contents.limits.is_empty() {
        issues.push(FieldIssue::new("modules", "an add-on adds at least a module, a permission or a limit"));
    }
    if issues.is_empty() { Ok(permissions) } else { Err(Error::Invalid(issues)) }
}

fn build(
    state: &AppState,
    kind: PlanKind,
    code: String,
    version: u32,
    contents: PlanContents,
    actor: Uuid,
) -> Result<Plan, Error> {
    let permissions = resolve(state, kind, &contents)?;
    Ok(Plan {
        id: Uuid::now_v7(),
        kind: Some(kind),
        code,
        version,
        name: contents.name.trim().to_owned(),
        description: contents.description,
        modules: contents.modules,
        permissions,
        limits: contents.limits,
        created_by: Some(actor),
        created_at: state.clock.now(),
    })
}

pub async fn create(state: &AppState, kind: PlanKind, new: NewPlan, actor: Uuid) -> Result<Plan, Error> {
    let (code, contents) = new.split();
    let plan = build(state, kind, code, 1, contents, actor)?;
    if !repo::versions(&state.db, kind, &plan.code).await?.is_empty() {
        return Err(Error::PlanExists { kind: kind.noun(), code: plan.code });
    }
    match repo::insert(&state.db, &plan, kind).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => {
            Err(Error::PlanExists { kind: kind.noun(), code: plan.code })
        }
        other => other.map(|()| plan),
    }
}

/// A new version with the given contents; earlier versions stay as they are.
pub async fn revise(
    state: &AppState,
    kind: PlanKind,
    code: &str,
    contents: PlanContents,
    actor: Uuid,
) -> Result<Plan, Error> {
    let latest = repo::versions(&state.db, kind, code).await?.into_iter().next().ok_or(Error::NotFound(kind.noun()))?;
    let plan = build(state, kind, latest.code, latest.version + 1, contents, actor)?;
    match repo::insert(&state.db, &plan, kind).await.map_err(Error::from) {
        // Two revisions raced for the same version number.
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => Err(Error::ConcurrentChange),
        other => other.map(|()| plan),
    }
}

/// The latest version of each code, a page at a time.
pub async fn list_latest(state: &AppState, kind: PlanKind, page: PageParams) -> Result<(Vec<Plan>, u64), Error> {
    let mut latest: Vec<Plan> = Vec::new();
    for plan in repo::all(&state.reads, kind).await? {
        if latest.last().is_none_or(|l| l.code != plan.code) {
            latest.push(plan);
        }
    }
    let total = latest.len() as u64;
    let items = latest
        .into_iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit()).unwrap_or(usize::MAX))
        .collect();
    Ok((items, total))
}

/// Every version of a code, newest first.
pub async fn versions(state: &AppState, kind: PlanKind, code: &str) -> Result<Vec<Plan>, Error> {
    let versions = repo::versions(&state.reads, kind, code).await?;
    if versions.is_empty() {
        return Err(Error::NotFound(kind.noun()));
    }
    Ok(versions)
}

/// The plan versions with these ids, from memory where already read.
pub async fn by_ids(state: &AppState, ids: &[Uuid]) -> Result<Vec<Plan>, Error> {
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for id in ids {
        match state.plans.get(id) {
            Some(plan) => found.push(plan),
            None => missing.push(*id),
        }
    }
    if !missing.is_empty() {
        for plan in repo::by_ids(&state.reads, &missing).await? {
            state.plans.insert(plan.id, plan.clone());
            found.push(plan);
        }
    }
    Ok(found)
}

/// One version, or the latest when none is named.
pub async fn get(state: &AppState, kind: PlanKind, code: &str, version: Option<u32>) -> Result<Plan, Error> {
    versions(state, kind, code)
        .await?
        .into_iter()
        .find(|p| version.is_none_or(|v| p.version == v))
        .ok_or(Error::NotFound(kind.noun()))
}

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use crate::domains::companies::model::{ADMIN, MemberStatus, Membership, OWNER, pattern_matches};
use crate::domains::companies::repo;
use crate::error::Error;
use crate::events::{AccessChange, ChangeKind};
use crate::platform::{Catalog, Entitlements};
use crate::state::AppState;

/// What a member holds in a company before entitlements are applied.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    pub membership: Option<Membership>,
    /// (role id, role name, its patterns)
    pub roles: Vec<(Uuid, String, Vec<String>)>,
    pub direct: BTreeSet<String>,
    /// Every catalog permission the roles and direct grants cover.
    pub permissions: BTreeSet<String>,
}

impl Grants {
    pub fn has_role(&self, name: &str) -> bool {
        self.roles.iter().any(|(_, n, _)| n == name)
    }
    pub fn is_owner(&self) -> bool {
        self.active() && self.has_role(OWNER)
    }
    pub fn is_admin(&self) -> bool {
        self.active() && (self.has_role(OWNER) || self.has_role(ADMIN))
    }
    pub fn active(&self) -> bool {
        self.membership.as_ref().is_some_and(|m| m.status == MemberStatus::Active)
    }
}

/// Expands permission patterns over the catalog.
pub fn expand<'a>(
    catalog: &'a BTreeMap<String, String>,
    patterns: impl IntoIterator<Item = &'a String> + Clone,
) -> BTreeSet<String> {
    catalog.keys().filter(|perm| patterns.clone().into_iter().any(|p| pattern_matches(p, perm))).cloned().collect()
}

/// A member's grants, read from the database in one statement.
pub async fn grants(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    company: Uuid,
    user: Uuid,
) -> Result<Grants, Error> {
    let standing = repo::standing(db, company, user).await?;
    Ok(grants_of(state, standing.unwrap_or_default()).await?.1)
}

/// The grants a [`repo::Standing`] gives, and the revision it was read at.
async fn grants_of(state: &AppState, standing: repo::Standing) -> Result<(u64, Grants), Error> {
    let repo::Standing { revision, membership, roles, direct, .. } = standing;
    let Some(membership) = membership else {
        return Ok((revision, Grants::default()));
    };
    let roles: Vec<_> = roles.into_iter().map(|r| (r.id, r.name, r.permissions)).collect();
    let catalog = state.platform.catalog().await?;
    let patterns: Vec<String> =
        roles.iter().flat_map(|(_, _, p)| p.iter().cloned()).chain(direct.iter().cloned()).collect();
    let permissions = expand(&catalog, &patterns);
    Ok((revision, Grants { membership: Some(membership), roles, direct, permissions }))
}

/// A member's grants at `revision`: from the cache, else from `read` (a
/// first visit's, read with the revision) or the database. Grants read
/// after the revision was are as new as it or newer.
async fn cached_grants(
    state: &AppState,
    company: Uuid,
    user: Uuid,
    revision: u64,
    read: Option<Grants>,
) -> Result<Arc<Grants>, Error> {
    let key = (company, user, revision);
    if let Some(hit) = state.grants_cache.grants.get(&key).await {
        return Ok(hit);
    }
    let fresh = Arc::new(match read {
        Some(read) => read,
        None => grants(state, &state.reads, company, user).await?,
    });
    state.grants_cache.grants.insert(key, fresh.clone()).await;
    Ok(fresh)
}

/// The answer to "what may this user do in this company".
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Access {
    pub company_id: Uuid,
    pub user_id: Uuid,
    pub membership: &'static str,
    pub roles: Vec<String>,
    pub modules: BTreeSet<String>,
    pub permissions: BTreeSet<String>,
    pub limits: BTreeMap<String, i64>,
    pub revision: u64,
    #[serde(skip)]
    pub cache_ttl_ms: u32,
}

/// The company's revision: remembered while notices flow (every change
/// announces its revision), read from the database when `fresh` or unknown.
async fn revision(state: &AppState, company: Uuid, fresh: bool) -> Result<Option<u64>, Error> {
    let memo = state.events.memo();
    if !fresh && let Some(known) = memo.and_then(|m| m.revision(company)) {
        return Ok(Some(known));
    }
    let stored = repo::revision(&state.reads, company).await?;
    if let (Some(memo), Some(stored)) = (memo, stored) {
        memo.remember_revision(company, stored);
    }
    Ok(stored)
}

/// An entitlement change heard from platform-core (after the cached
/// entitlements were dropped): the company's one access revision rises once
/// for it, and every watcher hears of it with that revision.
pub async fn entitlements_changed(state: &AppState, company: Uuid, entitlements_revision: u64) {
    let revision = match repo::raise_for_entitlements(&state.db, company, entitlements_revision).await {
        Ok(raised) => raised.unwrap_or(0),
        Err(e) => {
            tracing::warn!(error = %e, %company, "the access revision could not be raised for an entitlement change");
            0
        }
    };
    state.events.publish(AccessChange::company(ChangeKind::EntitlementsChanged, company, revision)).await;
}

/// Effective access = entitlements ∩ grants, at the company's one revision
/// (raised by every grant and every entitlement change). Never answers from
/// anything older than `min_revision`; a revision the company has never
/// reached is refused; fails (never guesses) when platform-core cannot say.
pub async fn resolve(state: &AppState, company: Uuid, user: Uuid, min_revision: u64) -> Result<Access, Error> {
    let memo = state.events.memo();
    let known = memo.and_then(|m| m.revision(company));
    let (mut revision, fresh, mut read, mut counted_read) = match known {
        Some(known) if known >= min_revision => (known, false, None, None),
        // Unknown here, or older than asked: a first visit's one statement
        // reads the revision with the member's grants.
        _ => {
            let Some(standing) = repo::standing(&state.reads, company, user).await? else {
                // No such company: no membership, nothing.
                return Ok(nothing(company, user, 0, "none"));
            };
            let counted_read = standing.entitlements_counted;
            let (read, grants) = grants_of(state, standing).await?;
            if let Some(memo) = memo {
                memo.remember_revision(company, read);
            }
            if read < min_revision {
                return Err(Error::RevisionNotReached(min_revision));
            }
            (read, known.is_some(), Some((read, grants)), Some(counted_read))
        }
    };
    let (entitlements, fetched, counted) = state.platform.entitlements_fetched(company, fresh, revision).await?;
    // An answer never shows entitlements under a revision older than the one
    // that counts them.
    revision = revision.max(counted);
    if fetched {
        // Entitlements just fetched: does the company's revision count them
        // yet? A first visit read what it counts with the grants; a revision
        // known from the memo has it read now, in the same one statement
        // that reads the grants. When it does, that revision stands, with no
        // write and no second read.
        if counted_read.is_none()
            && let Some(standing) = repo::standing(&state.reads, company, user).await?
        {
            counted_read = Some(standing.entitlements_counted);
            let (at, grants) = grants_of(state, standing).await?;
            revision = revision.max(at);
            read = Some((at, grants));
        }
        let counted_already = counted_read.is_some_and(|counted| entitlements.revision <= counted);
        if !counted_already {
            match repo::raise_for_entitlements(&state.db, company, entitlements.revision).await? {
                // Entitlements newer than what the company's revision counts
                // (their notice is still on its way) raise it now.
                Some(raised) => {
                    revision = raised;
                    state.events.publish(AccessChange::company(ChangeKind::EntitlementsChanged, company, raised)).await;
                }
                // Counted already: perhaps by the notice's handler, between
                // its write and this replica's memo learning it, so the
                // revision read above may be older. The database's is the one
                // that counts them.
                None => revision = revision.max(self::revision(state, company, true).await?.unwrap_or(revision)),
            }
        }
        state.platform.counted_at(company, &entitlements, revision).await;
    }
    // Grants read at an older revision than the answer's are read again:
    // a grant change may lie between.
    let read = read.and_then(|(at, grants)| (at == revision).then_some(grants));
    let grants = cached_grants(state, company, user, revision, read).await?;
    let membership = match grants.membership.as_ref().map(|m| m.status) {
        None => return Ok(nothing(company, user, revision, "none")),
        Some(MemberStatus::Suspended) => return Ok(nothing(company, user, revision, "suspended")),
        Some(MemberStatus::Active) => "active",
    };
    let catalog = state.platform.catalog().await?;
    let effective = effective(state, company, user, &grants, &entitlements, &catalog);
    let now_ms = state.clock.now().timestamp_millis();
    let mut ttl = u32::try_from(state.config.access_cache_ttl.as_millis()).unwrap_or(u32::MAX);
    if !state.platform.is_live() {
        ttl = 0;
    }
    if entitlements.valid_until_ms > 0 {
        ttl = ttl.min(u32::try_from((entitlements.valid_until_ms - now_ms).max(0)).unwrap_or(u32::MAX));
    }
    Ok(Access {
        company_id: company,
        user_id: user,
        membership,
        roles: grants.roles.iter().map(|(_, n, _)| n.clone()).collect(),
        modules: effective.modules.clone(),
        permissions: effective.permissions.clone(),
        limits: effective.limits.clone(),
        revision,
        cache_ttl_ms: ttl,
    })
}

/// The modules, permissions and limits a member's grants give under the
/// company's entitlements and the catalog. The same three (the same
/// allocations: anything changed is a new one) always give the same, so this
/// is worked out once for them rather than on every answer.
pub struct Effective {
    grants: Arc<Grants>,
    entitlements: Arc<Entitlements>,
    catalog: Catalog,
    modules: BTreeSet<String>,
    permissions: BTreeSet<String>,
    limits: BTreeMap<String, i64>,
}

impl Effective {
    fn of(grants: &Arc<Grants>, entitlements: &Arc<Entitlements>, catalog: &Catalog) -> Self {
        let (modules, permissions, limits) = if entitlements.entitled {
            let permissions = grants
                .permissions
                .iter()
                .filter(|p| entitlements.permissions.contains(*p))
                .filter(|p| catalog.get(*p).is_some_and(|m| entitlements.modules.contains(m)))
                .cloned()
                .collect();
            (entitlements.modules.clone(), permissions, entitlements.limits.clone())
        } else {
            Default::default()
        };
        Self {
            grants: grants.clone(),
            entitlements: entitlements.clone(),
            catalog: catalog.clone(),
            modules,
            permissions,
            limits,
        }
    }

    fn is_of(&self, grants: &Arc<Grants>, entitlements: &Arc<Entitlements>, catalog: &Catalog) -> bool {
        Arc::ptr_eq(&self.grants, grants)
            && Arc::ptr_eq(&self.entitlements, entitlements)
            && Arc::ptr_eq(&self.catalog, catalog)
    }
}

fn effective(
    state: &AppState,
    company: Uuid,
    user: Uuid,
    grants: &Arc<Grants>,
    entitlements: &Arc<Entitlements>,
    catalog: &Catalog,
) -> Arc<Effective> {
    let key = (company, user);
    if let Some(known) = state.grants_cache.effective.get(&key).filter(|e| e.is_of(grants, entitlements, catalog)) {
        return known;
    }
    let worked_out = Arc::new(Effective::of(grants, entitlements, catalog));
    state.grants_cache.effective.insert(key, worked_out.clone());
    worked_out
}

fn nothing(company: Uuid, user: Uuid, revision: u64, membership: &'static str) -> Access {
    Access {
        company_id: company,
        user_id: user,
        membership,
        roles: Vec::new(),
        modules: BTreeSet::new(),
        permissions: BTreeSet::new(),
        limits: BTreeMap::new(),
        revision,
        cache_ttl_ms: 0,
    }
}

/// Why a user has or lacks a permission.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub allowed: bool,
    pub reason: &'static str,
    pub message: String,
    pub permission: String,
    pub module: Option<String>,
    pub roles: Vec<String>,
    pub granting_roles: Vec<String>,
    pub direct_grant: bool,
    pub package_code: Option<String>,
    pub package_version: Option<u32>,
    pub subscription_status: Option<String>,
}

pub async fn explain(state: &AppState, company: Uuid, user: Uuid, permission: &str) -> Result<Explanation, Error> {
    let catalog = state.platform.catalog().await?;
    let grants = grants(state, &state.db, company, user).await?;
    let entitlements = state.platform.entitlements(company, true, 0).await?;
    let module = catalog.get(permission).cloned();
    let roles: Vec<String> = grants.roles.iter().map(|(_, n, _)| n.clone()).collect();
    let granting_roles: Vec<String> = grants
        .roles
        .iter()
        .filter(|(_, _, patterns)| patterns.iter().any(|p| pattern_matches(p, permission)))
        .map(|(_, n, _)| n.clone())
        .collect();
    let direct_grant = grants.direct.contains(permission);
    let (allowed, reason, message) = if module.is_none() {
        (false, "UNKNOWN_PERMISSION", format!("{permission} is not in the catalog"))
    } else if grants.membership.is_none() {
        (false, "NO_MEMBERSHIP", "the user is not a member of this company".to_owned())
    } else if !grants.active() {
        (false, "MEMBERSHIP_SUSPENDED", "the user's membership is suspended".to_owned())
    } else if !entitlements.entitled {
        let status = if entitlements.status.is_empty() { "none".to_owned() } else { entitlements.status.clone() };
        (false, "SUBSCRIPTION_NOT_ENTITLING", format!("the company's subscription ({status}) entitles nothing"))
    } else if !module.as_ref().is_some_and(|m| entitlements.modules.contains(m)) {
        (
            false,
            "MODULE_NOT_ENTITLED",
            format!(
                "module {} is not in the company's package {}",
                module.clone().unwrap_or_default(),
                entitlements.package_code
            ),
        )
    } else if !entitlements.permissions.contains(permission) {
        (
            false,
            "PERMISSION_NOT_ENTITLED",
            format!("package {} does not include {permission}", entitlements.package_code),
        )
    } else if !grants.permissions.contains(permission) {
        (false, "NOT_GRANTED", format!("none of the user's roles ({}) grants {permission}", roles.join(", ")))
    } else {
        (
            true,
            "GRANTED",
            format!(
                "granted by {}",
                if direct_grant && granting_roles.is_empty() {
                    "a direct grant".to_owned()
                } else {
                    granting_roles.join(", ")
                }
            ),
        )
    };
    Ok(Explanation {
        allowed,
        reason,
        message,
        permission: permission.to_owned(),
        module,
        roles,
        granting_roles,
        direct_grant,
        package_code: (!entitlements.package_code.is_empty()).then(|| entitlements.package_code.clone()),
        package_version: (entitlements.package_version > 0).then_some(entitlements.package_version),
        subscription_status: (!entitlements.status.is_empty()).then(|| entitlements.status.clone()),
    })
}

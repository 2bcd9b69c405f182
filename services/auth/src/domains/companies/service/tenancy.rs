//! Companies: creation with their owner and subscription, and each person's list.

use super::*;

pub async fn create_company(state: &AppState, actor: Uuid, input: NewCompany) -> Result<Company, Error> {
    let now = state.clock.now();
    let mut company = Company {
        id: Uuid::now_v7(),
        name: input.name.trim().to_owned(),
        created_by: actor,
        created_at: now,
        revision: 0,
        subscription_ready: false,
    };
    let txn = state.db.begin().await?;
    repo::insert_company(&txn, &company).await?;
    let mut owner_role = None;
    for (name, description, patterns) in SYSTEM_ROLES {
        let role = Role {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            description: description.to_owned(),
            system: true,
            permissions: patterns.iter().map(|p| (*p).to_owned()).collect(),
        };
        repo::insert_role(&txn, company.id, &role, now).await?;
        if name == OWNER {
            owner_role = Some(role.id);
        }
    }
    let membership = Membership {
        id: Uuid::now_v7(),
        company_id: company.id,
        user_id: actor,
        status: MemberStatus::Active,
        created_at: now,
    };
    repo::insert_membership(&txn, &membership, now).await?;
    repo::set_roles(&txn, membership.id, &owner_role.into_iter().collect::<Vec<_>>()).await?;
    let change = Change {
        action: "company.created",
        target: format!("company:{}", company.id),
        before: Value::Null,
        after: json!({"name": company.name, "owner": actor}),
        event: ChangeKind::MembershipChanged,
        user: Some(actor),
    };
    company.revision = commit(state, txn, company.id, actor, vec![change]).await?;
    // Start the default subscription now; a reconciler retries if platform-core is away.
    if ensure_subscription(state, company.id, actor).await {
        company.subscription_ready = true;
        // Its entitlements are counted in the revision the creator gets back.
        company.revision = repo::revision(&state.db, company.id).await?.unwrap_or(company.revision);
    }
    Ok(company)
}

/// Asks platform-core for the default subscription (idempotent there).
pub async fn ensure_subscription(state: &AppState, company: Uuid, requested_by: Uuid) -> bool {
    match state.platform.ensure_default_subscription(company, requested_by).await {
        Ok(entitlements) => {
            crate::domains::access::service::entitlements_changed(state, company, entitlements.revision).await;
            repo::mark_subscription_ready(&state.db, company).await.is_ok()
        }
        Err(e) => {
            tracing::warn!(%company, error = %e, "default subscription not started yet; will retry");
            false
        }
    }
}

/// Retries default subscriptions that could not be started at creation.
pub async fn reconcile_subscriptions(state: &AppState) {
    let Ok(pending) = repo::without_subscription(&state.db).await else {
        return;
    };
    for company in pending {
        ensure_subscription(state, company.id, company.created_by).await;
    }
}

pub async fn my_companies(state: &AppState, user: Uuid) -> Result<Vec<MyCompany>, Error> {
    let memberships = repo::memberships_of_user(&state.db, user).await?;
    let ids: Vec<Uuid> = memberships.iter().map(|m| m.company_id).collect();
    let mut out = Vec::new();
    for company in repo::companies(&state.db, &ids).await? {
        let g = grants(state, &state.db, company.id, user).await?;
        let status = g.membership.as_ref().map_or(MemberStatus::Suspended, |m| m.status);
        out.push(MyCompany {
            company,
            membership_status: status,
            roles: g.roles.iter().map(|(_, n, _)| n.clone()).collect(),
        });
    }
    Ok(out)
}

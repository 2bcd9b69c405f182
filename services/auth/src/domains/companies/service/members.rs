//! Members: adding, changing and removing them, under the last-owner rule and the member limit.

use super::*;

pub(super) async fn member_view(state: &AppState, company: Uuid, m: &Membership) -> Result<Member, Error> {
    let user = users::by_id(&state.db, m.user_id).await?.ok_or(Error::NotFound("user"))?;
    let profile = users::profile(&state.db, m.user_id).await?;
    let ids = repo::role_ids(&state.db, m.id).await?;
    let roles = repo::roles(&state.db, company)
        .await?
        .into_iter()
        .filter(|r| ids.contains(&r.id))
        .map(|r| RoleRef { id: r.id, name: r.name })
        .collect();
    Ok(Member {
        user_id: m.user_id,
        email: user.email,
        name: profile.name,
        status: m.status,
        roles,
        grants: repo::grants(&state.db, m.id).await?.into_iter().collect(),
        joined_at: m.created_at,
    })
}

/// One page of the company's members, with their accounts, roles and
/// grants read for the whole page at once.
pub async fn members(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    page: &PageParams,
) -> Result<(Vec<Member>, u64), Error> {
    member_grants(state, &state.db, company, actor).await?;
    let db = &state.db;
    let (memberships, total) = repo::membership_page(db, company, page.offset(), page.limit()).await?;
    let membership_ids: Vec<Uuid> = memberships.iter().map(|m| m.id).collect();
    let user_ids: Vec<Uuid> = memberships.iter().map(|m| m.user_id).collect();
    let roles = repo::roles(db, company).await?;
    let mut held = repo::role_ids_of(db, &membership_ids).await?;
    let mut grants = repo::grants_of(db, &membership_ids).await?;
    let mut accounts = users::by_ids(db, &user_ids).await?;
    let mut names = users::names(db, &user_ids).await?;
    let mut out = Vec::with_capacity(memberships.len());
    for m in memberships {
        let user = accounts.remove(&m.user_id).ok_or(Error::NotFound("user"))?;
        let ids = held.remove(&m.id).unwrap_or_default();
        out.push(Member {
            user_id: m.user_id,
            email: user.email,
            name: names.remove(&m.user_id).unwrap_or_default(),
            status: m.status,
            roles: roles
                .iter()
                .filter(|r| ids.contains(&r.id))
                .map(|r| RoleRef { id: r.id, name: r.name.clone() })
                .collect(),
            grants: grants.remove(&m.id).unwrap_or_default().into_iter().collect(),
            joined_at: m.created_at,
        });
    }
    Ok((out, total))
}

/// An admin adds an existing account directly.
pub async fn add_member(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    input: AddMember,
) -> Result<(Member, u64), Error> {
    let email = Email::parse(&input.email).map_err(|e| Error::field("email", e))?;
    let actor_grants = admin_grants(state, &state.db, company, actor).await?;
    let user = users::by_email(&state.db, &email).await?.ok_or(Error::NotFound("user"))?;
    let roles = roles_by_id(&state.db, company, &default_roles(state, company, &input.role_ids).await?).await?;
    check_grantable(state, &actor_grants, &roles, &BTreeSet::new()).await?;
    let txn = state.db.begin().await?;
    if repo::membership(&txn, company, user.id).await?.is_some() {
        return Err(Error::AlreadyMember);
    }
    check_room(state, &txn, company).await?;
    let membership = insert_member(state, &txn, company, user.id, &roles).await?;
    let change = Change {
        action: "member.added",
        target: format!("user:{}", user.id),
        before: Value::Null,
        after: json!({"roles": roles.iter().map(|r| &r.name).collect::<Vec<_>>()}),
        event: ChangeKind::MembershipChanged,
        user: Some(user.id),
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    Ok((member_view(state, company, &membership).await?, revision))
}

pub(super) async fn default_roles(state: &AppState, company: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, Error> {
    if !ids.is_empty() {
        return Ok(ids.to_vec());
    }
    Ok(repo::roles(&state.db, company)
        .await?
        .into_iter()
        .filter(|r| r.system && r.name == MEMBER)
        .map(|r| r.id)
        .collect())
}

pub(super) async fn insert_member(
    state: &AppState,
    txn: &DatabaseTransaction,
    company: Uuid,
    user: Uuid,
    roles: &[Role],
) -> Result<Membership, Error> {
    let now = state.clock.now();
    let membership = Membership {
        id: Uuid::now_v7(),
        company_id: company,
        user_id: user,
        status: MemberStatus::Active,
        created_at: now,
    };
    match repo::insert_membership(txn, &membership, now).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => return Err(Error::AlreadyMember),
        other => other?,
    }
    repo::set_roles(txn, membership.id, &roles.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    Ok(membership)
}

pub async fn update_member(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    user: Uuid,
    edit: UpdateMember,
) -> Result<(Member, u64), Error> {
    // The company's lock first: every check below sees the writes that won
    // before it (two owners demoting each other cannot both pass).
    let txn = state.db.begin().await?;
    repo::lock_company(&txn, company).await?;
    let actor_grants = admin_grants(state, &txn, company, actor).await?;
    let target = grants(state, &txn, company, user).await?;
    let membership = target.membership.clone().ok_or(Error::NotFound("member"))?;
    if target.has_role(OWNER) && !actor_grants.is_owner() {
        return Err(Error::OwnerRequired);
    }
    let new_roles = match &edit.role_ids {
        Some(ids) => Some(roles_by_id(&txn, company, ids).await?),
        None => None,
    };
    if let Some(grants) = &edit.grants {
        check_catalog(state, "grants", grants).await?;
    }
    check_grantable(
        state,
        &actor_grants,
        new_roles.as_deref().unwrap_or_default(),
        edit.grants.as_ref().unwrap_or(&BTreeSet::new()),
    )
    .await?;
    let loses_ownership = target.has_role(OWNER)
        && (edit.status == Some(MemberStatus::Suspended)
            || new_roles.as_ref().is_some_and(|r| !r.iter().any(|r| r.name == OWNER)));
    if loses_ownership && other_active_owners(&txn, company, user).await? == 0 {
        return Err(Error::LastOwner);
    }
    let before = json!({
        "status": membership.status,
        "roles": target.roles.iter().map(|(_, n, _)| n).collect::<Vec<_>>(),
        "grants": target.direct,
    });
    let mut changes = Vec::new();
    if let Some(status) = edit.status
        && status != membership.status
    {
        repo::set_status(&txn, membership.id, status, state.clock.now()).await?;
        changes.push(Change {
            action: if status == MemberStatus::Suspended { "member.suspended" } else { "member.reactivated" },
            target: format!("user:{user}"),
            before: before.clone(),
            after: json!({"status": status}),
            event: ChangeKind::MembershipChanged,
            user: Some(user),
        });
    }
    if let Some(roles) = &new_roles {
        repo::set_roles(&txn, membership.id, &roles.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        changes.push(Change {
            action: "member.roles_changed",
            target: format!("user:{user}"),
            before: before.clone(),
            after: json!({"roles": roles.iter().map(|r| &r.name).collect::<Vec<_>>()}),
            event: ChangeKind::RoleChanged,
            user: Some(user),
        });
    }
    if let Some(direct) = &edit.grants {
        repo::set_grants(&txn, membership.id, direct).await?;
        changes.push(Change {
            action: "member.grants_changed",
            target: format!("user:{user}"),
            before,
            after: json!({"grants": direct}),
            event: ChangeKind::GrantsChanged,
            user: Some(user),
        });
    }
    let revision = commit(state, txn, company, actor, changes).await?;
    Ok((member_view(state, company, &membership_after(state, company, user).await?).await?, revision))
}

pub(super) async fn membership_after(state: &AppState, company: Uuid, user: Uuid) -> Result<Membership, Error> {
    repo::membership(&state.db, company, user).await?.ok_or(Error::NotFound("member"))
}

pub async fn remove_member(state: &AppState, company: Uuid, actor: Uuid, user: Uuid) -> Result<u64, Error> {
    // The company's lock first, as in `update_member`.
    let txn = state.db.begin().await?;
    repo::lock_company(&txn, company).await?;
    let actor_grants = if actor == user {
        // Anyone may leave.
        member_grants(state, &txn, company, actor).await?
    } else {
        admin_grants(state, &txn, company, actor).await?
    };
    let target = grants(state, &txn, company, user).await?;
    let membership = target.membership.clone().ok_or(Error::NotFound("member"))?;
    if target.has_role(OWNER) && !actor_grants.is_owner() {
        return Err(Error::OwnerRequired);
    }
    if target.has_role(OWNER) && other_active_owners(&txn, company, user).await? == 0 {
        return Err(Error::LastOwner);
    }
    repo::delete_membership(&txn, membership.id).await?;
    let change = Change {
        action: "member.removed",
        target: format!("user:{user}"),
        before: json!({"roles": target.roles.iter().map(|(_, n, _)| n).collect::<Vec<_>>(), "status": membership.status}),
        after: Value::Null,
        event: ChangeKind::MembershipChanged,
        user: Some(user),
    };
    commit(state, txn, company, actor, vec![change]).await
}

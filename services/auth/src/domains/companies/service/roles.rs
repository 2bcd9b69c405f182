//! Roles: the company's own, beside the system roles, never above the granter.

use super::*;

pub async fn roles(state: &AppState, company: Uuid, actor: Uuid) -> Result<Vec<Role>, Error> {
    member_grants(state, &state.db, company, actor).await?;
    Ok(repo::roles(&state.db, company).await?)
}

pub async fn create_role(state: &AppState, company: Uuid, actor: Uuid, input: RoleIn) -> Result<(Role, u64), Error> {
    let actor_grants = admin_grants(state, &state.db, company, actor).await?;
    check_catalog(state, "permissions", &input.permissions).await?;
    let role = Role {
        id: Uuid::now_v7(),
        name: input.name.trim().to_owned(),
        description: input.description,
        system: false,
        permissions: input.permissions.into_iter().collect(),
    };
    check_grantable(state, &actor_grants, std::slice::from_ref(&role), &BTreeSet::new()).await?;
    if repo::roles(&state.db, company).await?.iter().any(|r| r.name.eq_ignore_ascii_case(&role.name)) {
        return Err(Error::RoleExists);
    }
    let txn = state.db.begin().await?;
    match repo::insert_role(&txn, company, &role, state.clock.now()).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => return Err(Error::RoleExists),
        other => other?,
    }
    let change = Change {
        action: "role.created",
        target: format!("role:{}", role.id),
        before: Value::Null,
        after: json!({"name": role.name, "permissions": role.permissions}),
        event: ChangeKind::RoleChanged,
        user: None,
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    Ok((role, revision))
}

pub(super) async fn custom_role(state: &AppState, company: Uuid, role: Uuid) -> Result<Role, Error> {
    let role =
        repo::roles(&state.db, company).await?.into_iter().find(|r| r.id == role).ok_or(Error::NotFound("role"))?;
    if role.system {
        return Err(Error::SystemRole);
    }
    Ok(role)
}

pub async fn update_role(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    role: Uuid,
    edit: RoleEdit,
) -> Result<(Role, u64), Error> {
    let actor_grants = admin_grants(state, &state.db, company, actor).await?;
    let before = custom_role(state, company, role).await?;
    let mut after = before.clone();
    if let Some(name) = edit.name {
        after.name = name.trim().to_owned();
    }
    if let Some(description) = edit.description {
        after.description = description;
    }
    if let Some(permissions) = edit.permissions {
        check_catalog(state, "permissions", &permissions).await?;
        after.permissions = permissions.into_iter().collect();
    }
    check_grantable(state, &actor_grants, std::slice::from_ref(&after), &BTreeSet::new()).await?;
    let txn = state.db.begin().await?;
    match repo::update_role(&txn, company, &after, state.clock.now()).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => return Err(Error::RoleExists),
        other => other?,
    }
    let change = Change {
        action: "role.updated",
        target: format!("role:{role}"),
        before: json!({"name": before.name, "permissions": before.permissions}),
        after: json!({"name": after.name, "permissions": after.permissions}),
        event: ChangeKind::RoleChanged,
        user: None,
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    Ok((after, revision))
}

pub async fn delete_role(state: &AppState, company: Uuid, actor: Uuid, role: Uuid) -> Result<u64, Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let before = custom_role(state, company, role).await?;
    let txn = state.db.begin().await?;
    repo::delete_role(&txn, company, role).await?;
    let change = Change {
        action: "role.deleted",
        target: format!("role:{role}"),
        before: json!({"name": before.name, "permissions": before.permissions}),
        after: Value::Null,
        event: ChangeKind::RoleChanged,
        user: None,
    };
    commit(state, txn, company, actor, vec![change]).await
}

//! Memberships, the roles they hold and their direct grants.

use super::*;

pub(super) fn membership_of(r: membership_row::Model) -> Membership {
    Membership {
        id: r.id,
        company_id: r.company_id,
        user_id: r.user_id,
        status: MemberStatus::parse(&r.status),
        created_at: r.created_at,
    }
}

pub async fn insert_membership(db: &impl ConnectionTrait, m: &Membership, now: DateTime<Utc>) -> Result<(), DbErr> {
    membership_row::ActiveModel {
        id: Set(m.id),
        company_id: Set(m.company_id),
        user_id: Set(m.user_id),
        status: Set(m.status.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn membership(db: &impl ConnectionTrait, company: Uuid, user: Uuid) -> Result<Option<Membership>, DbErr> {
    Ok(membership_row::Entity::find()
        .filter(membership_row::Column::CompanyId.eq(company))
        .filter(membership_row::Column::UserId.eq(user))
        .one(db)
        .await?
        .map(membership_of))
}

pub async fn memberships(db: &impl ConnectionTrait, company: Uuid) -> Result<Vec<Membership>, DbErr> {
    Ok(membership_row::Entity::find()
        .filter(membership_row::Column::CompanyId.eq(company))
        .order_by_asc(membership_row::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(membership_of)
        .collect())
}

/// One page of a company's memberships, oldest first, and how many there are.
pub async fn membership_page(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Membership>, u64), DbErr> {
    let all = membership_row::Entity::find().filter(membership_row::Column::CompanyId.eq(company));
    let total = all.clone().count(db).await?;
    let rows = all
        .order_by_asc(membership_row::Column::CreatedAt)
        .order_by_asc(membership_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(membership_of).collect(), total))
}

/// The role ids each of `memberships` holds, in one statement.
pub async fn role_ids_of(db: &impl ConnectionTrait, memberships: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>, DbErr> {
    let mut held: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let rows = member_role_row::Entity::find()
        .filter(member_role_row::Column::MembershipId.is_in(memberships.iter().copied()))
        .all(db)
        .await?;
    for row in rows {
        held.entry(row.membership_id).or_default().push(row.role_id);
    }
    Ok(held)
}

/// The grants of each of `memberships`, in one statement.
pub async fn grants_of(
    db: &impl ConnectionTrait,
    memberships: &[Uuid],
) -> Result<HashMap<Uuid, BTreeSet<String>>, DbErr> {
    let mut grants: HashMap<Uuid, BTreeSet<String>> = HashMap::new();
    let rows = grant_row::Entity::find()
        .filter(grant_row::Column::MembershipId.is_in(memberships.iter().copied()))
        .all(db)
        .await?;
    for row in rows {
        grants.entry(row.membership_id).or_default().insert(row.permission);
    }
    Ok(grants)
}

/// Active members other than `except` who hold the company's system role
/// named `role`, counted in one statement.
pub async fn count_active_holders(
    db: &impl ConnectionTrait,
    company: Uuid,
    role: &str,
    except: Uuid,
) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Query;
    let system_role = Query::select()
        .column(role_row::Column::Id)
        .from(role_row::Entity)
        .and_where(role_row::Column::CompanyId.eq(company))
        .and_where(role_row::Column::System.eq(true))
        .and_where(role_row::Column::Name.eq(role))
        .to_owned();
    let holders = Query::select()
        .column(member_role_row::Column::MembershipId)
        .from(member_role_row::Entity)
        .and_where(member_role_row::Column::RoleId.in_subquery(system_role))
        .to_owned();
    membership_row::Entity::find()
        .filter(membership_row::Column::CompanyId.eq(company))
        .filter(membership_row::Column::Status.eq(MemberStatus::Active.as_str()))
        .filter(membership_row::Column::UserId.ne(except))
        .filter(membership_row::Column::Id.in_subquery(holders))
        .count(db)
        .await
}

pub async fn memberships_of_user(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<Membership>, DbErr> {
    Ok(membership_row::Entity::find()
        .filter(membership_row::Column::UserId.eq(user))
        .all(db)
        .await?
        .into_iter()
        .map(membership_of)
        .collect())
}

pub async fn count_memberships(db: &impl ConnectionTrait, company: Uuid) -> Result<u64, DbErr> {
    membership_row::Entity::find().filter(membership_row::Column::CompanyId.eq(company)).count(db).await
}

pub async fn set_status(
    db: &impl ConnectionTrait,
    membership: Uuid,
    status: MemberStatus,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    membership_row::Entity::update_many()
        .col_expr(membership_row::Column::Status, Expr::value(status.as_str()))
        .col_expr(membership_row::Column::UpdatedAt, Expr::value(now))
        .filter(membership_row::Column::Id.eq(membership))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn role_ids(db: &impl ConnectionTrait, membership: Uuid) -> Result<Vec<Uuid>, DbErr> {
    Ok(member_role_row::Entity::find()
        .filter(member_role_row::Column::MembershipId.eq(membership))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.role_id)
        .collect())
}

/// The roles a membership holds, in one statement.
pub async fn member_roles(db: &impl ConnectionTrait, company: Uuid, membership: Uuid) -> Result<Vec<Role>, DbErr> {
    let held = sea_orm::sea_query::Query::select()
        .column(member_role_row::Column::RoleId)
        .from(member_role_row::Entity)
        .and_where(member_role_row::Column::MembershipId.eq(membership))
        .to_owned();
    let rows = role_row::Entity::find()
        .filter(role_row::Column::CompanyId.eq(company))
        .filter(role_row::Column::Id.in_subquery(held));
    ordered_roles(db, rows).await
}

pub async fn set_roles(db: &impl ConnectionTrait, membership: Uuid, roles: &[Uuid]) -> Result<(), DbErr> {
    member_role_row::Entity::delete_many()
        .filter(member_role_row::Column::MembershipId.eq(membership))
        .exec(db)
        .await?;
    for role in roles.iter().collect::<BTreeSet<_>>() {
        member_role_row::ActiveModel { membership_id: Set(membership), role_id: Set(*role) }.insert(db).await?;
    }
    Ok(())
}

pub async fn grants(db: &impl ConnectionTrait, membership: Uuid) -> Result<BTreeSet<String>, DbErr> {
    Ok(grant_row::Entity::find()
        .filter(grant_row::Column::MembershipId.eq(membership))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.permission)
        .collect())
}

pub async fn set_grants(db: &impl ConnectionTrait, membership: Uuid, grants: &BTreeSet<String>) -> Result<(), DbErr> {
    grant_row::Entity::delete_many().filter(grant_row::Column::MembershipId.eq(membership)).exec(db).await?;
    for permission in grants {
        grant_row::ActiveModel { membership_id: Set(membership), permission: Set(permission.clone()) }
            .insert(db)
            .await?;
    }
    Ok(())
}

pub async fn delete_membership(db: &impl ConnectionTrait, membership: Uuid) -> Result<(), DbErr> {
    set_roles(db, membership, &[]).await?;
    set_grants(db, membership, &BTreeSet::new()).await?;
    membership_row::Entity::delete_by_id(membership).exec(db).await?;
    Ok(())
}

/// A member's standing in a company as one statement reads it: the
/// company's revision, the membership, its roles and its direct grants.
#[derive(Debug, Default)]
pub struct Standing {
    pub revision: u64,
    /// The entitlements revision that `revision` already counts.
    pub entitlements_counted: u64,
    pub membership: Option<Membership>,
    /// System roles first, then by name.
    pub roles: Vec<Role>,
    pub direct: BTreeSet<String>,
}

/// Reads a member's [`Standing`] in one round trip (a first visit's whole
/// read); `None` when the company does not exist. One row per role held
/// (or one when none), joined to the company and the membership, and one
/// per direct grant after them.
pub async fn standing(db: &impl ConnectionTrait, company: Uuid, user: Uuid) -> Result<Option<Standing>, DbErr> {
    use sea_orm::sea_query::{Alias, Expr as E, JoinType, Query, UnionType};
    let (c, m, mr, r, g) =
        (company_row::Entity, membership_row::Entity, member_role_row::Entity, role_row::Entity, grant_row::Entity);
    let null = || E::cust("NULL");
    let mut held = Query::select()
        .expr_as(E::val("held"), Alias::new("part"))
        .expr_as(E::col((c, company_row::Column::Revision)), Alias::new("revision"))
        .expr_as(E::col((c, company_row::Column::EntitlementsRevision)), Alias::new("entitlements_revision"))
        .expr_as(E::col((m, membership_row::Column::Id)), Alias::new("membership_id"))
        .expr_as(E::col((m, membership_row::Column::Status)), Alias::new("status"))
        .expr_as(E::col((m, membership_row::Column::CreatedAt)), Alias::new("member_since"))
        .expr_as(E::col((r, role_row::Column::Id)), Alias::new("role_id"))
        .expr_as(E::col((r, role_row::Column::Name)), Alias::new("role_name"))
        .expr_as(E::col((r, role_row::Column::Description)), Alias::new("role_description"))
        .expr_as(E::col((r, role_row::Column::System)), Alias::new("role_system"))
        .expr_as(E::col((r, role_row::Column::Permissions)), Alias::new("text"))
        .from(c)
        .join(
            JoinType::LeftJoin,
            m,
            E::col((m, membership_row::Column::CompanyId))
                .equals((c, company_row::Column::Id))
                .and(E::col((m, membership_row::Column::UserId)).eq(user)),
        )
        .join(
            JoinType::LeftJoin,
            mr,
            E::col((mr, member_role_row::Column::MembershipId)).equals((m, membership_row::Column::Id)),
        )
        .join(
            JoinType::LeftJoin,
            r,
            E::col((r, role_row::Column::Id))
                .equals((mr, member_role_row::Column::RoleId))
                .and(E::col((r, role_row::Column::CompanyId)).equals((c, company_row::Column::Id))),
        )
        .and_where(E::col((c, company_row::Column::Id)).eq(company))
        .to_owned();
    let granted = Query::select()
        .expr(E::val("granted"))
        .exprs([null(), null(), null(), null(), null(), null(), null(), null(), null()])
        .expr(E::col((g, grant_row::Column::Permission)))
        .from(g)
        .inner_join(m, E::col((m, membership_row::Column::Id)).equals((g, grant_row::Column::MembershipId)))
        .and_where(E::col((m, membership_row::Column::CompanyId)).eq(company))
        .and_where(E::col((m, membership_row::Column::UserId)).eq(user))
        .to_owned();
    let query = held.union(UnionType::All, granted).to_owned();
    let rows = db.query_all(&query).await?;
    let (mut found, mut direct): (Option<Standing>, BTreeSet<String>) = (None, BTreeSet::new());
    for row in rows {
        let part: String = row.try_get("", "part")?;
        if part == "granted" {
            direct.insert(row.try_get("", "text")?);
            continue;
        }
        let standing = found.get_or_insert_with(Standing::default);
        standing.revision = u64::try_from(row.try_get::<i64>("", "revision")?).map_err(corrupt)?;
        standing.entitlements_counted =
            u64::try_from(row.try_get::<i64>("", "entitlements_revision")?).map_err(corrupt)?;
        if let Some(id) = row.try_get::<Option<Uuid>>("", "membership_id")? {
            let status: String = row.try_get("", "status")?;
            standing.membership = Some(Membership {
                id,
                company_id: company,
                user_id: user,
                status: MemberStatus::parse(&status),
                created_at: row.try_get("", "member_since")?,
            });
        }
        if let Some(id) = row.try_get::<Option<Uuid>>("", "role_id")? {
            standing.roles.push(role_of(role_row::Model {
                id,
                company_id: company,
                name: row.try_get("", "role_name")?,
                description: row.try_get("", "role_description")?,
                system: row.try_get("", "role_system")?,
                permissions: row.try_get("", "text")?,
                created_at: DateTime::<Utc>::default(),
                updated_at: DateTime::<Utc>::default(),
            })?);
        }
    }
    Ok(found.map(|mut s| {
        s.roles.sort_by(|a, b| b.system.cmp(&a.system).then_with(|| a.name.cmp(&b.name)));
        s.direct = direct;
        s
    }))
}

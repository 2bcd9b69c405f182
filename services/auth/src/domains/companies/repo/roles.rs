//! The company's roles.

use super::*;

pub(super) fn role_of(r: role_row::Model) -> Result<Role, DbErr> {
    Ok(Role {
        id: r.id,
        name: r.name,
        description: r.description,
        system: r.system,
        permissions: serde_json::from_str(&r.permissions).map_err(corrupt)?,
    })
}

pub async fn insert_role(
    db: &impl ConnectionTrait,
    company: Uuid,
    role: &Role,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    role_row::ActiveModel {
        id: Set(role.id),
        company_id: Set(company),
        name: Set(role.name.clone()),
        description: Set(role.description.clone()),
        system: Set(role.system),
        permissions: Set(json(&role.permissions)?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// System roles first, then by name.
pub(super) async fn ordered_roles(
    db: &impl ConnectionTrait,
    rows: Select<role_row::Entity>,
) -> Result<Vec<Role>, DbErr> {
    rows.order_by_desc(role_row::Column::System)
        .order_by_asc(role_row::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(role_of)
        .collect()
}

pub async fn roles(db: &impl ConnectionTrait, company: Uuid) -> Result<Vec<Role>, DbErr> {
    ordered_roles(db, role_row::Entity::find().filter(role_row::Column::CompanyId.eq(company))).await
}

pub async fn update_role(
    db: &impl ConnectionTrait,
    company: Uuid,
    role: &Role,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    role_row::Entity::update_many()
        .col_expr(role_row::Column::Name, Expr::value(role.name.clone()))
        .col_expr(role_row::Column::Description, Expr::value(role.description.clone()))
        .col_expr(role_row::Column::Permissions, Expr::value(json(&role.permissions)?))
        .col_expr(role_row::Column::UpdatedAt, Expr::value(now))
        .filter(role_row::Column::CompanyId.eq(company))
        .filter(role_row::Column::Id.eq(role.id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_role(db: &impl ConnectionTrait, company: Uuid, role: Uuid) -> Result<(), DbErr> {
    member_role_row::Entity::delete_many().filter(member_role_row::Column::RoleId.eq(role)).exec(db).await?;
    role_row::Entity::delete_many()
        .filter(role_row::Column::CompanyId.eq(company))
        .filter(role_row::Column::Id.eq(role))
        .exec(db)
        .await?;
    Ok(())
}

//! The companies' rows: creation, revisions and subscription state.

use super::*;

pub(super) fn company_of(r: company_row::Model) -> Result<Company, DbErr> {
    Ok(Company {
        id: r.id,
        name: r.name,
        created_by: r.created_by,
        created_at: r.created_at,
        revision: u64::try_from(r.revision).map_err(corrupt)?,
        subscription_ready: r.subscription_ready,
    })
}

pub async fn insert_company(db: &impl ConnectionTrait, c: &Company) -> Result<(), DbErr> {
    company_row::ActiveModel {
        id: Set(c.id),
        name: Set(c.name.clone()),
        created_by: Set(c.created_by),
        created_at: Set(c.created_at),
        revision: Set(i64::try_from(c.revision).map_err(corrupt)?),
        subscription_ready: Set(c.subscription_ready),
        entitlements_revision: Set(0),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn company(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Company>, DbErr> {
    company_row::Entity::find_by_id(id).one(db).await?.map(company_of).transpose()
}

pub async fn companies(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Company>, DbErr> {
    company_row::Entity::find()
        .filter(company_row::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(company_row::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(company_of)
        .collect()
}

/// The company's local access revision, read without loading the rest.
pub async fn revision(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<u64>, DbErr> {
    Ok(company(db, id).await?.map(|c| c.revision))
}

/// Takes the company's row lock for the transaction without changing it:
/// membership writes of one company run one after another from here on.
pub async fn lock_company(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    company_row::Entity::update_many()
        .col_expr(company_row::Column::Revision, Expr::col(company_row::Column::Revision))
        .filter(company_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Raises the company's revision (taking its row lock for the transaction,
/// which also serialises membership writes of one company) and returns it.
pub async fn bump_revision(db: &impl ConnectionTrait, id: Uuid) -> Result<u64, DbErr> {
    let raised = company_row::Entity::update_many()
        .col_expr(company_row::Column::Revision, Expr::col(company_row::Column::Revision).add(1))
        .filter(company_row::Column::Id.eq(id))
        .exec_with_returning(db)
        .await?;
    let company = raised.first().ok_or_else(|| DbErr::RecordNotFound(format!("company {id}")))?;
    u64::try_from(company.revision).map_err(corrupt)
}

/// Records that the company's entitlements reached `entitlements_revision`,
/// raising its access revision once for it: the first replica to hear of a
/// change raises it, the others find it done. The new revision, or `None` when
/// this change was already counted (or the company does not exist).
pub async fn raise_for_entitlements(
    db: &impl ConnectionTrait,
    id: Uuid,
    entitlements_revision: u64,
) -> Result<Option<u64>, DbErr> {
    let seen = i64::try_from(entitlements_revision).map_err(corrupt)?;
    let raised = company_row::Entity::update_many()
        .col_expr(company_row::Column::Revision, Expr::col(company_row::Column::Revision).add(1))
        .col_expr(company_row::Column::EntitlementsRevision, Expr::value(seen))
        .filter(company_row::Column::Id.eq(id))
        .filter(company_row::Column::EntitlementsRevision.lt(seen))
        .exec_with_returning(db)
        .await?;
    raised.first().map(|c| u64::try_from(c.revision).map_err(corrupt)).transpose()
}

pub async fn mark_subscription_ready(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    company_row::Entity::update_many()
        .col_expr(company_row::Column::SubscriptionReady, Expr::value(true))
        .filter(company_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn without_subscription(db: &impl ConnectionTrait) -> Result<Vec<Company>, DbErr> {
    company_row::Entity::find()
        .filter(company_row::Column::SubscriptionReady.eq(false))
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(company_of)
        .collect()
}

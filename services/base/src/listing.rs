//! What every list shares: sorting by name or creation, and a case-insensitive
//! name search.

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, Select};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, Default, Deserialize, schemars::JsonSchema)]
pub enum Sort {
    #[default]
    #[serde(rename = "name")]
    NameAsc,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "createdAt")]
    CreatedAsc,
    #[serde(rename = "-createdAt")]
    CreatedDesc,
}

/// Orders by the chosen key, then by id so pages never overlap.
pub fn sorted<E: EntityTrait>(
    query: Select<E>,
    sort: Sort,
    name: E::Column,
    created: E::Column,
    id: E::Column,
) -> Select<E> {
    let query = match sort {
        Sort::NameAsc => query.order_by_asc(name),
        Sort::NameDesc => query.order_by_desc(name),
        Sort::CreatedAsc => query.order_by_asc(created),
        Sort::CreatedDesc => query.order_by_desc(created),
    };
    query.order_by_asc(id)
}

/// Rows whose `column` contains `text`, any case; wildcards in `text` are literal-free.
pub fn containing<E: EntityTrait>(query: Select<E>, column: E::Column, text: Option<&str>) -> Select<E>
where
    E::Column: ColumnTrait,
{
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => query,
        Some(t) => {
            let pattern = format!("%{}%", t.to_lowercase().replace(['%', '_', '\\'], ""));
            query.filter(Expr::expr(Func::lower(Expr::col(column))).like(pattern))
        }
    }
}

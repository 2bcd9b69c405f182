//! The data layer's honest floor: plain axum and sqlx serving the same
//! SELECTs as base's artist list (a count, then a page of ten by name) with
//! the same pool size, no ORM, no kit, no guard. The unguarded list stands
//! beside it to show what the data layer costs.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::sqlx::{self, Row};
use serde_json::{Value, json};
use uuid::Uuid;

const COUNT: &str = "SELECT COUNT(*) FROM artists WHERE company_id = $1";
const PAGE: &str = "SELECT id, name, genres, contacts, representation, fee_min, fee_max, fee_currency, notes, \
    created_at, updated_at FROM artists WHERE company_id = $1 ORDER BY name, id LIMIT $2 OFFSET $3";

#[derive(Clone)]
enum Pool {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

#[derive(Clone)]
struct Raw {
    pool: Pool,
    company: Uuid,
}

pub async fn serve(database_url: &str, company: &str, connections: u32, addr: &str) -> anyhow::Result<()> {
    let pool = if database_url.starts_with("sqlite:") {
        Pool::Sqlite(sqlx::sqlite::SqlitePoolOptions::new().max_connections(connections).connect(database_url).await?)
    } else {
        Pool::Postgres(sqlx::postgres::PgPoolOptions::new().max_connections(connections).connect(database_url).await?)
    };
    let raw = Raw { pool, company: company.parse()? };
    let app = axum::Router::new().route("/v1/artists", axum::routing::get(list)).with_state(raw);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn list(State(raw): State<Raw>, Query(query): Query<HashMap<String, String>>) -> Response {
    let limit: i64 = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(10);
    let page: i64 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let offset = (page - 1).max(0) * limit;
    let found = match &raw.pool {
        Pool::Postgres(pool) => page_of(pool, raw.company, limit, offset).await,
        Pool::Sqlite(pool) => page_of(pool, raw.company, limit, offset).await,
    };
    match found {
        Ok((items, total)) => {
            axum::Json(json!({"data": items, "pagination": {"page": page, "limit": limit, "total": total}}))
                .into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn page_of<DB>(
    pool: &sqlx::Pool<DB>,
    company: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Value>, i64), sqlx::Error>
where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'e> &'e sqlx::Pool<DB>: sqlx::Executor<'e, Database = DB>,
    Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    String: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    chrono::DateTime<chrono::Utc>: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let total: i64 = sqlx::query(COUNT).bind(company).fetch_one(pool).await?.try_get(0)?;
    let rows = sqlx::query(PAGE).bind(company).bind(limit).bind(offset).fetch_all(pool).await?;
    let text = |row: &DB::Row, i: usize| -> Result<Value, sqlx::Error> {
        let raw: String = row.try_get(i)?;
        Ok(serde_json::from_str(&raw).unwrap_or(Value::Null))
    };
    let items = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "id": row.try_get::<Uuid, _>(0)?,
                "name": row.try_get::<String, _>(1)?,
                "genres": text(row, 2)?,
                "contacts": text(row, 3)?,
                "representation": row.try_get::<Option<String>, _>(4)?,
                "feeMin": row.try_get::<Option<i64>, _>(5)?,
                "feeMax": row.try_get::<Option<i64>, _>(6)?,
                "feeCurrency": row.try_get::<Option<String>, _>(7)?,
                "notes": row.try_get::<String, _>(8)?,
                "createdAt": row.try_get::<chrono::DateTime<chrono::Utc>, _>(9)?,
                "updatedAt": row.try_get::<chrono::DateTime<chrono::Utc>, _>(10)?,
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((items, total))
}

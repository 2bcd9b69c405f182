//! The only code that touches records and their transitions.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{
    BookedSum, Change, Edit, Kind, ParkedFact, Record, RecordFilter, Status, SummaryGroup, SystemCategory, Transition,
};

pub mod record_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub kind: String,
        pub amount: i64,
        pub currency: String,
        pub category: String,
        pub counterparty: String,
        pub event_id: Option<Uuid>,
        pub receipt_ref: Option<String>,
        pub description: String,
        pub status: String,
        pub reviewer_id: Option<Uuid>,
        pub source_id: Option<String>,
        pub entry_ids: String,
        pub quantity: i32,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod transition_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "record_transitions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub record_id: Uuid,
        pub from_status: Option<String>,
        pub to_status: String,
        pub actor_id: Uuid,
        pub note: Option<String>,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod edit_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "record_edits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub record_id: Uuid,
        pub actor_id: Uuid,
        pub changes: String,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod parked_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "parked_facts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub source_id: String,
        pub kind: String,
        pub payload: String,
        pub error_code: String,
        pub error_message: String,
        pub attempts: i32,
        pub first_at: DateTimeUtc,
        pub last_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored record is not readable: {e}"))
}

fn record_of(r: record_row::Model) -> Result<Record, DbErr> {
    Ok(Record {
        id: r.id,
        kind: Kind::parse(&r.kind).ok_or_else(|| corrupt(&r.kind))?,
        amount: r.amount,
        currency: r.currency,
        category: r.category,
        counterparty: r.counterparty,
        event_id: r.event_id,
        receipt_ref: r.receipt_ref,
        description: r.description,
        status: Status::parse(&r.status).ok_or_else(|| corrupt(&r.status))?,
        reviewer_id: r.reviewer_id,
        source_id: r.source_id,
        entry_ids: serde_json::from_str(&r.entry_ids).map_err(corrupt)?,
        quantity: u32::try_from(r.quantity).unwrap_or(0),
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn row_of(company: Uuid, r: &Record) -> Result<record_row::ActiveModel, DbErr> {
    Ok(record_row::ActiveModel {
        id: Set(r.id),
        company_id: Set(company),
        kind: Set(r.kind.as_str().to_owned()),
        amount: Set(r.amount),
        currency: Set(r.currency.clone()),
        category: Set(r.category.clone()),
        counterparty: Set(r.counterparty.clone()),
        event_id: Set(r.event_id),
        receipt_ref: Set(r.receipt_ref.clone()),
        description: Set(r.description.clone()),
        status: Set(r.status.as_str().to_owned()),
        reviewer_id: Set(r.reviewer_id),
        source_id: Set(r.source_id.clone()),
        entry_ids: Set(serde_json::to_string(&r.entry_ids).map_err(corrupt)?),
        quantity: Set(i32::try_from(r.quantity).unwrap_or(i32::MAX)),
        created_by: Set(r.created_by),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
    })
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, r: &Record) -> Result<(), DbErr> {
    record_row::Entity::insert(row_of(company, r)?).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, company: Uuid, kind: Kind, id: Uuid) -> Result<Option<Record>, DbErr> {
    record_row::Entity::find()
        .filter(record_row::Column::CompanyId.eq(company))
        .filter(record_row::Column::Kind.eq(kind.as_str()))
        .filter(record_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(record_of)
        .transpose()
}

pub async fn by_source(db: &impl ConnectionTrait, company: Uuid, source: &str) -> Result<Option<Record>, DbErr> {
    record_row::Entity::find()
        .filter(record_row::Column::CompanyId.eq(company))
        .filter(record_row::Column::SourceId.eq(source))
        .one(db)
        .await?
        .map(record_of)
        .transpose()
}

/// Writes `r` only if its stored status is still `expected`; false otherwise.
pub async fn update_if(db: &impl ConnectionTrait, company: Uuid, r: &Record, expected: Status) -> Result<bool, DbErr> {
    let done = record_row::Entity::update_many()
        .set(row_of(company, r)?)
        .filter(record_row::Column::CompanyId.eq(company))
        .filter(record_row::Column::Id.eq(r.id))
        .filter(record_row::Column::Status.eq(expected.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    kind: Kind,
    filter: &RecordFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Record>, u64), DbErr> {
    let mut query = record_row::Entity::find()
        .filter(record_row::Column::CompanyId.eq(company))
        .filter(record_row::Column::Kind.eq(kind.as_str()));
    if let Some(s) = filter.status {
        query = query.filter(record_row::Column::Status.eq(s.as_str()));
    }
    if let Some(e) = filter.event_id {
        query = query.filter(record_row::Column::EventId.eq(e));
    }
    if let Some(c) = &filter.category {
        query = query.filter(record_row::Column::Category.eq(c.as_str()));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(record_row::Column::CreatedAt)
        .order_by_desc(record_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(record_of).collect::<Result<_, _>>()?, total))
}

fn transition_of(company: Uuid, record: Uuid, t: &Transition) -> transition_row::ActiveModel {
    transition_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(company),
        record_id: Set(record),
        from_status: Set(t.from_status.map(|s| s.as_str().to_owned())),
        to_status: Set(t.to_status.as_str().to_owned()),
        actor_id: Set(t.actor_id),
        note: Set(t.note.clone()),
        at: Set(t.at),
    }
}

/// Records of a group, each with its company and its first transition, in
/// one statement for the records and one for the transitions.
pub async fn insert_group(db: &impl ConnectionTrait, group: &[(Uuid, &Record, Transition)]) -> Result<(), DbErr> {
    if group.is_empty() {
        return Ok(());
    }
    let rows = group.iter().map(|(company, r, _)| row_of(*company, r)).collect::<Result<Vec<_>, _>>()?;
    record_row::Entity::insert_many(rows).exec_without_returning(db).await?;
    let transitions = group.iter().map(|(company, r, t)| transition_of(*company, r.id, t));
    transition_row::Entity::insert_many(transitions).exec_without_returning(db).await?;
    Ok(())
}

/// The records already made from these facts ((company, source) pairs), each
/// with its company.
pub async fn by_sources(db: &impl ConnectionTrait, sources: &[(Uuid, &str)]) -> Result<Vec<(Uuid, Record)>, DbErr> {
    let pairs: Vec<(Uuid, String)> = sources.iter().map(|(c, s)| (*c, (*s).to_owned())).collect();
    let taken: Vec<(Uuid, String)> = marquee_db::taken_pairs::<record_row::Entity>(
        db,
        record_row::Column::CompanyId,
        record_row::Column::SourceId,
        &pairs,
    )
    .await?
    .into_iter()
    .collect();
    // Most facts are new: the records themselves are read only for replays.
    if taken.is_empty() {
        return Ok(Vec::new());
    }
    record_row::Entity::find()
        .filter(marquee_db::per_company(&taken, record_row::Column::CompanyId, record_row::Column::SourceId))
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let company = r.company_id;
            record_of(r).map(|record| (company, record))
        })
        .collect()
}

/// Forgets the parked facts that are recorded now, in one statement.
pub async fn unpark_many(db: &impl ConnectionTrait, sources: &[(Uuid, &str)]) -> Result<(), DbErr> {
    if sources.is_empty() {
        return Ok(());
    }
    parked_row::Entity::delete_many()
        .filter(marquee_db::per_company(sources, parked_row::Column::CompanyId, parked_row::Column::SourceId))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert_transition(
    db: &impl ConnectionTrait,
    company: Uuid,
    record: Uuid,
    t: &Transition,
) -> Result<(), DbErr> {
    transition_of(company, record, t).insert(db).await?;
    Ok(())
}

pub async fn transitions(db: &impl ConnectionTrait, company: Uuid, record: Uuid) -> Result<Vec<Transition>, DbErr> {
    transition_row::Entity::find()
        .filter(transition_row::Column::CompanyId.eq(company))
        .filter(transition_row::Column::RecordId.eq(record))
        .order_by_asc(transition_row::Column::At)
        .order_by_asc(transition_row::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|t| {
            Ok(Transition {
                from_status: t
                    .from_status
                    .as_deref()
                    .map(|s| Status::parse(s).ok_or_else(|| corrupt(s)))
                    .transpose()?,
                to_status: Status::parse(&t.to_status).ok_or_else(|| corrupt(&t.to_status))?,
                actor_id: t.actor_id,
                note: t.note,
                at: t.at,
            })
        })
        .collect()
}

/// Amounts are summed in two parts split here, each part's sum far inside
/// i64 for any number of rows (an amount is at most 10^15), and joined in
/// i128: a total never overflows in the database, on either backend.
const SPLIT: i64 = 1_000_000_000;

fn high_low_quantity<Q: QuerySelect>(query: Q) -> Q {
    query
        .expr_as(Expr::cust(format!("CAST(SUM(amount / {SPLIT}) AS BIGINT)")), "high")
        .expr_as(Expr::cust(format!("CAST(SUM(amount % {SPLIT}) AS BIGINT)")), "low")
        .expr_as(Expr::cust("CAST(SUM(quantity) AS BIGINT)"), "quantity")
}

fn joined(high: i64, low: i64) -> i128 {
    i128::from(high) * i128::from(SPLIT) + i128::from(low)
}

fn booked() -> sea_orm::sea_query::SimpleExpr {
    record_row::Column::Status.is_in([Status::Approved.as_str(), Status::Paid.as_str()])
}

/// The company's booked records created in `[from, to)`, summed per group,
/// currency and kind in the database (one statement, whatever the count).
pub async fn booked_sums(
    db: &impl ConnectionTrait,
    company: Uuid,
    from: Option<DateTimeUtc>,
    to: Option<DateTimeUtc>,
    group: SummaryGroup,
) -> Result<Vec<BookedSum>, DbErr> {
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    let mut query =
        record_row::Entity::find().select_only().filter(record_row::Column::CompanyId.eq(company)).filter(booked());
    if let Some(from) = from {
        query = query.filter(record_row::Column::CreatedAt.gte(from));
    }
    if let Some(to) = to {
        query = query.filter(record_row::Column::CreatedAt.lt(to));
    }
    let by = |query: sea_orm::Select<record_row::Entity>, expr: sea_orm::sea_query::SimpleExpr| {
        high_low_quantity(
            query
                .expr_as(expr.clone(), "grp")
                .column(record_row::Column::Currency)
                .column(record_row::Column::Kind)
                .group_by(expr)
                .group_by(record_row::Column::Currency)
                .group_by(record_row::Column::Kind),
        )
    };
    let rows: Vec<(String, String, String, i64, i64, i64)> = match group {
        SummaryGroup::Category => by(query, Expr::col(record_row::Column::Category)).into_tuple().all(db).await?,
        // SQLite keeps times as RFC 3339 text in UTC: its first seven
        // characters are the month.
        SummaryGroup::Month if postgres => {
            by(query, Expr::cust("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')")).into_tuple().all(db).await?
        }
        SummaryGroup::Month => by(query, Expr::cust("substr(created_at, 1, 7)")).into_tuple().all(db).await?,
        SummaryGroup::Event => {
            let rows: Vec<(Option<Uuid>, String, String, i64, i64, i64)> =
                by(query, Expr::col(record_row::Column::EventId)).into_tuple().all(db).await?;
            rows.into_iter()
                .map(|(event, currency, kind, high, low, quantity)| {
                    (event.map_or_else(|| "none".to_owned(), |e| e.to_string()), currency, kind, high, low, quantity)
                })
                .collect()
        }
    };
    rows.into_iter()
        .map(|(group, currency, kind, high, low, quantity)| {
            Ok(BookedSum {
                group,
                currency,
                kind: Kind::parse(&kind).ok_or_else(|| corrupt(&kind))?,
                amount: joined(high, low),
                quantity,
            })
        })
        .collect()
}

/// Ticket money is income `ticket_sale` and expense `ticket_refund`: the
/// rows an event has by the thousand.
fn ticket_money() -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(
            record_row::Column::Kind
                .eq(Kind::Income.as_str())
                .and(record_row::Column::Category.eq(SystemCategory::TicketSale.as_str())),
        )
        .add(
            record_row::Column::Kind
                .eq(Kind::Expense.as_str())
                .and(record_row::Column::Category.eq(SystemCategory::TicketRefund.as_str())),
        )
}

/// An event's booked ticket money in `currency`: (sales, tickets sold),
/// (refunds, tickets refunded), summed by the database.
pub async fn ticket_sums(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    currency: &str,
) -> Result<((i128, i64), (i128, i64)), DbErr> {
    let rows: Vec<(String, i64, i64, i64)> = high_low_quantity(
        record_row::Entity::find()
            .select_only()
            .column(record_row::Column::Kind)
            .filter(record_row::Column::CompanyId.eq(company))
            .filter(record_row::Column::EventId.eq(event))
            .filter(record_row::Column::Currency.eq(currency))
            .filter(booked())
            .filter(ticket_money())
            .group_by(record_row::Column::Kind),
    )
    .into_tuple()
    .all(db)
    .await?;
    let (mut sales, mut refunds) = ((0, 0), (0, 0));
    for (kind, high, low, quantity) in rows {
        let sum = (joined(high, low), quantity);
        if kind == Kind::Income.as_str() { sales = sum } else { refunds = sum }
    }
    Ok((sales, refunds))
}

/// The company's records meeting `condition`, oldest first.
async fn records_where(
    db: &impl ConnectionTrait,
    company: Uuid,
    condition: sea_orm::Condition,
) -> Result<Vec<Record>, DbErr> {
    record_row::Entity::find()
        .filter(record_row::Column::CompanyId.eq(company))
        .filter(condition)
        .order_by_asc(record_row::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(record_of)
        .collect()
}

/// An event's records other than its ticket money (fees, expenses: a few).
pub async fn all_but_ticket_money(db: &impl ConnectionTrait, company: Uuid, event: Uuid) -> Result<Vec<Record>, DbErr> {
    let condition = sea_orm::Condition::all().add(record_row::Column::EventId.eq(event)).add(ticket_money().not());
    records_where(db, company, condition).await
}

/// The company's approved expenses not yet paid, oldest first.
pub async fn open_payables(db: &impl ConnectionTrait, company: Uuid) -> Result<Vec<Record>, DbErr> {
    let condition = sea_orm::Condition::all()
        .add(record_row::Column::Kind.eq(Kind::Expense.as_str()))
        .add(record_row::Column::Status.eq(Status::Approved.as_str()));
    records_where(db, company, condition).await
}

pub async fn insert_edit(db: &impl ConnectionTrait, company: Uuid, record: Uuid, e: &Edit) -> Result<(), DbErr> {
    edit_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(company),
        record_id: Set(record),
        actor_id: Set(e.actor_id),
        changes: Set(serde_json::to_string(&e.changes).map_err(corrupt)?),
        at: Set(e.at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn edits(db: &impl ConnectionTrait, company: Uuid, record: Uuid) -> Result<Vec<Edit>, DbErr> {
    edit_row::Entity::find()
        .filter(edit_row::Column::CompanyId.eq(company))
        .filter(edit_row::Column::RecordId.eq(record))
        .order_by_asc(edit_row::Column::At)
        .order_by_asc(edit_row::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| {
            let changes: std::collections::BTreeMap<String, Change> =
                serde_json::from_str(&e.changes).map_err(corrupt)?;
            Ok(Edit { actor_id: e.actor_id, at: e.at, changes })
        })
        .collect()
}

/// What a parked fact is stored as.
pub struct Parking<'a> {
    pub source_id: &'a str,
    pub kind: &'a str,
    pub payload: serde_json::Value,
    pub error_code: &'a str,
    pub error_message: String,
}

/// Parks a fact, or counts one more attempt of one already parked (with the
/// latest refusal); answers it as stored.
pub async fn park(
    db: &impl ConnectionTrait,
    company: Uuid,
    p: Parking<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ParkedFact, DbErr> {
    use sea_orm::sea_query::OnConflict;
    let payload = serde_json::to_string(&p.payload).map_err(corrupt)?;
    let row = parked_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(company),
        source_id: Set(p.source_id.to_owned()),
        kind: Set(p.kind.to_owned()),
        payload: Set(payload),
        error_code: Set(p.error_code.to_owned()),
        error_message: Set(p.error_message),
        attempts: Set(1),
        first_at: Set(now),
        last_at: Set(now),
    };
    parked_row::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([parked_row::Column::CompanyId, parked_row::Column::SourceId])
                .update_columns([
                    parked_row::Column::Payload,
                    parked_row::Column::ErrorCode,
                    parked_row::Column::ErrorMessage,
                    parked_row::Column::LastAt,
                ])
                .value(
                    parked_row::Column::Attempts,
                    Expr::col((parked_row::Entity, parked_row::Column::Attempts)).add(1),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    parked_row::Entity::find()
        .filter(parked_row::Column::CompanyId.eq(company))
        .filter(parked_row::Column::SourceId.eq(p.source_id))
        .one(db)
        .await?
        .map(parked_of)
        .transpose()?
        .ok_or_else(|| DbErr::RecordNotFound("parked fact".to_owned()))
}

/// Forgets a parked fact once it has been recorded after all.
pub async fn unpark(db: &impl ConnectionTrait, company: Uuid, source: &str) -> Result<(), DbErr> {
    parked_row::Entity::delete_many()
        .filter(parked_row::Column::CompanyId.eq(company))
        .filter(parked_row::Column::SourceId.eq(source))
        .exec(db)
        .await?;
    Ok(())
}

fn parked_of(r: parked_row::Model) -> Result<ParkedFact, DbErr> {
    Ok(ParkedFact {
        id: r.id,
        source_id: r.source_id,
        kind: r.kind,
        fact: serde_json::from_str(&r.payload).map_err(corrupt)?,
        error: r.error_code,
        message: r.error_message,
        attempts: r.attempts,
        first_at: r.first_at,
        last_at: r.last_at,
    })
}

pub async fn parked(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<ParkedFact>, u64), DbErr> {
    let query = parked_row::Entity::find().filter(parked_row::Column::CompanyId.eq(company));
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(parked_row::Column::LastAt)
        .order_by_desc(parked_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(parked_of).collect::<Result<_, _>>()?, total))
}

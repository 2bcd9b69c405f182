//! The only code that touches the ledger tables; every query is scoped by company.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Select, Set, Statement};
use serde_json::json;

use super::model::{Account, Direction, Entry, Kind, Posting};

pub mod account_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub code: String,
        pub name: String,
        pub kind: String,
        pub currency: String,
        pub no_negative: bool,
        pub balance: i64,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod entry_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "journal_entries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub description: String,
        pub effective_date: Date,
        pub reference: Option<String>,
        pub idempotency_key: Option<String>,
        pub request_hash: Option<String>,
        pub reverses_id: Option<Uuid>,
        pub reversed_by_id: Option<Uuid>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod posting_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "postings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub entry_id: Uuid,
        pub account_id: Uuid,
        pub amount: i64,
        pub currency: String,
        pub effective_date: Date,
        pub seq: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored ledger data is not readable: {e}"))
}

fn account_of(r: account_row::Model) -> Result<Account, DbErr> {
    let kind = Kind::parse(&r.kind).ok_or_else(|| corrupt(&r.kind))?;
    Ok(Account {
        id: r.id,
        code: r.code,
        name: r.name,
        kind,
        currency: r.currency,
        no_negative: r.no_negative,
        balance: kind.natural(r.balance),
        created_at: r.created_at,
    })
}

pub fn accounts_of(company: Uuid) -> Select<account_row::Entity> {
    account_row::Entity::find().filter(account_row::Column::CompanyId.eq(company))
}

pub async fn insert_account(db: &impl ConnectionTrait, company: Uuid, a: &Account, by: Uuid) -> Result<(), DbErr> {
    account_row::ActiveModel {
        id: Set(a.id),
        company_id: Set(company),
        code: Set(a.code.clone()),
        name: Set(a.name.clone()),
        kind: Set(a.kind.as_str().to_owned()),
        currency: Set(a.currency.clone()),
        no_negative: Set(a.no_negative),
        balance: Set(0),
        created_by: Set(by),
        created_at: Set(a.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn account_by_code(db: &impl ConnectionTrait, company: Uuid, code: &str) -> Result<Option<Account>, DbErr> {
    accounts_of(company).filter(account_row::Column::Code.eq(code)).one(db).await?.map(account_of).transpose()
}

/// Inserts unless an account with the same code exists (concurrent first uses).
pub async fn insert_account_if_absent(db: &impl ConnectionTrait, company: Uuid, a: &Account) -> Result<(), DbErr> {
    use sea_orm::sea_query::OnConflict;
    let row = account_row::ActiveModel {
        id: Set(a.id),
        company_id: Set(company),
        code: Set(a.code.clone()),
        name: Set(a.name.clone()),
        kind: Set(a.kind.as_str().to_owned()),
        currency: Set(a.currency.clone()),
        no_negative: Set(false),
        balance: Set(0),
        created_by: Set(Uuid::nil()),
        created_at: Set(a.created_at),
    };
    account_row::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([account_row::Column::CompanyId, account_row::Column::Code]).do_nothing().to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn account(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Account>, DbErr> {
    accounts_of(company).filter(account_row::Column::Id.eq(id)).one(db).await?.map(account_of).transpose()
}

pub async fn accounts_by_ids(db: &impl ConnectionTrait, company: Uuid, ids: &[Uuid]) -> Result<Vec<Account>, DbErr> {
    accounts_of(company)
        .filter(account_row::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(account_of)
        .collect()
}

pub async fn accounts(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Account>, u64), DbErr> {
    let query = accounts_of(company);
    let total = query.clone().count(db).await?;
    let rows = query.order_by_asc(account_row::Column::Code).offset(offset).limit(limit).all(db).await?;
    Ok((rows.into_iter().map(account_of).collect::<Result<_, _>>()?, total))
}

pub async fn all_accounts(db: &impl ConnectionTrait, company: Uuid) -> Result<Vec<Account>, DbErr> {
    accounts_of(company).order_by_asc(account_row::Column::Code).all(db).await?.into_iter().map(account_of).collect()
}

/// Adds `delta` (debit-positive) to the balance in one atomic statement that
/// also holds the row lock; for a guarded account only if its natural balance
/// stays at or above zero. False when the guard refused.
pub async fn apply(db: &impl ConnectionTrait, company: Uuid, account: &Account, delta: i64) -> Result<bool, DbErr> {
    let mut update = account_row::Entity::update_many()
        .col_expr(account_row::Column::Balance, Expr::col(account_row::Column::Balance).add(delta))
        .filter(account_row::Column::CompanyId.eq(company))
        .filter(account_row::Column::Id.eq(account.id));
    if account.no_negative {
        let after = Expr::col(account_row::Column::Balance).add(delta);
        update = if account.kind.debit_normal() { update.filter(after.gte(0)) } else { update.filter(after.lte(0)) };
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

fn direction_of(amount: i64) -> (Direction, i64) {
    if amount >= 0 { (Direction::Debit, amount) } else { (Direction::Credit, amount.saturating_neg()) }
}

fn entry_of(r: entry_row::Model, postings: Vec<posting_row::Model>) -> Entry {
    Entry {
        id: r.id,
        description: r.description,
        effective_date: r.effective_date,
        reference: r.reference,
        idempotency_key: r.idempotency_key,
        reverses_id: r.reverses_id,
        reversed_by_id: r.reversed_by_id,
        postings: postings
            .into_iter()
            .map(|p| {
                let (direction, amount) = direction_of(p.amount);
                Posting { account_id: p.account_id, direction, amount, currency: p.currency }
            })
            .collect(),
        created_by: r.created_by,
        created_at: r.created_at,
    }
}

pub async fn insert_entry(
    db: &impl ConnectionTrait,
    company: Uuid,
    e: &Entry,
    request_hash: Option<String>,
) -> Result<(), DbErr> {
    insert_entries(db, &[(company, e, request_hash)]).await
}

/// Postings per insert: 8 values each stays far below SQLite's and
/// PostgreSQL's limits on the values of one statement.
const POSTINGS_PER_INSERT: usize = 1_000;

/// Writes entries with their postings: one insert for the entries, one per
/// thousand postings.
pub async fn insert_entries(
    db: &impl ConnectionTrait,
    entries: &[(Uuid, &Entry, Option<String>)],
) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    if on_postgres(db) {
        return write_rows(db, &[], entries).await;
    }
    let rows = entries.iter().map(|(company, e, request_hash)| entry_row::ActiveModel {
        id: Set(e.id),
        company_id: Set(*company),
        description: Set(e.description.clone()),
        effective_date: Set(e.effective_date),
        reference: Set(e.reference.clone()),
        idempotency_key: Set(e.idempotency_key.clone()),
        request_hash: Set(request_hash.clone()),
        reverses_id: Set(e.reverses_id),
        reversed_by_id: Set(None),
        created_by: Set(e.created_by),
        created_at: Set(e.created_at),
    });
    entry_row::Entity::insert_many(rows).exec_without_returning(db).await?;
    let postings: Vec<posting_row::ActiveModel> = entries
        .iter()
        .flat_map(|(company, e, _)| {
            e.postings.iter().enumerate().map(|(i, p)| posting_row::ActiveModel {
                id: Set(Uuid::now_v7()),
                company_id: Set(*company),
                entry_id: Set(e.id),
                account_id: Set(p.account_id),
                amount: Set(stored_amount(p)),
                currency: Set(p.currency.clone()),
                effective_date: Set(e.effective_date),
                seq: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            })
        })
        .collect();
    for chunk in postings.chunks(POSTINGS_PER_INSERT) {
        posting_row::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

/// A posting's amount as stored: debits positive, credits negative.
fn stored_amount(p: &Posting) -> i64 {
    if p.direction == Direction::Debit { p.amount } else { -p.amount }
}

/// Whether `db` is PostgreSQL, where a group's rows travel as one JSON
/// parameter (`jsonb_to_recordset`): the statement's text is then the same
/// for any number of rows. A batch's statements are planned for each batch
/// ([`marquee_db::begin_batch`]), and planning a statement that spells out a
/// hundred values (a multi-row insert, an `IN` list, a `CASE` per account)
/// took PostgreSQL longer than running it: half its CPU under the ledger's load.
fn on_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// Moves balances (of accounts whose row locks this transaction holds; as
/// stored, debit-positive) and writes entries with their postings: on
/// PostgreSQL in one statement (each part travels as one JSON parameter),
/// elsewhere with [`set_balances`] and [`insert_entries`].
pub async fn write_group(
    db: &impl ConnectionTrait,
    balances: &[(Uuid, i64)],
    entries: &[(Uuid, &Entry, Option<String>)],
) -> Result<(), DbErr> {
    if on_postgres(db) {
        return write_rows(db, balances, entries).await;
    }
    set_balances(db, balances).await?;
    insert_entries(db, entries).await
}

/// [`write_group`] on PostgreSQL. The data-modifying parts of one statement
/// all run; a posting's reference to its entry is checked at the
/// statement's end, when the entry is there.
async fn write_rows(
    db: &impl ConnectionTrait,
    balances: &[(Uuid, i64)],
    entries: &[(Uuid, &Entry, Option<String>)],
) -> Result<(), DbErr> {
    if balances.is_empty() && entries.is_empty() {
        return Ok(());
    }
    // The balances as arrays, so that each account is updated through its
    // key (see [`lock_accounts`]).
    let ids = array_literal(balances.iter().map(|(id, _)| id));
    let values = array_literal(balances.iter().map(|(_, balance)| balance));
    let (entries, postings) = entry_rows(entries);
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "WITH balances AS (UPDATE accounts a SET balance = v.balance \
         FROM unnest($1::uuid[], $2::bigint[]) AS v(id, balance) WHERE a.id = v.id), \
         entries AS (INSERT INTO journal_entries (id, company_id, description, effective_date, reference, \
         idempotency_key, request_hash, reverses_id, reversed_by_id, created_by, created_at) \
         SELECT id, company_id, description, effective_date, reference, idempotency_key, request_hash, reverses_id, \
         NULL, created_by, created_at FROM jsonb_to_recordset($3) AS r(id uuid, company_id uuid, description text, \
         effective_date date, reference text, idempotency_key text, request_hash text, reverses_id uuid, \
         created_by uuid, created_at timestamptz)) \
         INSERT INTO postings (id, company_id, entry_id, account_id, amount, currency, effective_date, seq) \
         SELECT id, company_id, entry_id, account_id, amount, currency, effective_date, seq \
         FROM jsonb_to_recordset($4) AS r(id uuid, company_id uuid, entry_id uuid, account_id uuid, amount bigint, \
         currency text, effective_date date, seq int)",
        [ids.into(), values.into(), marquee_db::json_rows(entries), marquee_db::json_rows(postings)],
    ))
    .await?;
    Ok(())
}

/// Values as a PostgreSQL array literal (`{a,b}`), for a parameter cast to
/// an array: for uuids and numbers, whose text needs no quoting.
fn array_literal<T: std::fmt::Display>(values: impl IntoIterator<Item = T>) -> String {
    format!("{{{}}}", values.into_iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","))
}

/// Entries and their postings as JSON rows for `jsonb_to_recordset`.
fn entry_rows(entries: &[(Uuid, &Entry, Option<String>)]) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let rows = entries
        .iter()
        .map(|(company, e, request_hash)| {
            json!({
                "id": e.id, "company_id": company, "description": e.description,
                "effective_date": e.effective_date, "reference": e.reference,
                "idempotency_key": e.idempotency_key, "request_hash": request_hash,
                "reverses_id": e.reverses_id, "created_by": e.created_by, "created_at": marquee_db::micros(&e.created_at),
            })
        })
        .collect();
    let postings = entries
        .iter()
        .flat_map(|(company, e, _)| {
            e.postings.iter().enumerate().map(move |(i, p)| {
                json!({
                    "id": Uuid::now_v7(), "company_id": company, "entry_id": e.id, "account_id": p.account_id,
                    "amount": stored_amount(p), "currency": p.currency, "effective_date": e.effective_date, "seq": i,
                })
            })
        })
        .collect();
    (rows, postings)
}

/// An account read under its row lock, with the company it belongs to and
/// its balance as stored (debit-positive).
pub struct Locked {
    pub company_id: Uuid,
    pub account: Account,
    pub stored: i64,
    /// Whether a write in this transaction changed `stored`.
    pub moved: bool,
}

/// Reads the accounts and holds their row locks until the transaction ends,
/// taken in id order so that two writers never wait on each other in a
/// circle; each company's accounts only among the ids it named. (SQLite has
/// no row locks: its one writer already excludes others.) The lock is the
/// one an update of the balance takes, so inserting postings that refer to
/// the account is not held up.
pub async fn lock_accounts(db: &impl ConnectionTrait, named: &[(Uuid, Uuid)]) -> Result<Vec<Locked>, DbErr> {
    use sea_orm::sea_query::LockType;
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let rows = if on_postgres(db) {
        // Arrays, not a JSON set: the planner knows an array's length and
        // finds each account by its key, where it took a JSON set for a
        // hundred rows and hashed every account of every company instead.
        let ids = array_literal(named.iter().map(|(_, id)| id).collect::<BTreeSet<_>>());
        let companies = array_literal(named.iter().map(|(company, _)| company).collect::<BTreeSet<_>>());
        let found = account_row::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT * FROM accounts WHERE id = ANY($1::uuid[]) AND company_id = ANY($2::uuid[]) \
                 ORDER BY id FOR NO KEY UPDATE",
                [ids.into(), companies.into()],
            ))
            .all(db)
            .await?;
        // The arrays also match an account of one company in the batch that
        // another one named: it stays locked till the commit, never answered.
        let named: BTreeSet<&(Uuid, Uuid)> = named.iter().collect();
        found.into_iter().filter(|r| named.contains(&(r.company_id, r.id))).collect()
    } else {
        account_row::Entity::find()
            .filter(marquee_db::per_company(named, account_row::Column::CompanyId, account_row::Column::Id))
            .order_by_asc(account_row::Column::Id)
            .lock(LockType::NoKeyUpdate)
            .all(db)
            .await?
    };
    rows.into_iter()
        .map(|r| {
            let (company_id, stored) = (r.company_id, r.balance);
            Ok(Locked { company_id, stored, moved: false, account: account_of(r)? })
        })
        .collect()
}

/// Which of these (company, idempotency key) pairs already name an entry.
pub async fn taken_keys(
    db: &impl ConnectionTrait,
    keys: &[(Uuid, String)],
) -> Result<std::collections::HashSet<(Uuid, String)>, DbErr> {
    marquee_db::taken_pairs::<entry_row::Entity>(
        db,
        entry_row::Column::CompanyId,
        entry_row::Column::IdempotencyKey,
        keys,
    )
    .await
}

/// Sets balances (debit-positive, as stored) of accounts whose row locks this
/// transaction holds, in one statement (SQLite; PostgreSQL moves them with the
/// entries, [`write_group`]).
async fn set_balances(db: &impl ConnectionTrait, balances: &[(Uuid, i64)]) -> Result<(), DbErr> {
    let Some(((first, value), rest)) = balances.split_first() else { return Ok(()) };
    let mut case = sea_orm::sea_query::CaseStatement::new().case(account_row::Column::Id.eq(*first), *value);
    for (id, value) in rest {
        case = case.case(account_row::Column::Id.eq(*id), *value);
    }
    account_row::Entity::update_many()
        .col_expr(account_row::Column::Balance, case.finally(Expr::col(account_row::Column::Balance)).into())
        .filter(account_row::Column::Id.is_in(balances.iter().map(|(id, _)| *id)))
        .exec(db)
        .await?;
    Ok(())
}

async fn hydrate(db: &impl ConnectionTrait, rows: Vec<entry_row::Model>) -> Result<Vec<Entry>, DbErr> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut postings = posting_row::Entity::find()
        .filter(posting_row::Column::EntryId.is_in(ids))
        .order_by_asc(posting_row::Column::Seq)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine: Vec<_> = postings.extract_if(.., |p| p.entry_id == r.id).collect();
            entry_of(r, mine)
        })
        .collect())
}

pub async fn entry(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Entry>, DbErr> {
    let Some(row) = entry_row::Entity::find()
        .filter(entry_row::Column::CompanyId.eq(company))
        .filter(entry_row::Column::Id.eq(id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(hydrate(db, vec![row]).await?.pop())
}

/// The entry recorded under an idempotency key, with the hash of its request.
pub async fn by_idempotency_key(
    db: &impl ConnectionTrait,
    company: Uuid,
    key: &str,
) -> Result<Option<(Entry, Option<String>)>, DbErr> {
    let Some(row) = entry_row::Entity::find()
        .filter(entry_row::Column::CompanyId.eq(company))
        .filter(entry_row::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let hash = row.request_hash.clone();
    Ok(hydrate(db, vec![row]).await?.pop().map(|e| (e, hash)))
}

pub async fn entries(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Entry>, u64), DbErr> {
    let query = entry_row::Entity::find().filter(entry_row::Column::CompanyId.eq(company));
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(entry_row::Column::EffectiveDate)
        .order_by_desc(entry_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((hydrate(db, rows).await?, total))
}

/// Marks `original` reversed by `reversal`, once; false if it already was.
pub async fn mark_reversed(
    db: &impl ConnectionTrait,
    company: Uuid,
    original: Uuid,
    reversal: Uuid,
) -> Result<bool, DbErr> {
    let done = entry_row::Entity::update_many()
        .col_expr(entry_row::Column::ReversedById, Expr::value(reversal))
        .filter(entry_row::Column::CompanyId.eq(company))
        .filter(entry_row::Column::Id.eq(original))
        .filter(entry_row::Column::ReversedById.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The debit-positive sum of the account's postings effective on or before `at`.
pub async fn balance_at(db: &impl ConnectionTrait, company: Uuid, account: Uuid, at: NaiveDate) -> Result<i64, DbErr> {
    let amounts: Vec<i64> = posting_row::Entity::find()
        .select_only()
        .column(posting_row::Column::Amount)
        .filter(posting_row::Column::CompanyId.eq(company))
        .filter(posting_row::Column::AccountId.eq(account))
        .filter(posting_row::Column::EffectiveDate.lte(at))
        .into_tuple()
        .all(db)
        .await?;
    Ok(amounts.into_iter().fold(0i64, i64::saturating_add))
}

/// A page of the account's postings in date order, with what came before it.
pub async fn statement(
    db: &impl ConnectionTrait,
    company: Uuid,
    account: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(i64, Vec<(posting_row::Model, String)>, u64), DbErr> {
    let query = posting_row::Entity::find()
        .filter(posting_row::Column::CompanyId.eq(company))
        .filter(posting_row::Column::AccountId.eq(account))
        .order_by_asc(posting_row::Column::EffectiveDate)
        .order_by_asc(posting_row::Column::Id);
    let total = query.clone().count(db).await?;
    let before: Vec<i64> =
        query.clone().select_only().column(posting_row::Column::Amount).limit(offset).into_tuple().all(db).await?;
    let opening = before.into_iter().fold(0i64, i64::saturating_add);
    let page = query.offset(offset).limit(limit).all(db).await?;
    let entry_ids: Vec<Uuid> = page.iter().map(|p| p.entry_id).collect();
    let descriptions: std::collections::HashMap<Uuid, String> = entry_row::Entity::find()
        .filter(entry_row::Column::Id.is_in(entry_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e.description))
        .collect();
    let lines = page
        .into_iter()
        .map(|p| {
            let d = descriptions.get(&p.entry_id).cloned().unwrap_or_default();
            (p, d)
        })
        .collect();
    Ok((opening, lines, total))
}

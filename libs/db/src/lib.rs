//! One way to open a database from a URL (`sqlite://…` or `postgres://…`) and
//! one place where database errors are classified.

use std::time::Duration;

#[cfg(test)]
use sea_orm::TransactionTrait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr, SqlErr};

pub use sea_orm;

pub mod group_commit;
pub use group_commit::{BatchFailed, Batching, GroupCommit, begin_batch, commit_batch, plan_as_usual, settle};

/// A batch's rows bound as one PostgreSQL parameter, for `jsonb_to_recordset`:
/// the statement's text, and so its plan, is then the same for any number
/// of rows, where one that spells out its values is planned again for each.
pub fn json_rows(rows: Vec<serde_json::Value>) -> sea_orm::Value {
    sea_orm::Value::from(serde_json::Value::Array(rows))
}

/// A timestamp inside [`json_rows`]: to the microsecond, as PostgreSQL keeps
/// it and as a bound timestamp is cut.
pub fn micros(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Which (company, value) pairs already name a row of `E` (a group commit's
/// idempotency keys or sources), `column` being unique per company.
///
/// On PostgreSQL the pairs travel as one JSON parameter, each looked up on
/// its own through the unique index: one short statement whatever their
/// number. A plain join is planned for a hundred pairs (all the planner
/// assumes of a set-returning function), and while the table holds fewer
/// than some tens of thousands of rows, hashing all of them looks cheaper
/// than a hundred index lookups: each batch read the whole table, slower
/// with every row (measured: 3 ms of a ledger batch's 6 at 23,000 entries,
/// for a batch that names one key). A `UNION ALL` of one lookup per pair,
/// planned afresh for every batch, took a quarter of a ledger batch's time.
/// SQLite gets that union (one statement per hundred pairs): an equality on
/// every column of a unique index is always an index lookup there.
pub async fn taken_pairs<E: sea_orm::EntityTrait>(
    db: &impl ConnectionTrait,
    company: E::Column,
    column: E::Column,
    pairs: &[(uuid::Uuid, String)],
) -> Result<std::collections::HashSet<(uuid::Uuid, String)>, DbErr> {
    use sea_orm::sea_query::UnionType;
    use sea_orm::{ColumnTrait, IdenStatic, QueryFilter, QuerySelect, QueryTrait};
    let mut found = std::collections::HashSet::new();
    let mut collect = |rows: Vec<sea_orm::QueryResult>| -> Result<(), DbErr> {
        for row in rows {
            let c: uuid::Uuid = row.try_get_by_index(0)?;
            if let Some(v) = row.try_get_by_index::<Option<String>>(1)? {
                found.insert((c, v));
            }
        }
        Ok(())
    };
    if pairs.is_empty() {
        return Ok(found);
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Names from the entity's definition, never from input.
        let (table, c, v) = (E::default().table_name(), company.as_str(), column.as_str());
        let rows: Vec<serde_json::Value> =
            pairs.iter().map(|(company, value)| serde_json::json!({"c": company, "v": value})).collect();
        let statement = sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT k.c, k.v FROM jsonb_to_recordset($1) AS k(c uuid, v text) CROSS JOIN LATERAL \
                 (SELECT 1 FROM \"{table}\" t WHERE t.\"{c}\" = k.c AND t.\"{v}\" = k.v OFFSET 0) AS found"
            ),
            [json_rows(rows)],
        );
        collect(db.query_all_raw(statement).await?)?;
        return Ok(found);
    }
    for chunk in pairs.chunks(100) {
        let mut lookups = chunk.iter().map(|(c, v)| {
            E::find()
                .select_only()
                .column(company)
                .column(column)
                .filter(company.eq(*c))
                .filter(column.eq(v.as_str()))
                .into_query()
        });
        let Some(mut statement) = lookups.next() else { continue };
        for lookup in lookups {
            statement.union(UnionType::All, lookup);
        }
        collect(db.query_all_raw(db.get_database_backend().build(&statement)).await?)?;
    }
    Ok(found)
}

/// Rows named by (company, value) pairs: `company = c AND column IN (…)` per
/// company. Written as one `(company = c AND column = v) OR …` per pair
/// instead, PostgreSQL takes the shared company out of the disjunction and
/// reads every row of the company, checking each against every value: a
/// lookup that slows as the company's rows grow.
pub fn per_company<C, V>(pairs: &[(uuid::Uuid, V)], company: C, column: C) -> sea_orm::Condition
where
    C: sea_orm::ColumnTrait,
    V: Into<sea_orm::Value> + Clone,
{
    use sea_orm::ExprTrait;
    let mut by_company: std::collections::BTreeMap<uuid::Uuid, Vec<V>> = Default::default();
    for (c, v) in pairs {
        by_company.entry(*c).or_default().push(v.clone());
    }
    by_company
        .into_iter()
        .fold(sea_orm::Condition::any(), |any, (c, values)| any.add(company.eq(c).and(column.is_in(values))))
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique or foreign-key constraint refused the write.
    #[error("constraint {constraint} refused the write")]
    Conflict { constraint: String },
    /// The database cannot be reached or is too busy right now.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Unexpected(DbErr),
}

impl From<DbErr> for DbError {
    fn from(e: DbErr) -> Self {
        classify(e)
    }
}

/// Sorts a sea-orm error into what a caller can act on.
/// Gives a service's error enum, with its `Invalid(Vec<FieldIssue>)` and
/// `Db(DbError)` variants, what every service's has: `Error::field` for one
/// bad field, and `?` on any sea-orm error (classified once, here).
#[macro_export]
macro_rules! service_error {
    ($error:ty) => {
        impl $error {
            pub fn field(field: &str, issue: impl Into<String>) -> Self {
                Self::Invalid(vec![::marquee_kit::FieldIssue::new(field, issue)])
            }
        }

        impl From<$crate::sea_orm::DbErr> for $error {
            fn from(e: $crate::sea_orm::DbErr) -> Self {
                Self::Db($crate::classify(e))
            }
        }
    };
}

pub fn classify(e: DbErr) -> DbError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(c)) | Some(SqlErr::ForeignKeyConstraintViolation(c)) => {
            return DbError::Conflict { constraint: c };
        }
        Some(_) | None => {}
    }
    match &e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => DbError::Unavailable(e.to_string()),
        DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause))
            if connection_lost(cause) =>
        {
            DbError::Unavailable(e.to_string())
        }
        _ => DbError::Unexpected(e),
    }
}

/// Whether a connection from the pool turned out to be dead (the server
/// dropped it): another one may work at once. Not a pool that timed out or
/// closed, which another try would only wait on again.
pub(crate) fn dead_connection(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(cause))
        | DbErr::Exec(RuntimeErr::SqlxError(cause))
        | DbErr::Query(RuntimeErr::SqlxError(cause)) => {
            !matches!(cause.as_ref(), Error::PoolTimedOut | Error::PoolClosed) && connection_lost(cause)
        }
        _ => false,
    }
}

/// Whether a statement failed because the server went away (killed,
/// restarting, shutting down, unreachable) rather than because of the
/// statement: a refusal to retry later, never an internal error.
fn connection_lost(cause: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match cause {
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed => true,
        // SQLSTATE classes 08 (connection exception) and 57P (operator
        // intervention: admin or crash shutdown, cannot connect now).
        Error::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// The kind of database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// The one answer every service gives for a database failure: a constraint
/// refusal is a 409, a lost or busy database a 503 to retry, anything else a
/// 500 whose cause stays in the log.
impl From<DbError> for marquee_kit::ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict { .. } => Self::conflict("CONFLICT", "the change conflicts with existing data"),
            DbError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Self::unavailable("DATABASE_UNAVAILABLE", "the database is unavailable", 2)
            }
            DbError::Unexpected(cause) => Self::internal(&cause),
        }
    }
}

/// Checks a `DATABASE_URL` before anything tries to use it.
pub fn validate_url(url: &str) -> Result<(), String> {
    match Backend::of(url) {
        Some(_) => Ok(()),
        None => Err("must start with sqlite:// or postgres://".to_owned()),
    }
}

/// The `migrate` command: applies every pending migration of `M` to the
/// database at `url` on one connection, then closes it.
pub async fn migrate<M: sea_orm_migration::MigratorTrait>(url: &str) -> Result<(), DbError> {
    let db = connect(url, 1).await?;
    M::up(&db, None).await.map_err(|e| DbError::Unavailable(format!("migrations failed: {e}")))?;
    tracing::info!("migrations applied");
    Ok(())
}

/// A pooled connection idle for this long is tested (a round trip) before it
/// is handed out; one in use within it is not. Testing every one cost each
/// statement a second round trip (a database process woken, a SQLite worker
/// thread handed a message) before its own, on every hot path. A connection
/// the server or the network dropped while idle is found before use as
/// before; one broken while busy fails its statement (a 503 to retry) and is
/// closed when it goes back to the pool, which tests it then. The window is
/// the one long-standing Java pools use.
const PING_AFTER_IDLE: Duration = Duration::from_millis(500);

/// Opens a pool. For SQLite the file's folder is created, the file too, and
/// writes are serialised through one connection in WAL mode: SQLite allows one
/// writer at a time, and one connection makes that explicit instead of a
/// `database is locked` under load.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbError> {
    let backend = Backend::of(url)
        .ok_or_else(|| DbError::Unavailable(format!("unsupported database URL scheme in {}", redact(url))))?;
    let mut url = url.to_owned();
    if backend == Backend::Sqlite {
        let path = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:")
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        let parent = std::path::Path::new(&path).parent().filter(|p| !p.as_os_str().is_empty());
        if let (false, Some(parent)) = (path == ":memory:", parent) {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbError::Unavailable(format!("cannot create {}: {e}", parent.display())))?;
        }
        if !url.contains("mode=") {
            url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
        }
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(if backend == Backend::Sqlite { 1 } else { max_connections.max(1) })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .sqlx_logging(false)
        // Every connection the pool opens, including those replacing old ones.
        .map_sqlx_sqlite_opts(|o| o.pragma("synchronous", "NORMAL"));
    let mut db = Database::connect(options)
        .await
        .map_err(|e| DbError::Unavailable(format!("cannot open {}: {e}", redact(&url))))?;
    counted(&mut db);
    if backend == Backend::Sqlite {
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000"] {
            db.execute_unprepared(pragma).await.map_err(classify)?;
        }
    }
    Ok(db)
}

/// Read connections beside a SQLite file's one writer.
pub const SQLITE_READERS: u32 = 4;

/// The pool reads go to. For a SQLite file: read-only connections beside the
/// one writer (in WAL mode each reads from the last commit while the writer
/// writes), so reads queue neither behind writes nor behind each other.
/// Otherwise (PostgreSQL, an in-memory SQLite) the writer's pool itself.
pub async fn connect_reads(url: &str, writer: &DatabaseConnection) -> Result<DatabaseConnection, DbError> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if Backend::of(url) != Some(Backend::Sqlite) || in_memory {
        return Ok(writer.clone());
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(SQLITE_READERS)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.read_only(true).create_if_missing(false).busy_timeout(Duration::from_secs(5)).pragma("query_only", "ON")
        });
    let mut db = Database::connect(options)
        .await
        .map_err(|e| DbError::Unavailable(format!("cannot open {} to read: {e}", redact(url))))?;
    counted(&mut db);
    Ok(db)
}

/// Counts every statement a pool runs, by its verb (`db_statements_total`
/// with `verb` select, insert, update, delete or other): divided by the
/// requests served, the statements per request of a path.
fn counted(db: &mut DatabaseConnection) {
    db.set_metric_callback(|info| {
        let sql = info.statement.sql.trim_start();
        let verb = ["select", "insert", "update", "delete"]
            .into_iter()
            .find(|verb| sql.get(..verb.len()).is_some_and(|head| head.eq_ignore_ascii_case(verb)))
            .unwrap_or("other");
        metrics::counter!("db_statements_total", "verb" => verb).increment(1);
    });
}

/// A URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Whether the database answers a trivial query (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> Result<(), String> {
    db.ping().await.map_err(|e| format!("database: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read is answered from the last commit while the writer holds a
    /// transaction open, instead of waiting for the writer's one connection.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_reads_do_not_wait_for_the_writer() {
        let dir = std::env::temp_dir().join(format!("marquee-reads-{}", uuid::Uuid::now_v7().simple()));
        let url = format!("sqlite://{}/reads.db?mode=rwc", dir.display());
        let writer = connect(&url, 1).await.unwrap();
        writer.execute_unprepared("CREATE TABLE acts (name TEXT NOT NULL)").await.unwrap();
        writer.execute_unprepared("INSERT INTO acts VALUES ('committed')").await.unwrap();
        let reads = connect_reads(&url, &writer).await.unwrap();
        let open = writer.begin().await.unwrap();
        open.execute_unprepared("INSERT INTO acts VALUES ('not yet')").await.unwrap();
        let count = |db: DatabaseConnection| async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM acts",
                ))
                .await?
                .expect("a row");
            row.try_get::<i64>("", "n")
        };
        let seen = tokio::time::timeout(Duration::from_millis(500), count(reads.clone())).await;
        assert_eq!(seen.expect("answered while the writer is busy").unwrap(), 1, "from the last commit");
        let refused = reads.execute_unprepared("INSERT INTO acts VALUES ('through a reader')").await;
        assert!(refused.is_err(), "a reader never writes");
        open.commit().await.unwrap();
        assert_eq!(count(reads).await.unwrap(), 2, "the next read sees the commit");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Built with the planner stability guarantee (`.cargo/config.toml`):
    /// without it, every page of a list (its LIMIT and OFFSET bound as
    /// parameters) is compiled again each time it is read.
    #[tokio::test]
    async fn the_embedded_sqlite_plans_a_statement_once_whatever_its_values() {
        let db = connect("sqlite::memory:", 1).await.unwrap();
        let options = db
            .query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), "PRAGMA compile_options"))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "compiled with {options:?}");
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/auth"), "postgres://app:***@db:5432/auth");
        assert_eq!(redact("sqlite://./data/a.db"), "sqlite://./data/a.db");
    }

    #[test]
    fn only_known_schemes_are_accepted() {
        assert!(validate_url("mysql://x").is_err());
        assert!(validate_url("postgresql://x/y").is_ok());
    }
}

//! `marquee-bench`: what `scripts/bench.sh` needs beside wrk.
//!
//! Floors, measured in the same run as the figures they stand beside:
//! - `floor-list DATABASE_URL COMPANY ADDR`: serves `GET /v1/artists` for one
//!   company with base's own query, pool size and envelope, and no guard.
//! - `raw-list DATABASE_URL COMPANY CONNECTIONS ADDR`: the same SELECTs from
//!   plain axum and sqlx (no ORM, no kit).
//! - `argon2 SECONDS THREADS MEMORY_KIB ITERATIONS`: raw argon2id hashes/s.
//! - `echo-server ADDR`: a tonic echo.
//!
//! Drivers, each printing one JSON summary:
//! - `grpc-echo URL IN_FLIGHT SECONDS`, `grpc-resolve URL SERVICE_TOKEN ACCESS_TOKEN COMPANY IN_FLIGHT SECONDS`
//! - `companies AUTH_URL TOKEN COUNT` (prints ids), `cold BASE_URL TOKEN COMPANIES_FILE CONCURRENCY`
//! - `refresh AUTH_URL EMAIL PASSWORD SESSIONS SECONDS`
//! - `login-open AUTH_URL EMAIL PASSWORD RATE SECONDS`
//! - `revocation AUTH_URL BASE_URL EMAIL PASSWORD COMPANY ROUNDS`
//!
//! Around a run: `fresh-db SERVER_URL NAME` (prints its URL), `ledger-check DATABASE_URL`, `wrk` (wrk's summary on stdin as
//! JSON), `report FIGURES CONDITIONS ANALYSIS OUT_DIR`.

mod drivers;
mod grpc;
mod raw;
mod report;
mod stats;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::extract::State;
use marquee_base::domains::artists::model::{Artist, ArtistFilter};
use marquee_kit::{ApiError, PageParams, Paginated, Query};
use uuid::Uuid;

#[derive(Clone)]
struct Floor {
    db: sea_orm::DatabaseConnection,
    company: Uuid,
}

async fn list(
    State(floor): State<Floor>,
    Query(page): Query<PageParams>,
    Query(filter): Query<ArtistFilter>,
) -> Result<Paginated<Artist>, ApiError> {
    let (items, total) =
        marquee_base::domains::artists::repo::list(&floor.db, floor.company, &filter, page.offset(), page.limit())
            .await
            .map_err(|e| ApiError::internal(&e))?;
    Ok(Paginated { items, page, total })
}

async fn floor_list(database_url: &str, company: &str, addr: &str) -> anyhow::Result<()> {
    // The same pools base opens for this URL, reading through its read pool.
    let config = marquee_base::Config::load(&mut marquee_config_env(database_url))?;
    let writer = marquee_db::connect(&config.service.database_url, config.service.database_max_connections).await?;
    let db = marquee_db::connect_reads(&config.service.database_url, &writer).await?;
    let floor = Floor { db, company: Uuid::parse_str(company).context("COMPANY")? };
    let app = axum::Router::new().route("/v1/artists", axum::routing::get(list)).with_state(floor);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // Served the way base serves its edge.
    marquee_kit::server::serve_http(listener, app, tokio_util::sync::CancellationToken::new()).await?;
    Ok(())
}

fn marquee_config_env(database_url: &str) -> marquee_config::Env {
    // The floor signs no ticket: any key of the right shape does.
    let vars = [
        ("DATABASE_URL", database_url),
        ("INTERNAL_SERVICE_TOKEN", "bench-floor-needs-no-peers"),
        ("TICKET_KEY_ENCRYPTION_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    marquee_config::Env::from_map(vars)
}

fn argon2_rate(seconds: u64, threads: usize, memory_kib: u32, iterations: u32) -> anyhow::Result<f64> {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
    let params = Params::new(memory_kib, iterations, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let params = params.clone();
                scope.spawn(move || {
                    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                    let mut n = 0u64;
                    while Instant::now() < until {
                        if hasher.hash_password(b"correct horse battery staple").is_ok() {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).collect()
    });
    Ok(counts.iter().sum::<u64>() as f64 / started.elapsed().as_secs_f64())
}

/// The ledger's invariants after a run: every entry balanced per currency,
/// every account's balance the sum of its postings.
async fn ledger_check(database_url: &str) -> anyhow::Result<serde_json::Value> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = marquee_db::connect(database_url, 1).await?;
    let count = |sql: &str| {
        let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
        let db = &db;
        async move {
            let row = db.query_one_raw(statement).await?.context("no row")?;
            anyhow::Ok(row.try_get::<i64>("", "n")?)
        }
    };
    let entries = count("SELECT COUNT(*) AS n FROM journal_entries").await?;
    let unbalanced = count(
        "SELECT COUNT(*) AS n FROM (SELECT entry_id FROM postings GROUP BY entry_id, currency \
         HAVING SUM(amount) <> 0) AS u",
    )
    .await?;
    let accounts_off = count(
        "SELECT COUNT(*) AS n FROM accounts a WHERE a.balance <> \
         COALESCE((SELECT SUM(p.amount) FROM postings p WHERE p.account_id = a.id), 0)",
    )
    .await?;
    Ok(serde_json::json!({"entries": entries, "unbalancedEntries": unbalanced, "accountsOff": accounts_off}))
}

/// A new, empty PostgreSQL database on the server of `server_url`; its URL.
async fn fresh_db(server_url: &str, name: &str) -> anyhow::Result<String> {
    use sea_orm::ConnectionTrait;
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        bail!("database names here are lowercase letters, digits and '_'");
    }
    let db = marquee_db::connect(server_url, 1).await?;
    db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    db.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    let (without_query, query) = server_url.split_once('?').map_or((server_url, None), |(u, q)| (u, Some(q)));
    let (server, _) = without_query.rsplit_once('/').context("a server URL ends in /DATABASE")?;
    Ok(match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    })
}

fn print(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

const USAGE: &str = "usage: see the header of tools/bench/src/main.rs";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = |s: &str| -> anyhow::Result<u64> { s.parse().with_context(|| format!("{s} is not a number")) };
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["floor-list", db, company, addr] => floor_list(db, company, addr).await,
        ["raw-list", db, company, connections, addr] => raw::serve(db, company, connections.parse()?, addr).await,
        ["argon2", seconds, threads, memory, iterations] => {
            let rate = argon2_rate(n(seconds)?, threads.parse()?, memory.parse()?, iterations.parse()?)?;
            print(&serde_json::json!({"rate": rate}))
        }
        ["echo-server", addr] => grpc::echo_server(addr).await,
        ["grpc-echo", url, in_flight, seconds] => {
            let in_flight = usize::try_from(n(in_flight)?)?;
            let message =
                grpc::pb::EchoMessage { access_token: "x".repeat(400), company_id: Uuid::now_v7().to_string() };
            let targets = grpc::channels(url, in_flight)
                .await?
                .into_iter()
                .map(|c| grpc::Target::Echo(grpc::pb::echo_client::EchoClient::new(c), message.clone()))
                .collect();
            print(&grpc::load(targets, in_flight, n(seconds)?).await?)
        }
        ["grpc-resolve", url, service_token, access_token, company, in_flight, seconds] => {
            let in_flight = usize::try_from(n(in_flight)?)?;
            let credentials = marquee_kit::grpc::ServiceCredentials::new(service_token)?;
            let request = marquee_proto::auth::v1::ResolveAccessRequest {
                access_token: (*access_token).to_owned(),
                company_id: (*company).to_owned(),
                min_revision: 0,
            };
            let targets = grpc::channels(url, in_flight)
                .await?
                .into_iter()
                .map(|c| {
                    let client =
                        marquee_proto::auth::v1::access_client::AccessClient::with_interceptor(c, credentials.clone());
                    grpc::Target::Resolve(client, request.clone())
                })
                .collect();
            print(&grpc::load(targets, in_flight, n(seconds)?).await?)
        }
        ["companies", auth, token, count] => drivers::companies(auth, token, usize::try_from(n(count)?)?).await,
        ["cold", base, token, file, concurrency] => {
            let companies: Vec<String> =
                std::fs::read_to_string(file)?.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
            print(&drivers::cold(base, token, &companies, usize::try_from(n(concurrency)?)?).await?)
        }
        ["refresh", auth, email, password, sessions, seconds] => {
            print(&drivers::refresh(auth, email, password, usize::try_from(n(sessions)?)?, n(seconds)?).await?)
        }
        ["login-open", auth, email, password, rate, seconds] => {
            print(&drivers::login_open(auth, email, password, rate.parse()?, n(seconds)?).await?)
        }
        ["revocation", auth, base, email, password, company, rounds] => {
            print(&drivers::revocation(auth, base, email, password, company, usize::try_from(n(rounds)?)?).await?)
        }
        ["fresh-db", server, name] => {
            println!("{}", fresh_db(server, name).await?);
            Ok(())
        }
        ["ledger-check", db] => print(&ledger_check(db).await?),
        ["wrk"] => {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut out)?;
            print(&report::parse_wrk(&out))
        }
        ["report", figures, conditions, analysis, out_dir] => report::write(figures, conditions, analysis, out_dir),
        _ => bail!(USAGE),
    }
}

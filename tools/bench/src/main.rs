//! `marquee-bench`: the floors every figure of `scripts/bench.sh` stands beside.
//!
//! - `floor-list DATABASE_URL COMPANY ADDR`: serves `GET /v1/artists` for one
//!   company with base's own query, pool size and envelope, and no guard: what
//!   the guarded list would cost with nothing of the access check around it.
//! - `argon2 SECONDS THREADS MEMORY_KIB ITERATIONS`: raw argon2id hashes per
//!   second at those parameters, on that many threads.

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
    // The same pool base opens for this URL.
    let config = marquee_base::Config::load(&mut marquee_config_env(database_url))?;
    let db = marquee_db::connect(&config.database_url, config.database_max_connections).await?;
    let floor = Floor { db, company: Uuid::parse_str(company).context("COMPANY")? };
    let app = axum::Router::new().route("/v1/artists", axum::routing::get(list)).with_state(floor);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

fn marquee_config_env(database_url: &str) -> marquee_config::Env {
    let vars = [("DATABASE_URL", database_url), ("INTERNAL_SERVICE_TOKEN", "bench-floor-needs-no-peers")]
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["floor-list", db, company, addr] => floor_list(db, company, addr).await,
        ["argon2", seconds, threads, memory, iterations] => {
            let rate = argon2_rate(seconds.parse()?, threads.parse()?, memory.parse()?, iterations.parse()?)?;
            println!("{rate:.1}");
            Ok(())
        }
        _ => bail!(
            "usage: marquee-bench floor-list DATABASE_URL COMPANY ADDR | argon2 SECONDS THREADS MEMORY_KIB ITERATIONS"
        ),
    }
}

//! HTTP drivers for what a stateless load generator cannot do: every request a
//! first visit (cold access), chained refresh tokens, an offered rate rather
//! than a number of connections, and the time from a revocation to the first
//! refusal.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::stats::{Samples, Summary, percentile_ms};

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().tcp_nodelay(true).pool_max_idle_per_host(1024).build()?)
}

pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

pub async fn login(http: &reqwest::Client, auth: &str, email: &str, password: &str) -> anyhow::Result<Tokens> {
    let answer =
        http.post(format!("{auth}/v1/auth/login")).json(&json!({"email": email, "password": password})).send().await?;
    let status = answer.status();
    let body: Value = answer.json().await?;
    if !status.is_success() {
        bail!("login answered {status}: {body}");
    }
    let field =
        |name: &str| body["data"][name].as_str().map(str::to_owned).with_context(|| format!("{name} in {body}"));
    Ok(Tokens { access: field("accessToken")?, refresh: field("refreshToken")? })
}

/// Creates `count` companies for the token's user; prints their ids, one a line.
pub async fn companies(auth: &str, token: &str, count: usize) -> anyhow::Result<()> {
    let http = client()?;
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, next, auth, token) = (http.clone(), next.clone(), auth.to_owned(), token.to_owned());
        workers.spawn(async move {
            let mut ids = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let answer = http
                    .post(format!("{auth}/v1/companies"))
                    .bearer_auth(&token)
                    .json(&json!({"name": format!("Cold {}", uuid::Uuid::now_v7())}))
                    .send()
                    .await?;
                let status = answer.status();
                let body: Value = answer.json().await?;
                let id = body["data"]["id"].as_str().with_context(|| format!("company: {status} {body}"))?;
                ids.push(id.to_owned());
            }
            anyhow::Ok(ids)
        });
    }
    while let Some(done) = workers.join_next().await {
        for id in done?? {
            println!("{id}");
        }
    }
    Ok(())
}

/// One guarded request per company, never seen before by base or auth, with
/// `concurrency` in flight: every request takes the whole cold path.
pub async fn cold(base: &str, token: &str, companies: &[String], concurrency: usize) -> anyhow::Result<Summary> {
    let http = client()?;
    let next = Arc::new(AtomicUsize::new(0));
    let companies = Arc::new(companies.to_vec());
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (http, next, companies) = (http.clone(), next.clone(), companies.clone());
        let (base, token) = (base.to_owned(), token.to_owned());
        workers.spawn(async move {
            let mut samples = Samples::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(company) = companies.get(i) else { break };
                let sent = Instant::now();
                let answer =
                    http.get(format!("{base}/v1/artists")).bearer_auth(&token).header("x-org", company).send().await;
                match answer {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                        samples.latencies.push(sent.elapsed());
                    }
                    _ => samples.errors += 1,
                }
            }
            samples
        });
    }
    let mut all = Samples::default();
    while let Some(done) = workers.join_next().await {
        all.merge(done?);
    }
    Ok(all.summary(started.elapsed()))
}

/// `workers` sessions, each refreshing its own token chain for `seconds`.
pub async fn refresh(auth: &str, email: &str, password: &str, workers: usize, seconds: u64) -> anyhow::Result<Summary> {
    let http = client()?;
    let mut chains = Vec::new();
    for _ in 0..workers {
        chains.push(login(&http, auth, email, password).await?.refresh);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for mut token in chains {
        let (http, url) = (http.clone(), format!("{auth}/v1/auth/refresh"));
        tasks.spawn(async move {
            let mut samples = Samples::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let answer = http.post(&url).json(&json!({"refreshToken": token})).send().await;
                let next = match answer {
                    Ok(r) if r.status() == 200 => {
                        r.json::<Value>().await.ok().and_then(|b| b["data"]["refreshToken"].as_str().map(str::to_owned))
                    }
                    _ => None,
                };
                match next {
                    Some(t) => {
                        token = t;
                        samples.latencies.push(sent.elapsed());
                    }
                    // A broken chain cannot go on: count it and stop this worker.
                    None => {
                        samples.errors += 1;
                        break;
                    }
                }
            }
            samples
        });
    }
    let mut all = Samples::default();
    while let Some(done) = tasks.join_next().await {
        all.merge(done?);
    }
    Ok(all.summary(started.elapsed()))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overload {
    pub offered_rate: f64,
    pub sent: u64,
    /// Signed in.
    pub ok: Summary,
    /// Answered 429 or 503: the excess, turned away.
    pub shed: u64,
    pub shed_p99_ms: f64,
    /// Everything else (should be none).
    pub other: u64,
    /// Over every answer, whatever it was.
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Login at a fixed offered rate (open loop: a request leaves on schedule
/// whether or not the earlier ones were answered), as real users arrive.
pub async fn login_open(auth: &str, email: &str, password: &str, rate: f64, seconds: u64) -> anyhow::Result<Overload> {
    let http = client()?;
    let body = json!({"email": email, "password": password});
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut requests = tokio::task::JoinSet::new();
    let mut sent = 0u64;
    while Instant::now() < deadline {
        ticks.tick().await;
        sent += 1;
        let (http, url, body) = (http.clone(), format!("{auth}/v1/auth/login"), body.clone());
        let at = Instant::now();
        requests.spawn(async move {
            let status = match http.post(url).json(&body).send().await {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let _ = r.bytes().await;
                    s
                }
                Err(_) => 0,
            };
            (status, at.elapsed())
        });
    }
    let mut ok = Samples::default();
    let (mut shed, mut other) = (Vec::new(), 0u64);
    let mut every = Vec::new();
    while let Some(done) = requests.join_next().await {
        let (status, took) = done?;
        every.push(took);
        match status {
            200 => ok.latencies.push(took),
            429 | 503 => shed.push(took),
            _ => other += 1,
        }
    }
    let elapsed = started.elapsed();
    every.sort_unstable();
    shed.sort_unstable();
    Ok(Overload {
        offered_rate: rate,
        sent,
        shed: shed.len() as u64,
        shed_p99_ms: percentile_ms(&shed, 0.99),
        other,
        p99_ms: percentile_ms(&every, 0.99),
        max_ms: every.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        ok: ok.summary(elapsed),
    })
}

/// `rounds` times: sign in, use base until it answers from its cache, sign
/// out at auth, and time until base first refuses the token.
pub async fn revocation(
    auth: &str,
    base: &str,
    email: &str,
    password: &str,
    company: &str,
    rounds: usize,
) -> anyhow::Result<Summary> {
    let http = client()?;
    let mut samples = Samples::default();
    let started = Instant::now();
    let list = format!("{base}/v1/artists?limit=1");
    for _ in 0..rounds {
        let tokens = login(&http, auth, email, password).await?;
        let get = || http.get(&list).bearer_auth(&tokens.access).header("x-org", company).send();
        for _ in 0..3 {
            let warm = get().await?.status();
            if warm != 200 {
                bail!("base answered {warm} before the revocation");
            }
        }
        let revoked_at = Instant::now();
        let out = http.post(format!("{auth}/v1/auth/logout")).bearer_auth(&tokens.access).send().await?;
        if !out.status().is_success() {
            bail!("logout answered {}", out.status());
        }
        let refused = loop {
            if get().await?.status() == 401 {
                break Some(revoked_at.elapsed());
            }
            if revoked_at.elapsed() > Duration::from_secs(5) {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        match refused {
            Some(took) => samples.latencies.push(took),
            None => samples.errors += 1,
        }
    }
    Ok(samples.summary(started.elapsed()))
}

//! Scaling and rolling out without errors: gRPC calls spread over every
//! replica a headless Service's DNS names (and move off a replica that
//! stops), SIGTERM drains before it stops, and Redis is reached over TLS.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::faults::OwnRedis;
use crate::harness::{Fleet, Options, Service, own_hosts_possible, test_certificates};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Redis for tests that run several replicas (which need it): the run's own
/// server when given, else one started here.
async fn redis_for_replicas(options: &mut Options) -> Option<OwnRedis> {
    if marquee_testkit::redis_url().is_some() {
        return None;
    }
    let port = free_port();
    let redis = OwnRedis::start(port).await;
    for service in Service::ALL {
        options.env.push((service, "REDIS_URL".into(), format!("redis://127.0.0.1:{port}")));
    }
    Some(redis)
}

/// How many access resolutions one auth process has served, from its metrics.
async fn resolutions_served(auth: &marquee_testkit::TestClient) -> u64 {
    let text = auth.http.get(auth.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("grpc_requests_total") && l.contains("ResolveAccess"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn access_checks_spread_over_every_auth_replica_and_move_off_one_that_stops() {
    if !OwnRedis::available() || !own_hosts_possible() {
        assert!(std::env::var_os("CI").is_none(), "CI needs redis-server and mount namespaces for this test");
        eprintln!("SKIPPED: redis-server or mount namespaces are missing, so replica balancing is not tested");
        return;
    }
    // A headless Service's DNS: one name, an address per ready replica.
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 localhost\n127.0.0.2 auth-grpc\n127.0.0.3 auth-grpc\n").unwrap();
    // One port on two addresses, as the replicas behind a headless Service share it.
    let grpc_port = free_port();
    let mut options = Options { hosts: Some(hosts), ..Options::default() };
    let _redis = redis_for_replicas(&mut options).await;
    options.env.push((Service::Auth, "GRPC_ADDR".into(), format!("127.0.0.2:{grpc_port}")));
    for caller in [Service::Base, Service::Financial] {
        options.env.push((caller, "AUTH_GRPC_URL".into(), format!("http://auth-grpc:{grpc_port}")));
    }
    // Every request asks auth, so each one shows where it went.
    options.env.push((Service::Base, "ACCESS_HARD_TTL_SECS".into(), "0".into()));
    let f = Fleet::start_with(options).await;
    let (owner, org) = f.owner().await;

    // A replica added after the callers started, as the autoscaler would.
    let second = f.add_replica(Service::Auth, &[("GRPC_ADDR", format!("127.0.0.3:{grpc_port}"))]).await;
    let first = f.client(Service::Auth).clone();
    let list = || f.call(Service::Base, Method::GET, "/v1/artists", &owner, org, None);
    let mut calls = 0;
    let started = std::time::Instant::now();
    loop {
        let r = list().await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        calls += 1;
        let (a, b) = (resolutions_served(&first).await, resolutions_served(&second.http).await);
        if a > 0 && b > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "after {calls} calls one replica still served none: {a} and {b}\n{}",
            f.log(Service::Base)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The first replica stops at once, as a lost node would: every call
    // still answers, from the other one.
    f.kill(Service::Auth).await;
    let before = resolutions_served(&second.http).await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(list().await.status.as_u16());
    }
    assert!(
        statuses.iter().all(|s| *s == 200),
        "statuses after a replica stopped: {statuses:?}\n{}",
        f.log(Service::Base)
    );
    assert!(resolutions_served(&second.http).await >= before + 40, "the remaining replica answered them");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_drains_and_loses_no_accepted_request() {
    let mut options = Options::default();
    options.env.push((Service::Base, "SHUTDOWN_DRAIN_SECS".into(), "2".into()));
    let f = Fleet::start_with(options).await;
    let (owner, org) = f.owner().await;
    let base = f.client(Service::Base).clone();

    // What an endpoints controller does: watch readiness, stop routing on failure.
    let routed = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (base, routed) = (base.clone(), routed.clone());
        tokio::spawn(async move {
            loop {
                let ready = base.http.get(base.url("/readyz")).send().await;
                match ready {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => {
                        let body: serde_json::Value = r.json().await.unwrap_or_default();
                        assert_eq!(body["error"], "DRAINING", "readiness fails because the service drains");
                        routed.store(false, Ordering::Release);
                        return;
                    }
                    Err(e) => panic!("the service stopped answering before it said it was not ready: {e}"),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (base, routed, acknowledged, owner) = (base.clone(), routed.clone(), acknowledged.clone(), owner.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while routed.load(Ordering::Acquire) {
                let request = base
                    .http
                    .post(base.url("/v1/artists"))
                    .bearer_auth(&owner)
                    .header("x-org", org.to_string())
                    .json(&json!({"name": format!("Act {worker}-{n}")}));
                let r = request.send().await.unwrap_or_else(|e| panic!("a routed request was lost: {e}"));
                assert_eq!(r.status(), 201, "{:?}", r.text().await);
                acknowledged.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    f.terminate(Service::Base);
    let stopped_at = std::time::Instant::now();
    watcher.await.unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    assert!(stopped_at.elapsed() < Duration::from_secs(2), "readiness failed at once, within the drain");
    let status = f.exit_status(Service::Base, Duration::from_secs(20)).await;
    assert!(status.success(), "base stopped cleanly: {status}\n{}", f.log(Service::Base));
    assert!(stopped_at.elapsed() >= Duration::from_secs(2), "base kept serving for the drain period");

    // Everything acknowledged is there after a restart.
    f.start_service(Service::Base).await;
    f.wait_ready(Service::Base).await;
    let total = acknowledged.load(Ordering::Relaxed);
    assert!(total > 0, "the load ran");
    let listed = f.call(Service::Base, Method::GET, "/v1/artists?limit=1", &owner, org, None).await;
    assert_eq!(listed.body["pagination"]["total"].as_u64(), Some(total as u64), "{:?}", listed.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_over_tls_is_verified_against_the_configured_authority() {
    let openssl = std::process::Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !OwnRedis::available() || !openssl {
        assert!(std::env::var_os("CI").is_none(), "CI needs redis-server and openssl for this test");
        eprintln!("SKIPPED: redis-server or openssl is missing, so Redis over TLS is not tested");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (authority, cert, key) = test_certificates(dir.path());
    let port = free_port();
    let _redis = OwnRedis::start_tls(port, &cert, &key).await;
    let mut options = Options::default();
    for service in Service::ALL {
        options.env.push((service, "REDIS_URL".into(), format!("rediss://localhost:{port}")));
        options.env.push((service, "REDIS_CA_CERT_FILE".into(), authority.display().to_string()));
    }
    let f = Fleet::start_with(options).await;
    let (owner, org) = f.owner().await;
    // Rate limits are counted in Redis: an answer means TLS to Redis works.
    let r = f.call(Service::Base, Method::POST, "/v1/artists", &owner, org, Some(&json!({"name": "Over TLS"}))).await;
    assert_eq!(r.status, 201, "{:?}\n{}", r.body, f.log(Service::Base));

    // Without the authority the server's certificate is not trusted: base
    // refuses (fails closed) rather than counting nowhere.
    let untrusted = f.add_replica(Service::Base, &[("REDIS_CA_CERT_FILE", String::new())]).await;
    let request =
        untrusted.http.http.get(untrusted.http.url("/v1/artists")).bearer_auth(&owner).header("x-org", org.to_string());
    let refused = untrusted.http.send(request).await;
    assert_eq!((refused.status.as_u16(), refused.code()), (503, "RATE_LIMIT_UNAVAILABLE"), "{:?}", refused.body);
}

//! Schema fuzzing: schemathesis drives each running service from its own
//! `/openapi.json` (platform-core as the platform admin, base and financial
//! as the owner of a company with every module, auth as a signed-in person)
//! and checks every answer: never a 5xx, only documented statuses and content
//! types, bodies that match the documented schemas, and every request that
//! breaks its documented schema refused (`fuzz_hooks.py` leaves out the
//! "invalid" requests that are valid by the time they are sent). Its stateful
//! phase chains operations along the links it infers from the documents.

use std::process::Command;

use serde_json::json;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Fleet, Options, Service, unique_email};

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection";

fn schemathesis_present() -> bool {
    Command::new("st").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// One schemathesis run; its exit status and report.
fn schemathesis(url: &str, token: &str, org: Option<uuid::Uuid>, exclude: Option<&str>, seed: &str) -> (bool, String) {
    let mut command = Command::new("st");
    command
        .env("SCHEMATHESIS_HOOKS", concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz_hooks.py"))
        .args(["run", url, "--checks", CHECKS, "--phases", "coverage,fuzzing,stateful", "--max-examples", "3"])
        .args(["--workers", "2", "--request-timeout", "20", "--seed", seed, "--no-color"])
        .args(["-H", &format!("authorization: Bearer {token}")]);
    if let Some(org) = org {
        command.args(["-H", &format!("x-org: {org}")]);
    }
    if let Some(paths) = exclude {
        command.args(["--exclude-path-regex", paths]);
    }
    let out = command.output().expect("schemathesis runs");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), report)
}

/// Fuzzes one service. A failure found is a failure of the test; an error
/// inside the fuzzer itself (it has crashed on its own code here now and
/// then) earns one more run with another seed, never a pass.
fn fuzz(f: &Fleet, service: Service, token: &str, org: Option<uuid::Uuid>, exclude: Option<&str>) {
    let url = f.client(service).url("/openapi.json");
    let mut report = String::new();
    for seed in ["20261202", "20261203"] {
        let (passed, text) = schemathesis(&url, token, org, exclude, seed);
        if passed {
            return;
        }
        report = text;
        let tool_error_only = !report.contains("Failures:") && report.contains("Runtime Error");
        if !tool_error_only {
            break;
        }
    }
    let tail: Vec<&str> = report.lines().rev().take(150).collect::<Vec<_>>().into_iter().rev().collect();
    panic!("{} under fuzzing:\n{}", service.name(), tail.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_answers_as_its_document_says_under_fuzzing() {
    if !schemathesis_present() {
        assert!(std::env::var_os("CI").is_none(), "schemathesis is missing: run scripts/deploy-tools.sh");
        eprintln!(
            "SKIPPED: schemathesis is not installed (scripts/deploy-tools.sh), so no service is fuzzed in this run"
        );
        return;
    }
    // One caller sends thousands of requests here: limits are not under test.
    let mut options = Options::default();
    for service in Service::ALL {
        for limit in
            ["RATE_LIMIT_PER_USER", "RATE_LIMIT_PER_COMPANY", "AUTH_RATE_LIMIT_PER_IP", "AUTH_RATE_LIMIT_PER_ACCOUNT"]
        {
            options.env.push((service, limit.into(), "100000000".into()));
        }
    }
    let f = Fleet::start_with(options).await;
    let admin = f.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (owner, org) = f.owner().await;
    let core = f.client(Service::PlatformCore);
    let everything = json!({"code": "everything", "name": "Everything", "modules": ["basic", "financial"]});
    assert_eq!(core.post("/v1/packages", Some(&admin), &everything).await.status, 201);
    let moved = core
        .put(
            &format!("/v1/companies/{org}/subscription"),
            Some(&admin),
            &json!({"packageCode": "everything", "status": "active"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    for _ in 0..100 {
        let r = f.call(Service::Financial, reqwest::Method::GET, "/v1/ledger/accounts", &owner, org, None).await;
        if r.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let owner_for_blocking = owner.clone();
    let person = f.verified_person(&unique_email("fuzzed")).await;
    let f = std::sync::Arc::new(f);
    let fleet = f.clone();
    tokio::task::spawn_blocking(move || {
        fuzz(&fleet, Service::Base, &owner_for_blocking, Some(org), None);
        fuzz(&fleet, Service::Financial, &owner_for_blocking, Some(org), None);
        fuzz(&fleet, Service::PlatformCore, &admin, None, None);
        // Not the routes that end the caller's own sessions: the rest would
        // then only be tried without a valid token.
        fuzz(&fleet, Service::Auth, &person, None, Some("^/v1/auth/(logout|sessions)"));
    })
    .await
    .unwrap();
}

//! The committed OpenAPI documents make a typed TypeScript client, the way web
//! and mobile teams consume the API: scripts/ts-client.sh installs the pinned
//! tools, generates the types from openapi/*.json, compiles the client with
//! strict checks and runs the demo story against the real fleet.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Fleet, Service};

fn npm_present() -> bool {
    std::process::Command::new("npm").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_typed_typescript_client_runs_the_story() {
    if !npm_present() {
        // CI has Node.js and npm; there, a missing npm is a failure.
        assert!(std::env::var_os("CI").is_none(), "npm is missing: the TypeScript client cannot be checked");
        eprintln!("SKIPPED: npm is not installed, so the TypeScript client is not checked in this run");
        return;
    }
    let f = Fleet::start().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut command = tokio::process::Command::new("bash");
    command
        .arg(root.join("scripts/ts-client.sh"))
        .env("MARQUEE_AUTH_URL", &f.client(Service::Auth).base)
        .env("MARQUEE_PLATFORM_URL", &f.client(Service::PlatformCore).base)
        .env("MARQUEE_BASE_URL", &f.client(Service::Base).base)
        .env("MARQUEE_FINANCIAL_URL", &f.client(Service::Financial).base)
        .env("MARQUEE_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("MARQUEE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(600), command.output())
        .await
        .expect("scripts/ts-client.sh finishes within 10 minutes")
        .expect("scripts/ts-client.sh starts");
    let report =
        format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts/ts-client.sh failed ({}):\n{report}", out.status);
    let told = String::from_utf8_lossy(&out.stdout);
    assert!(told.contains("the revoked key is refused"), "an integration's API key is part of the story: {report}");
    assert!(told.contains("typescript client story: ok"), "{report}");
}

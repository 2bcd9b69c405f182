//! The Helm chart and the plain manifests render and validate offline, with
//! pods locked down and NetworkPolicies allowing exactly the call graph
//! (tests/deploy/check.py does the work), and every real binary starts,
//! migrates and becomes ready with exactly the environment its Deployment and
//! migration Job are rendered with (tests/deploy/rendered_env.py reads them).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::faults::OwnRedis;
use crate::harness::{Sockets, test_certificates};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether helm, kubectl and the Python checkers are installed; under CI
/// their absence is a failure (scripts/deploy-tools.sh installs them).
fn tools_present() -> bool {
    let root = root();
    let python = std::process::Command::new("python3")
        .args(["-c", "import kubernetes_validate, openapi_spec_validator, yaml"])
        .status();
    let present = python.is_ok_and(|s| s.success())
        && root.join(".tools/helm/helm").exists()
        && root.join(".tools/kubectl/kubectl").exists();
    if !present {
        assert!(std::env::var_os("CI").is_none(), "deployment tools are missing: run scripts/deploy-tools.sh");
        eprintln!(
            "SKIPPED: deployment tools are not installed (scripts/deploy-tools.sh): the manifests are not checked"
        );
    }
    present
}

#[test]
fn the_chart_and_manifests_render_and_validate() {
    if !tools_present() {
        return;
    }
    let out = std::process::Command::new("python3").arg(root().join("tests/deploy/check.py")).output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{report}");
    assert!(report.contains("deployment manifests: valid"), "{report}");
}

/// Where cargo put the service binaries: beside this test's own deps folder.
fn binary(service: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().join(format!("marquee-{service}"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in {addr:?}"))
}

/// The services in the order a cluster brings them up usefully (each one's
/// readiness needs the ones before it).
const START_ORDER: [&str; 4] = ["platform-core", "auth", "financial", "base"];

/// What stands in for the cluster: test databases and Redis, loopback
/// addresses for the Services, temporary folders for the volumes.
struct Stand {
    dir: tempfile::TempDir,
    /// Rendered address → loopback address, e.g. "marquee-auth-grpc:9081" → "127.0.0.1:40123".
    addresses: Vec<(String, String)>,
    /// Each service's listeners on those loopback addresses, bound here and
    /// handed to its process, as a cluster's pod owns its ports.
    sockets: HashMap<String, Sockets>,
    /// Mount path → a folder of the test's.
    mounts: Vec<(String, PathBuf)>,
    databases: HashMap<String, marquee_testkit::TestDb>,
    redis_url: Option<String>,
    s3_endpoint: Option<String>,
    _redis: Option<OwnRedis>,
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"].as_array()?.iter().find(|e| e["name"] == name)
}

impl Stand {
    async fn new(render: &HashMap<String, Value>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut addresses = Vec::new();
        let mut sockets = HashMap::new();
        let mut mounts = Vec::new();
        let mut databases = HashMap::new();
        let containers = || render.values().flat_map(|s| [&s["deployment"], &s["migrate"]]).filter(|c| !c.is_null());
        for (service, rendered) in render {
            let deployment = &rendered["deployment"];
            // base calls the others over gRPC but serves none.
            let bound = Sockets::bind_for(service != "base", "127.0.0.1:0", "127.0.0.1:0");
            for (var, local) in bound.addrs() {
                let suffix = if var == "GRPC_ADDR" { "-grpc" } else { "" };
                let addr = env_value(deployment, var).and_then(|e| e["value"].as_str());
                let addr = addr.unwrap_or_else(|| panic!("{service}'s deployment renders no {var}"));
                addresses.push((addr.to_owned(), local.clone()));
                addresses.push((format!("marquee-{service}{suffix}:{}", port_of(addr)), local));
            }
            sockets.insert(service.clone(), bound);
            for path in rendered["volumes_mounts"].as_array().unwrap() {
                let path = path.as_str().unwrap().to_owned();
                if !mounts.iter().any(|(p, _)| *p == path) {
                    let local = dir.path().join("mounts").join(path.trim_start_matches('/'));
                    std::fs::create_dir_all(&local).unwrap();
                    mounts.push((path, local));
                }
            }
            databases.insert(service.clone(), marquee_testkit::TestDb::fresh().await);
        }
        // The longest mount path first, so /tmp/x is not taken for /tmp.
        mounts.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let mut stand =
            Self { dir, addresses, sockets, mounts, databases, redis_url: None, s3_endpoint: None, _redis: None };
        let ca_file =
            containers().find_map(|c| env_value(c, "REDIS_CA_CERT_FILE")?["value"].as_str().map(str::to_owned));
        if containers().any(|c| env_value(c, "REDIS_URL").is_some()) {
            let port = free_port();
            stand._redis = Some(match &ca_file {
                // A private authority signed the server's certificate, as the chart's Secret holds it.
                Some(ca_file) => {
                    let (authority, cert, key) = test_certificates(stand.dir.path());
                    let local = stand.local_path(ca_file);
                    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
                    std::fs::copy(authority, local).unwrap();
                    stand.redis_url = Some(format!("rediss://localhost:{port}"));
                    OwnRedis::start_tls(port, &cert, &key).await
                }
                None => {
                    stand.redis_url = Some(format!("redis://127.0.0.1:{port}"));
                    OwnRedis::start(port).await
                }
            });
        }
        if let Some(bucket) = containers().find_map(|c| env_value(c, "MEDIA_S3_BUCKET")?["value"].as_str()) {
            let endpoint = marquee_testkit::required_server("TEST_S3_URL", "a render's S3 media bucket")
                .expect("an S3-compatible server for the rendered bucket");
            reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap();
            stand.s3_endpoint = Some(endpoint);
        }
        stand
    }

    fn local_path(&self, path: &str) -> PathBuf {
        let (mount, local) = self
            .mounts
            .iter()
            .find(|(m, _)| path.starts_with(m.as_str()))
            .unwrap_or_else(|| panic!("{path:?} is on no mounted volume"));
        local.join(path[mount.len()..].trim_start_matches('/'))
    }

    /// A rendered plain value with the cluster's addresses and paths replaced.
    fn localize(&self, name: &str, value: &str) -> String {
        if name == "OTEL_EXPORTER_OTLP_ENDPOINT" {
            // The cluster's collector is not here; traces to nowhere must not stop a start.
            return format!("http://127.0.0.1:{}", free_port());
        }
        if value.starts_with('/') && self.mounts.iter().any(|(m, _)| value.starts_with(m.as_str())) {
            return self.local_path(value).display().to_string();
        }
        let mut value = value.to_owned();
        for (rendered, local) in &self.addresses {
            value = value.replace(rendered.as_str(), local);
        }
        value
    }

    /// The value a test gives a secret the chart reads by reference.
    fn secret(&self, service: &str, name: &str) -> String {
        match name {
            "DATABASE_URL" => self.databases[service].url.clone(),
            "REDIS_URL" => self.redis_url.clone().unwrap(),
            "INTERNAL_SERVICE_TOKEN" => "rendered-fleet-internal-token".to_owned(),
            "SIGNING_KEY_ENCRYPTION_KEY" | "TICKET_KEY_ENCRYPTION_KEY" => {
                "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=".to_owned()
            }
            "MARQUEE_ADMIN_PASSWORD" => marquee_testkit::ADMIN_PASSWORD.to_owned(),
            // A relay that is not there: mail waits in the outbox, the service still starts.
            "SMTP_URL" => format!("smtp://127.0.0.1:{}", free_port()),
            "MEDIA_S3_ACCESS_KEY_ID" => "test".to_owned(),
            "MEDIA_S3_SECRET_ACCESS_KEY" => "test-secret".to_owned(),
            other => panic!("the chart gives {service} a secret {other} that this test has no value for"),
        }
    }

    /// The container's environment, as rendered, with test stand-ins.
    fn environment(&self, service: &str, container: &Value) -> HashMap<String, String> {
        let mut env = HashMap::new();
        for entry in container["env"].as_array().unwrap() {
            let name = entry["name"].as_str().unwrap();
            let value = if let Some(value) = entry["value"].as_str() {
                self.localize(name, value)
            } else if entry["valueFrom"]["secretKeyRef"].is_object() {
                self.secret(service, name)
            } else {
                panic!("{service}: {name} comes from {:?}, which this test cannot stand in for", entry["valueFrom"]);
            };
            env.insert(name.to_owned(), value);
        }
        if let (Some(endpoint), true) = (&self.s3_endpoint, env.contains_key("MEDIA_S3_BUCKET")) {
            // The cloud's object store stands in as a local S3-compatible server.
            env.insert("MEDIA_S3_ENDPOINT".to_owned(), endpoint.clone());
        }
        for (name, value) in &env {
            assert!(
                !value.contains(".svc") && !self.addresses.iter().any(|(r, _)| value.contains(r.as_str())),
                "{service}: {name}={value:?} still names a cluster address"
            );
        }
        env
    }

    /// Runs `service` with `args` and `env`; a Deployment's process (`serving`)
    /// gets the listeners bound for it.
    fn spawn(
        &mut self,
        service: &str,
        args: &[String],
        env: &HashMap<String, String>,
        log: &str,
        serving: bool,
    ) -> (Child, PathBuf) {
        let log = self.dir.path().join(log);
        let file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(binary(service));
        command.env_clear();
        if serving {
            self.sockets.remove(service).expect("one Deployment per service").hand_to(&mut command);
        }
        let child = command
            .args(args)
            .envs(env)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("marquee-{service} cannot start: {e}"));
        (child, log)
    }
}

fn args_of(container: &Value) -> Vec<String> {
    container["args"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Renders `label`, then runs every migration Job and starts every
/// Deployment's binary with exactly the rendered arguments and environment.
async fn boots_as_rendered(label: &str) {
    if !tools_present() {
        return;
    }
    // Rendered releases name postgres:// databases; the embedded phase has none.
    if marquee_testkit::required_server("TEST_DATABASE_URL", "the chart's PostgreSQL databases").is_none() {
        return;
    }
    if !OwnRedis::available() {
        assert!(std::env::var_os("CI").is_none(), "redis-server is needed for this test in CI");
        eprintln!("SKIPPED: redis-server is not installed, so rendered releases are not booted");
        return;
    }
    let out = std::process::Command::new("python3").arg(root().join("tests/deploy/rendered_env.py")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut renders: HashMap<String, HashMap<String, Value>> = serde_json::from_slice(&out.stdout).unwrap();
    let render = renders.remove(label).unwrap_or_else(|| panic!("no render {label}"));
    let mut names: Vec<&str> = render.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["auth", "base", "financial", "platform-core"], "{label} renders all four services");
    let mut stand = Stand::new(&render).await;

    for service in START_ORDER {
        let migrate = &render[service]["migrate"];
        if migrate.is_null() {
            continue;
        }
        let env = stand.environment(service, migrate);
        let (mut child, log) = stand.spawn(service, &args_of(migrate), &env, &format!("{service}-migrate.log"), false);
        let status = tokio::time::timeout(Duration::from_secs(120), child.wait())
            .await
            .unwrap_or_else(|_| panic!("{label}: {service}'s migration Job did not finish"))
            .unwrap();
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(status.success(), "{label}: {service}'s migration Job failed ({status}):\n{output}");
    }

    let mut running = Vec::new();
    for service in START_ORDER {
        let deployment = &render[service]["deployment"];
        let env = stand.environment(service, deployment);
        let (mut child, log) = stand.spawn(service, &args_of(deployment), &env, &format!("{service}.log"), true);
        let readyz = format!("http://{}/readyz", env["HTTP_ADDR"]);
        let mut ready = false;
        for _ in 0..600 {
            if let Some(status) = child.try_wait().unwrap() {
                let output = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("{label}: {service} exited with {status} as rendered:\n{output}");
            }
            if reqwest::get(&readyz).await.is_ok_and(|r| r.status() == 200) {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(ready, "{label}: {service} never became ready as rendered:\n{output}");
        // What a container runtime without a shell asks (compose's health check).
        let check = Command::new(binary(service)).arg("healthcheck").env_clear().envs(&env).output().await.unwrap();
        assert!(check.status.success(), "{label}: {service} healthcheck: {}", String::from_utf8_lossy(&check.stderr));
        running.push(child);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chart_with_default_values_boots() {
    boots_as_rendered("chart-default").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chart_with_the_production_example_boots() {
    boots_as_rendered("chart-production").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_development_overlay_boots() {
    boots_as_rendered("kustomize-development").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_production_overlay_boots() {
    boots_as_rendered("kustomize-production").await;
}

//! The four real binaries as separate processes on loopback listeners the
//! test binds and hands over (`LISTEN_FDS`), each
//! with its own database (SQLite files, or PostgreSQL databases with
//! TEST_DATABASE_URL) and Redis when TEST_REDIS_URL is set. Logs go to one
//! file per service, kept for the assertions and for reading on failure.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use marquee_testkit::{Reply, TestClient, TestDb, redis_url, unique_name};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use uuid::Uuid;

pub use marquee_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, SERVICE_TOKEN};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Auth,
    PlatformCore,
    Base,
    Financial,
}

impl Service {
    pub const ALL: [Service; 4] = [Service::PlatformCore, Service::Auth, Service::Financial, Service::Base];

    /// base calls the others over gRPC but serves none.
    fn serves_grpc(self) -> bool {
        self != Self::Base
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::PlatformCore => "platform-core",
            Self::Base => "base",
            Self::Financial => "financial",
        }
    }
}

/// Where cargo put the service binaries: beside this test's own deps folder.
fn binary(service: Service) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir.join(format!("marquee-{}", service.name()));
    assert!(path.exists(), "{} is not built: run `cargo build --bins` (scripts/test.sh does)", path.display());
    path
}

struct Process {
    env: HashMap<String, String>,
    child: Option<Child>,
    log: PathBuf,
    /// Bound for its first start; a restart binds its addresses again.
    sockets: Option<Sockets>,
}

/// A process's listeners, bound by the test and handed to the process at
/// start as systemd's socket activation does (`LISTEN_FDS`): HTTP, then
/// gRPC for a service that serves it.
pub struct Sockets(Vec<(&'static str, std::net::TcpListener)>);

impl Sockets {
    /// Binds `http` and, when `service` serves gRPC, `grpc` (port 0 takes a free one).
    fn bind(service: Service, http: &str, grpc: &str) -> Self {
        Self::bind_for(service.serves_grpc(), http, grpc)
    }

    /// Binds `http` and, when `grpc_served`, `grpc`.
    pub fn bind_for(grpc_served: bool, http: &str, grpc: &str) -> Self {
        let mut wanted = vec![("HTTP_ADDR", http)];
        if grpc_served {
            wanted.push(("GRPC_ADDR", grpc));
        }
        let bound = wanted.into_iter().map(|(var, addr)| {
            let listener = std::net::TcpListener::bind(addr).unwrap_or_else(|e| panic!("{var} {addr}: {e}"));
            (var, listener)
        });
        Self(bound.collect())
    }

    /// Binds again what `env` says the process listens on, for a restart.
    fn rebind(service: Service, env: &HashMap<String, String>) -> Self {
        Self::bind(service, &env["HTTP_ADDR"], env.get("GRPC_ADDR").map_or("127.0.0.1:0", String::as_str))
    }

    /// Each variable with the address bound for it.
    pub fn addrs(&self) -> Vec<(&'static str, String)> {
        self.0.iter().map(|(var, l)| (*var, l.local_addr().unwrap().to_string())).collect()
    }

    /// Hands the listeners to `command`'s process as descriptors 3, 4….
    pub fn hand_to(self, command: &mut Command) {
        use command_fds::{CommandFdExt, FdMapping};
        command.env("LISTEN_FDS", self.0.len().to_string()).env_remove("LISTEN_PID").env_remove("LISTEN_FDNAMES");
        let mappings = (3..).zip(self.0).map(|(child_fd, (_, l))| FdMapping { parent_fd: l.into(), child_fd });
        command.fd_mappings(mappings.collect()).expect("distinct descriptors");
    }
}

pub struct Fleet {
    processes: std::sync::Mutex<HashMap<Service, Process>>,
    hosts: Option<PathBuf>,
    pub http: HashMap<Service, TestClient>,
    pub dir: tempfile::TempDir,
    _dbs: Vec<TestDb>,
}

#[derive(Default)]
pub struct Options {
    /// Extra variables per service.
    pub env: Vec<(Service, String, String)>,
    /// A hosts file every service resolves names with instead of the
    /// machine's (each process in a mount namespace of its own; see
    /// [`own_hosts_possible`]), as a cluster's DNS would answer.
    pub hosts: Option<PathBuf>,
}

/// Whether processes can be given a hosts file of their own here (root, and
/// mount namespaces allowed).
pub fn own_hosts_possible() -> bool {
    std::process::Command::new("unshare")
        .args(["--mount", "--", "sh", "-c", "mount --bind /etc/hosts /etc/hosts"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The command that runs `binary`, under `hosts` when given.
fn command_for(binary: &Path, hosts: Option<&Path>) -> Command {
    match hosts {
        None => Command::new(binary),
        Some(hosts) => {
            let mut command = Command::new("unshare");
            command
                .args(["--mount", "--", "sh", "-c", r#"mount --bind "$0" /etc/hosts && exec "$1""#])
                .arg(hosts)
                .arg(binary);
            command
        }
    }
}

/// One more replica of a service, beside the fleet's own.
pub struct Replica {
    /// Held so the replica stops with the test (killed on drop).
    _child: Child,
    pub http: TestClient,
    pub log: PathBuf,
}

impl Replica {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Fleet {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        Self::try_start(&options).await.unwrap_or_else(|e| panic!("the fleet did not start: {e}"))
    }

    async fn try_start(options: &Options) -> Result<Self, String> {
        let dir = tempfile::tempdir().unwrap();
        // Every listener is bound here first, where the test chooses it, and
        // handed to its process at start: no port is chosen and then raced for.
        let chosen = |service: Service, var: &str| {
            let given = options.env.iter().find(|(s, k, _)| *s == service && k == var);
            given.map_or_else(|| "127.0.0.1:0".to_owned(), |(_, _, v)| v.clone())
        };
        let mut sockets: HashMap<Service, Sockets> = Service::ALL
            .iter()
            .map(|s| (*s, Sockets::bind(*s, &chosen(*s, "HTTP_ADDR"), &chosen(*s, "GRPC_ADDR"))))
            .collect();
        let addrs: HashMap<Service, Vec<(&str, String)>> = sockets.iter().map(|(s, b)| (*s, b.addrs())).collect();
        let addr = |s: Service, var: &str| addrs[&s].iter().find(|(v, _)| *v == var).map(|(_, a)| a.clone());
        let url = |s: Service, var: &str| format!("http://{}", addr(s, var).expect("bound"));
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let prefix = unique_name("fleet");
        let mut dbs = Vec::new();
        let mut processes = HashMap::new();
        let mut http = HashMap::new();
        for service in Service::ALL {
            let db = TestDb::fresh().await;
            let mut env: HashMap<String, String> = [
                ("DATABASE_URL", db.url.clone()),
                ("INTERNAL_SERVICE_TOKEN", SERVICE_TOKEN.to_owned()),
                ("AUTH_JWKS_URL", format!("{}/.well-known/jwks.json", url(Service::Auth, "HTTP_ADDR"))),
                ("AUTH_GRPC_URL", url(Service::Auth, "GRPC_ADDR")),
                ("PLATFORM_CORE_GRPC_URL", url(Service::PlatformCore, "GRPC_ADDR")),
                ("FINANCIAL_GRPC_URL", url(Service::Financial, "GRPC_ADDR")),
                ("LOG_FORMAT", "json".to_owned()),
                ("LOG_LEVEL", "info".to_owned()),
                ("REDIS_PREFIX", prefix.clone()),
                ("SIGNING_KEY_ENCRYPTION_KEY", key.clone()),
                ("TICKET_KEY_ENCRYPTION_KEY", key.clone()),
                ("MARQUEE_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
                ("MARQUEE_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
                ("PASSWORD_HASH_MEMORY_KIB", "1024".to_owned()),
                ("PASSWORD_HASH_ITERATIONS", "1".to_owned()),
                ("MAIL_DIR", dir.path().join("mail").display().to_string()),
                ("MEDIA_DIR", dir.path().join("media").display().to_string()),
                // Change streams beat often and are distrusted soon, so faults show quickly.
                ("HEARTBEAT_INTERVAL_MS", "100".to_owned()),
                ("STREAM_STALE_AFTER_MS", "600".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            if let Some(redis) = redis_url() {
                env.insert("REDIS_URL".into(), redis);
            }
            for (s, k, v) in &options.env {
                if *s == service {
                    env.insert(k.clone(), v.clone());
                }
            }
            // What the process really listens on (the sockets handed to it).
            env.extend(addrs[&service].iter().map(|(var, a)| ((*var).to_owned(), a.clone())));
            let log = dir.path().join(format!("{}.log", service.name()));
            http.insert(service, TestClient::new(url(service, "HTTP_ADDR")));
            processes.insert(service, Process { env, child: None, log, sockets: sockets.remove(&service) });
            dbs.push(db);
        }
        let fleet =
            Self { processes: std::sync::Mutex::new(processes), hosts: options.hosts.clone(), http, dir, _dbs: dbs };
        for service in Service::ALL {
            fleet.spawn(service);
            fleet.healthy(service).await?;
        }
        fleet.wait_ready(Service::Base).await;
        Ok(fleet)
    }

    /// Starts (or restarts) one service with the same settings and ports.
    pub async fn start_service(&self, service: Service) {
        self.spawn(service);
        if let Err(e) = self.healthy(service).await {
            panic!("{e}");
        }
    }

    fn spawn(&self, service: Service) {
        {
            let mut processes = self.processes.lock().unwrap();
            let process = processes.get_mut(&service).unwrap();
            let sockets = process.sockets.take().unwrap_or_else(|| Sockets::rebind(service, &process.env));
            process.child = Some(self.run(service, &process.env, &process.log, sockets));
        }
    }

    /// One process of `service` with `env` on `sockets`, its output appended to `log`.
    fn run(&self, service: Service, env: &HashMap<String, String>, log: &Path, sockets: Sockets) -> Child {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let mut command = command_for(&binary(service), self.hosts.as_deref());
        command.envs(env);
        sockets.hand_to(&mut command);
        command
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    }

    /// Starts another replica of `service`: the same settings (database,
    /// Redis, secrets) but for `overrides`. It listens on loopback ports of
    /// its own unless `overrides` name its `HTTP_ADDR` or `GRPC_ADDR`.
    pub async fn add_replica(&self, service: Service, overrides: &[(&str, String)]) -> Replica {
        let mut env = self.processes.lock().unwrap()[&service].env.clone();
        env.insert("HTTP_ADDR".into(), "127.0.0.1:0".into());
        env.insert("GRPC_ADDR".into(), "127.0.0.1:0".into());
        for (k, v) in overrides {
            env.insert((*k).to_owned(), v.clone());
        }
        let sockets = Sockets::rebind(service, &env);
        env.extend(sockets.addrs().into_iter().map(|(var, a)| (var.to_owned(), a)));
        let http = TestClient::new(format!("http://{}", env["HTTP_ADDR"]));
        let log = self.dir.path().join(format!("{}-{}.log", service.name(), Uuid::now_v7().simple()));
        let replica = Replica { _child: self.run(service, &env, &log, sockets), http, log };
        for _ in 0..300 {
            if replica.http.http.get(replica.http.url("/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return replica;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("a second {} replica never became ready:\n{}", service.name(), replica.log());
    }

    /// Asks one service to stop, as Kubernetes does in a rollout (SIGTERM).
    pub fn terminate(&self, service: Service) {
        let pid = self.processes.lock().unwrap()[&service].child.as_ref().and_then(Child::id).expect("running");
        let sent = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        assert!(sent.success(), "SIGTERM could not be sent");
    }

    /// Waits for a service that was asked to stop; its exit status.
    pub async fn exit_status(&self, service: Service, within: Duration) -> std::process::ExitStatus {
        let child = self.processes.lock().unwrap().get_mut(&service).unwrap().child.take();
        let mut child = child.expect("running");
        tokio::time::timeout(within, child.wait())
            .await
            .unwrap_or_else(|_| panic!("{} did not stop within {within:?}:\n{}", service.name(), self.log(service)))
            .unwrap()
    }

    /// Kills one service at once, as a crash or a lost node would.
    pub async fn kill(&self, service: Service) {
        let child = self.processes.lock().unwrap().get_mut(&service).unwrap().child.take();
        if let Some(mut child) = child {
            child.kill().await.unwrap();
        }
    }

    fn exited(&self, service: Service) -> Option<std::process::ExitStatus> {
        let mut processes = self.processes.lock().unwrap();
        processes.get_mut(&service).unwrap().child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    async fn healthy(&self, service: Service) -> Result<(), String> {
        for _ in 0..300 {
            if let Some(status) = self.exited(service) {
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(format!("{} exited with {status}:\n{}", service.name(), self.log(service)));
            }
            let healthy = self.http[&service].http.get(self.http[&service].url("/healthz")).send().await;
            if healthy.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("{} never became healthy:\n{}", service.name(), self.log(service)))
    }

    pub async fn wait_ready(&self, service: Service) {
        for _ in 0..300 {
            if self.http[&service].get("/readyz", None).await.status == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} never became ready:\n{}", service.name(), self.log(service));
    }

    pub fn log(&self, service: Service) -> String {
        let path = self.processes.lock().unwrap()[&service].log.clone();
        std::fs::read_to_string(path).unwrap_or_default()
    }

    pub fn client(&self, service: Service) -> &TestClient {
        &self.http[&service]
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .client(Service::Auth)
            .post("/v1/auth/login", None, &json!({"email": email, "password": password}))
            .await;
        assert_eq!(r.status, 200, "login {email}: {:?}", r.body);
        r.data()["accessToken"].as_str().unwrap().to_owned()
    }

    /// Signs up and verifies `email` through the mailed link; its access token.
    pub async fn verified_person(&self, email: &str) -> String {
        let auth = self.client(Service::Auth);
        let signed =
            auth.post("/v1/auth/signup", None, &json!({"email": email, "password": PASSWORD, "name": "Pat"})).await;
        assert_eq!(signed.status, 201, "{:?}", signed.body);
        let mail = self.dir.path().join("mail");
        let mut token = None;
        for _ in 0..200 {
            token = marquee_testkit::mail::find_token(&mail, email, "verify-email");
            if token.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let verified =
            auth.post("/v1/auth/email/verify", None, &json!({"token": token.expect("a verification mail")})).await;
        assert_eq!(verified.status, 200, "{:?}", verified.body);
        self.login(email, PASSWORD).await
    }

    /// A person with a company of their own: (token, company).
    pub async fn owner(&self) -> (String, Uuid) {
        let token = self.verified_person(&unique_email("owner")).await;
        let company =
            self.client(Service::Auth).post("/v1/companies", Some(&token), &json!({"name": "Acme Live"})).await;
        assert_eq!(company.status, 201, "{:?}", company.body);
        (token, Uuid::parse_str(company.data()["id"].as_str().unwrap()).unwrap())
    }

    /// A second session of the person holding `token` (a sign-in base has never seen).
    pub async fn login_as_owner_again(&self, token: &str) -> String {
        let me = self.client(Service::Auth).get("/v1/auth/me", Some(token)).await;
        let email = me.data()["email"].as_str().unwrap_or_else(|| panic!("{:?}", me.body)).to_owned();
        self.login(&email, PASSWORD).await
    }

    /// A call to a business service as a member of `company`.
    pub async fn call(
        &self,
        service: Service,
        method: reqwest::Method,
        path: &str,
        token: &str,
        company: Uuid,
        body: Option<&Value>,
    ) -> Reply {
        let client = self.client(service);
        let mut request =
            client.http.request(method, client.url(path)).bearer_auth(token).header("x-org", company.to_string());
        if let Some(b) = body {
            request = request.json(b);
        }
        client.send(request).await
    }
}

pub fn unique_email(who: &str) -> String {
    format!("{who}.{}@example.com", Uuid::now_v7().simple())
}

/// A test authority and a certificate it signed for `localhost` and
/// 127.0.0.1: (authority, certificate, key).
pub fn test_certificates(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let path = |name: &str| dir.join(name).display().to_string();
    let openssl = |args: &[&str]| {
        let made = std::process::Command::new("openssl").args(args).output().unwrap();
        assert!(made.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&made.stderr));
    };
    let (ca, ca_key, csr, cert, key, ext) =
        (path("ca.crt"), path("ca.key"), path("redis.csr"), path("redis.crt"), path("redis.key"), path("redis.ext"));
    std::fs::write(&ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    let new_key = ["-newkey", "rsa:2048", "-nodes"];
    openssl(
        &[
            &["req", "-x509", "-days", "1", "-subj", "/CN=Marquee test authority", "-keyout", &ca_key, "-out", &ca],
            &new_key[..],
        ]
        .concat(),
    );
    openssl(&[&["req", "-subj", "/CN=localhost", "-keyout", &key, "-out", &csr], &new_key[..]].concat());
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        &cert,
        "-extfile",
        &ext,
    ]);
    (ca.into(), cert.into(), key.into())
}

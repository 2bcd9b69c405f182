use uuid::Uuid;

/// A name no other test uses (database names, Redis prefixes).
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::now_v7().simple())
}

/// `TEST_REDIS_URL`, when the tests should use a real Redis.
pub fn redis_url() -> Option<String> {
    std::env::var("TEST_REDIS_URL").ok().filter(|v| !v.trim().is_empty())
}

/// A server a test cannot do without, named by the variable `var`: its URL,
/// or `None` after a visible skip line. Under `CI=true` a missing server fails
/// the test, except in the embedded phase of `scripts/test.sh`
/// (`MARQUEE_TEST_PHASE=embedded`), which leaves the servers out on purpose and
/// runs the same tests beside them right after.
pub fn required_server(var: &str, what: &str) -> Option<String> {
    if let Some(url) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
        return Some(url);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let embedded_phase = std::env::var("MARQUEE_TEST_PHASE").is_ok_and(|p| p == "embedded");
    assert!(!in_ci || embedded_phase, "{var} is not set, so {what} cannot be tested: CI must test it");
    eprintln!("SKIPPED: {var} is not set, so {what} is not tested in this run");
    None
}

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A fresh, empty database: PostgreSQL when `TEST_DATABASE_URL` is set,
    /// otherwise a SQLite file in a temporary folder.
    pub async fn fresh() -> Self {
        let servers_phase = std::env::var("MARQUEE_TEST_PHASE").is_ok_and(|p| p == "servers");
        let admin_url = if servers_phase {
            // The phase that promises PostgreSQL never falls back to SQLite unseen.
            required_server("TEST_DATABASE_URL", "PostgreSQL")
        } else {
            std::env::var("TEST_DATABASE_URL").ok().filter(|v| !v.trim().is_empty())
        };
        match admin_url {
            Some(admin_url) => Self::postgres(admin_url).await,
            None => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
                Self { url, _dir: Some(dir), postgres: None }
            }
        }
    }

    async fn postgres(admin_url: String) -> Self {
        use sea_orm::ConnectionTrait;
        let name = unique_name("marquee_test");
        let admin = marquee_db::connect(&admin_url, 1).await.expect("TEST_DATABASE_URL must reach a PostgreSQL server");
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
        let _ = admin.close().await;
        let base = match admin_url.rfind('/') {
            Some(i) if i > "postgres://".len() => admin_url[..i].to_owned(),
            _ => admin_url.clone(),
        };
        Self { url: format!("{base}/{name}"), _dir: None, postgres: Some((admin_url, name)) }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any runtime guarantee: use a small one of our own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                use sea_orm::ConnectionTrait;
                if let Ok(admin) = marquee_db::connect(&admin_url, 1).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

use uuid::Uuid;

/// A name no other test uses (database names, Redis prefixes).
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::now_v7().simple())
}

/// `TEST_REDIS_URL`, when the tests should use a real Redis.
pub fn redis_url() -> Option<String> {
    std::env::var("TEST_REDIS_URL").ok().filter(|v| !v.trim().is_empty())
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
        match std::env::var("TEST_DATABASE_URL").ok().filter(|v| !v.trim().is_empty()) {
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

//! `marquee-demo`: seeds a running local fleet through its REST edges, once.
//!
//! Reads `MARQUEE_ADMIN_EMAIL`/`MARQUEE_ADMIN_PASSWORD` (the platform admin),
//! `DEMO_PASSWORD` (for the demo people) and the services' URLs
//! (`AUTH_URL`, `PLATFORM_CORE_URL`, `BASE_URL`, default the local ports).
//! Prints `KEY=value` lines (the company id and the people) for the caller.

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    auth: String,
    core: String,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        url: String,
        token: Option<&str>,
        org: Option<&str>,
        body: Value,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self.http.request(method.clone(), &url).json(&body);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(o) = org {
            request = request.header("x-org", o);
        }
        let response = request.send().await.with_context(|| format!("{method} {url}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// The answer's `data`, or an error naming the call and the answer.
    async fn expect(
        &self,
        method: Method,
        url: String,
        token: Option<&str>,
        org: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Value> {
        let (status, answer) = self.call(method.clone(), url.clone(), token, org, body).await?;
        if !(200..300).contains(&status) {
            bail!("{method} {url} answered {status}: {answer}");
        }
        Ok(answer["data"].clone())
    }

    async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let data = self
            .expect(
                Method::POST,
                format!("{}/v1/auth/login", self.auth),
                None,
                None,
                json!({"email": email, "password": password}),
            )
            .await?;
        data["accessToken"].as_str().map(str::to_owned).context("no access token")
    }

    async fn person(&self, email: &str, name: &str, password: &str) -> anyhow::Result<String> {
        let url = format!("{}/v1/auth/signup", self.auth);
        let (status, answer) = self
            .call(Method::POST, url, None, None, json!({"email": email, "password": password, "name": name}))
            .await?;
        if status != 201 && status != 409 {
            bail!("signing up {email} answered {status}: {answer}");
        }
        self.login(email, password).await
    }
}

fn id(v: &Value) -> anyhow::Result<String> {
    v["id"].as_str().map(str::to_owned).with_context(|| format!("no id in {v}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let api = Api {
        http: reqwest::Client::new(),
        auth: var("AUTH_URL", "http://127.0.0.1:8081"),
        core: var("PLATFORM_CORE_URL", "http://127.0.0.1:8082"),
        base: var("BASE_URL", "http://127.0.0.1:8083"),
    };
    let admin_email = std::env::var("MARQUEE_ADMIN_EMAIL").context("MARQUEE_ADMIN_EMAIL")?;
    let admin_password = std::env::var("MARQUEE_ADMIN_PASSWORD").context("MARQUEE_ADMIN_PASSWORD")?;
    let password = std::env::var("DEMO_PASSWORD").context("DEMO_PASSWORD")?;
    let operator = api.login(&admin_email, &admin_password).await?;

    // A package with both modules.
    let (status, answer) = api
        .call(
            Method::POST,
            format!("{}/v1/packages", api.core),
            Some(&operator),
            None,
            json!({"code": "demo", "name": "Demo", "modules": ["basic", "financial"], "limits": {"maxMembers": 25, "maxEvents": 100, "storageBytes": 1_073_741_824_i64}}),
        )
        .await?;
    if status != 201 && status != 409 {
        bail!("creating the demo package answered {status}: {answer}");
    }

    // The owner, the company on that package, and a member with a narrower role.
    let owner_email = "owner@demo.marquee.local";
    let member_email = "booker@demo.marquee.local";
    let owner = api.person(owner_email, "Olivia Owner", &password).await?;
    let company = api
        .expect(Method::POST, format!("{}/v1/companies", api.auth), Some(&owner), None, json!({"name": "Demo Live"}))
        .await?;
    let org = id(&company)?;
    api.expect(
        Method::PUT,
        format!("{}/v1/companies/{org}/subscription", api.core),
        Some(&operator),
        None,
        json!({"packageCode": "demo", "status": "active"}),
    )
    .await?;
    let role = api
        .expect(
            Method::POST,
            format!("{}/v1/companies/{org}/roles", api.auth),
            Some(&owner),
            None,
            json!({"name": "Booker", "permissions": ["basic.dashboard.view", "basic.artist.view", "basic.event.view", "basic.venue.view", "basic.offer.view", "basic.offer.create", "basic.calendar.view"]}),
        )
        .await?;
    api.person(member_email, "Bruno Booker", &password).await?;
    api.expect(
        Method::POST,
        format!("{}/v1/companies/{org}/members", api.auth),
        Some(&owner),
        None,
        json!({"email": member_email, "roleIds": [id(&role)?]}),
    )
    .await?;

    // Some business data; the new plan may take a moment to reach base.
    let mut venue = None;
    for _ in 0..50 {
        let (status, answer) = api
            .call(
                Method::POST,
                format!("{}/v1/venues", api.base),
                Some(&owner),
                Some(&org),
                json!({"name": "Coliseu do Porto", "address": {"line1": "Rua de Passos Manuel 137", "city": "Porto", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 3000}),
            )
            .await?;
        if status == 201 {
            venue = Some(answer["data"].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let venue = id(&venue.context("base did not accept the demo venue")?)?;
    let base = |path: &str| format!("{}{path}", api.base);
    let artist = api
        .expect(
            Method::POST,
            base("/v1/artists"),
            Some(&owner),
            Some(&org),
            json!({"name": "The Midnight Owls", "genres": ["jazz"]}),
        )
        .await?;
    api.expect(
        Method::POST,
        base("/v1/artists"),
        Some(&owner),
        Some(&org),
        json!({"name": "Lisbon Brass", "genres": ["brass"]}),
    )
    .await?;
    let starts = chrono::Utc::now() + chrono::Duration::days(30);
    let event = api
        .expect(
            Method::POST,
            base("/v1/events"),
            Some(&owner),
            Some(&org),
            json!({"name": "Owls at the Coliseu", "venueId": venue, "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::hours(3)).to_rfc3339(), "lineup": [{"artistId": id(&artist)?}]}),
        )
        .await?;
    let event = id(&event)?;
    for action in ["announce", "start-sales"] {
        api.expect(Method::POST, base(&format!("/v1/events/{event}/{action}")), Some(&owner), Some(&org), json!({}))
            .await?;
    }
    api.expect(
        Method::POST,
        base(&format!("/v1/events/{event}/ticket-types")),
        Some(&owner),
        Some(&org),
        json!({"name": "General admission", "priceMinor": 2500, "currency": "EUR", "capacity": 2500}),
    )
    .await?;
    let offer = api
        .expect(
            Method::POST,
            base("/v1/offers"),
            Some(&owner),
            Some(&org),
            json!({"eventId": event, "artistId": id(&artist)?, "feeMinor": 800_000, "currency": "EUR", "terms": "90 minutes, backline provided", "deadline": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339()}),
        )
        .await?;
    api.expect(Method::POST, base(&format!("/v1/offers/{}/send", id(&offer)?)), Some(&owner), Some(&org), json!({}))
        .await?;

    println!("DEMO_ORG={org}");
    println!("DEMO_OWNER={owner_email}");
    println!("DEMO_MEMBER={member_email}");
    Ok(())
}

use reqwest::StatusCode;
use serde_json::Value;

/// An answer: status, headers and the JSON body (Null when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// `data` of a success envelope.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    /// The machine code of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
    /// The fields named in an error's details.
    pub fn fields(&self) -> Vec<String> {
        self.body["details"]
            .as_array()
            .map(|d| d.iter().filter_map(|i| i["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// A client for one service's REST edge.
#[derive(Clone)]
pub struct TestClient {
    pub base: String,
    pub http: reqwest::Client,
}

/// Longer than any service's own request timeout (30 s), so an answer that
/// is slow still arrives, while a service that stopped answering fails the
/// test with the request it hung on instead of stalling it.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(45);

impl TestClient {
    pub fn new(base: impl Into<String>) -> Self {
        let http = reqwest::Client::builder().timeout(PATIENCE).build().expect("an HTTP client");
        Self { base: base.into(), http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => panic!("no answer from {}: {e}", e.url().map_or("the service", |u| u.as_str())),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body }
    }

    fn with_token(request: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Self::with_token(self.http.get(self.url(path)), token)).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(Self::with_token(self.http.post(self.url(path)).json(body), token)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(Self::with_token(self.http.put(self.url(path)).json(body), token)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(Self::with_token(self.http.patch(self.url(path)).json(body), token)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Self::with_token(self.http.delete(self.url(path)), token)).await
    }

    /// A raw body with a chosen content type (for hostile-input tests).
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let request =
            self.http.request(method, self.url(path)).header(reqwest::header::CONTENT_TYPE, content_type).body(body);
        self.send(Self::with_token(request, token)).await
    }
}

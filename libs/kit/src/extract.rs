//! Extractors that turn every kind of bad input into a 400 (or 413/415) with
//! the field and the reason, in the error envelope: never axum's plain-text
//! rejection, never a 5xx.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldIssue};

/// Request bodies larger than this are refused with 413 unless a route sets
/// its own limit.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Checks a decoded input beyond its types: ranges, lengths, formats.
pub trait Validate {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        Ok(())
    }
}

/// Collects field issues while validating a struct.
#[derive(Default)]
pub struct Issues(Vec<FieldIssue>);

impl Issues {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn check(&mut self, ok: bool, field: &str, issue: impl Into<String>) {
        if !ok {
            self.0.push(FieldIssue::new(field, issue));
        }
    }
    pub fn add(&mut self, field: &str, issue: impl Into<String>) {
        self.0.push(FieldIssue::new(field, issue));
    }
    /// A required text of 1..=max characters after trimming.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        let len = value.trim().chars().count();
        if len == 0 {
            self.add(field, "must not be empty");
        } else if len > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }
    /// A value stored as sent (an idempotency key): its whole length counts,
    /// spaces included, and it must not be blank.
    pub fn key(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(field, "must not be empty");
        } else if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }
    pub fn finish(self) -> Result<(), Vec<FieldIssue>> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0) }
    }
}

/// A JSON body: content type checked, size bounded, unknown fields refused
/// (the target type says `deny_unknown_fields`), every decoding error mapped
/// to the path of the field that failed, then [`Validate`]d.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json") || m.to_ascii_lowercase().ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                ApiError::bad_request("BAD_BODY", "the request body could not be read")
            }
        })?;
        let value = decode_json::<T>(&bytes)?;
        value.validate().map_err(ApiError::validation)?;
        Ok(Json(value))
    }
}

/// Decodes JSON, naming the failing field (`lineup[2].setTime`) on error.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::field("body", "a JSON body is required"));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    if let Some(field) = nul_character_in(bytes) {
        return Err(ApiError::field(field, NUL_REFUSED));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = describe_json_error(&inner);
        let field = if path.contains('?') {
            "body".to_owned()
        } else if let Some(missing) = missing_field(&message) {
            if path == "." { missing.to_owned() } else { format!("{path}.{missing}") }
        } else if path == "." {
            "body".to_owned()
        } else {
            path
        };
        ApiError::field(field, message)
    })?;
    de.end().map_err(|_| ApiError::field("body", "unexpected data after the JSON value"))?;
    Ok(value)
}

fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "is not valid JSON: it ends too early".to_owned(),
        // serde's messages name what was expected (a type, a field, a number in
        // range) and echo no input beyond a field name.
        Category::Syntax => format!("is not valid JSON: {}", strip_position(&e.to_string())),
        Category::Data | Category::Io => strip_position(&e.to_string()),
    }
}

/// Text stored in PostgreSQL cannot hold U+0000: such a value is refused as
/// the input it is, before it could fail a write (and a group commit's
/// neighbours with it).
const NUL_REFUSED: &str = "must not contain the NUL character (\\u0000)";

/// Where a JSON body spells U+0000 (`\u0000`; JSON has no other way to carry
/// it), as the path of its field (`postings[1].currency`); `body` when it is
/// a key or the body is not valid JSON (its decoding then says why).
fn nul_character_in(bytes: &[u8]) -> Option<String> {
    let mut i = 0;
    let mut found = false;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1..i + 6) == Some(b"u0000".as_slice()) {
                found = true;
                break;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    if !found {
        return None;
    }
    fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
        match value {
            serde_json::Value::String(s) => s.contains('\0').then(|| path.to_owned()),
            serde_json::Value::Array(items) => {
                items.iter().enumerate().find_map(|(i, v)| walk(v, &format!("{path}[{i}]")))
            }
            serde_json::Value::Object(fields) => fields
                .iter()
                .find_map(|(k, v)| walk(v, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") })),
            _ => None,
        }
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    Some(walk(&value, "").unwrap_or_else(|| "body".to_owned()))
}

/// The field named by serde's "missing field `x`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters, decoded and validated; errors name the parameter.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, _)) =
            form_urlencoded::parse(query.as_bytes()).find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::field(name.replace('\0', ""), NUL_REFUSED));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            ApiError::field(if path == "." { "query".to_owned() } else { path }, message)
        })?;
        value.validate().map_err(ApiError::validation)?;
        Ok(Query(value))
    }
}

/// Path parameters; a malformed id is a 400 naming the parameter. (An id
/// that is well formed but not the caller's is the domain's 404.)
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A NUL reaches a parameter only spelled `%00`.
        if parts.uri.path().contains("%00") {
            let params = axum::extract::RawPathParams::from_request_parts(parts, state).await;
            let name = params
                .ok()
                .and_then(|params| params.iter().find(|(_, v)| v.contains('\0')).map(|(k, _)| k.to_owned()))
                .unwrap_or_else(|| "path".to_owned());
            return Err(ApiError::field(name, NUL_REFUSED));
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => {
                use axum::extract::path::ErrorKind;
                use axum::extract::rejection::PathRejection;
                let names: Vec<String> = axum::extract::RawPathParams::from_request_parts(parts, state)
                    .await
                    .map(|params| params.iter().map(|(k, _)| k.to_owned()).collect())
                    .unwrap_or_default();
                let keyed = match &rejection {
                    PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                        ErrorKind::ParseErrorAtKey { key, expected_type, .. } => {
                            Some(FieldIssue::new(key.clone(), format!("must be a valid {}", short_type(expected_type))))
                        }
                        ErrorKind::ParseErrorAtIndex { index, expected_type, .. } => names.get(*index).map(|name| {
                            FieldIssue::new(name.clone(), format!("must be a valid {}", short_type(expected_type)))
                        }),
                        _ => None,
                    },
                    _ => None,
                };
                let issue = match keyed {
                    Some(issue) => issue,
                    // A single parameter: name it from the route.
                    None => {
                        let name = match names.as_slice() {
                            [only] => only.clone(),
                            _ => "path".to_owned(),
                        };
                        FieldIssue::new(name, format!("must be a valid {}", short_type(std::any::type_name::<T>())))
                    }
                };
                Err(ApiError::validation(vec![issue]))
            }
        }
    }
}

fn short_type(name: &str) -> &str {
    let last = name.rsplit("::").next().unwrap_or(name);
    match last {
        "Uuid" => "UUID",
        other => other,
    }
}

/// The version a write expects to change (`If-Match: "3"`, also `W/"3"` or a
/// bare `3`); `None` without the header or with `*`. Anything else is a 400
/// naming the header. A service answers 412 when the resource has moved on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<u64>);

impl IfMatch {
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if value == "*" {
            return Some(Self(None));
        }
        let tag = value.strip_prefix("W/").unwrap_or(value);
        let tag = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(tag);
        if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        tag.parse().ok().map(|v| Self(Some(v)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(header::IF_MATCH) {
            None => Ok(Self(None)),
            Some(v) => v
                .to_str()
                .ok()
                .and_then(Self::parse)
                .ok_or_else(|| ApiError::field("If-Match", "must be the resource's version, e.g. \"3\"")),
        }
    }
}

/// Marks a route that checks credentials carried in its body (a password, a
/// refresh token): without being an authenticated route it may answer 401,
/// and its document says so. Extracting it never fails.
pub struct ChecksCredentials;

impl<S: Send + Sync> FromRequestParts<S> for ChecksCredentials {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self)
    }
}

#[cfg(test)]
mod if_match_tests {
    use super::IfMatch;

    #[test]
    fn versions_in_every_usual_spelling() {
        assert_eq!(IfMatch::parse("\"3\""), Some(IfMatch(Some(3))));
        assert_eq!(IfMatch::parse("W/\"12\""), Some(IfMatch(Some(12))));
        assert_eq!(IfMatch::parse("7"), Some(IfMatch(Some(7))));
        assert_eq!(IfMatch::parse("*"), Some(IfMatch(None)));
        for bad in ["", "\"\"", "\"-1\"", "abc", "\"18446744073709551616\"", "\"1\", \"2\""] {
            assert_eq!(IfMatch::parse(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod nul_tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Line {
        currency: String,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Entry {
        description: String,
        postings: Vec<Line>,
    }

    fn field_of(body: &str) -> Option<String> {
        match decode_json::<Entry>(body.as_bytes()) {
            Ok(_) => None,
            Err(e) => Some(format!("{} {}", e.details[0].field, e.details[0].issue)),
        }
    }

    #[test]
    fn a_nul_character_is_refused_naming_its_field_and_an_escaped_backslash_is_not_one() {
        let nul = field_of(r#"{"description": "ok", "postings": [{"currency": "EUR"}, {"currency": "E\u0000R"}]}"#);
        assert_eq!(nul.as_deref().map(|f| f.split(' ').next().unwrap()), Some("postings[1].currency"), "{nul:?}");
        assert!(nul.unwrap().contains("NUL"));
        // `\\u0000` is a backslash followed by the letters u0000: plain text.
        assert_eq!(field_of(r#"{"description": "a\\u0000b", "postings": []}"#), None);
        assert_eq!(
            field_of(r#"{"description": "a\\\\\u0000", "postings": []}"#).unwrap().split(' ').next(),
            Some("description")
        );
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Search {
        q: Option<String>,
    }

    impl Validate for Search {}

    async fn ask(uri: &'static str) -> Result<Option<String>, ApiError> {
        let (mut parts, ()) = axum::http::Request::get(uri).body(()).unwrap().into_parts();
        Query::<Search>::from_request_parts(&mut parts, &()).await.map(|Query(s)| s.q)
    }

    #[tokio::test]
    async fn a_nul_character_in_a_path_parameter_is_refused_naming_it() {
        use tower::ServiceExt;
        async fn show(Path(code): Path<String>) -> String {
            code
        }
        let app = axum::Router::new().route("/v1/packages/{code}", axum::routing::get(show));
        let ask = |uri: &'static str| {
            let app = app.clone();
            async move { app.oneshot(axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap()).await.unwrap() }
        };
        let refused = ask("/v1/packages/ab%00c").await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let body = http_body_util::BodyExt::collect(refused.into_body()).await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["details"][0]["field"], "code", "{body}");
        assert_eq!(ask("/v1/packages/ab%20c").await.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_nul_character_in_a_query_is_refused_naming_its_parameter() {
        let refused = ask("/acts?q=a%00b").await.unwrap_err();
        assert_eq!((refused.status, refused.details[0].field.as_str()), (StatusCode::BAD_REQUEST, "q"));
        assert_eq!(ask("/acts?q=a%20b").await.unwrap(), Some("a b".to_owned()));
    }
}

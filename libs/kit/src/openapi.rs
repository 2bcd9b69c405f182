//! OpenAPI 3.1 documents built from the handlers themselves: a route is
//! registered once, through [`DocRouter`] (or the guard's route table), and
//! its request body, query, path parameters and answer are read from the
//! handler's signature. No route can be served without being documented.

use std::future::Future;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Value, json};

use crate::envelope::{Accepted, Created, Data, Paginated};
use crate::error::ApiError;
use crate::extract::{ChecksCredentials, IfMatch, Json, Path, Query};

/// What the documentation of one operation has gathered so far.
#[derive(Debug, Clone, Default)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: Option<String>,
    pub permission: Option<String>,
    pub authenticated: bool,
    pub company_scoped: bool,
    pub request: Option<Schema>,
    pub raw_body: bool,
    /// Takes `If-Match` and may answer 412.
    pub if_match: bool,
    /// Checks credentials in its body and may answer 401 unauthenticated.
    pub checks_credentials: bool,
    pub query: Vec<(String, Schema, bool)>,
    pub response: Option<(u16, Option<Schema>, bool)>,
}

/// A handler argument's part in the document (a body, a query, a credential).
pub trait DocArg {
    fn describe(_op: &mut Operation, _generator: &mut SchemaGenerator) {}
}

/// A handler's answer in the document.
pub trait DocReturn {
    fn describe(op: &mut Operation, generator: &mut SchemaGenerator);
}

/// A handler whose every argument and answer can be documented.
pub trait Documented<M> {
    fn describe(op: &mut Operation, generator: &mut SchemaGenerator);
}

macro_rules! documented {
    ($($arg:ident),*) => {
        impl<F, Fut, R, $($arg,)*> Documented<($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
            Fut: Future<Output = R>,
            R: DocReturn,
            $($arg: DocArg,)*
        {
            fn describe(op: &mut Operation, generator: &mut SchemaGenerator) {
                $(<$arg as DocArg>::describe(op, generator);)*
                R::describe(op, generator);
            }
        }
    };
}

documented!();
documented!(A1);
documented!(A1, A2);
documented!(A1, A2, A3);
documented!(A1, A2, A3, A4);
documented!(A1, A2, A3, A4, A5);
documented!(A1, A2, A3, A4, A5, A6);
documented!(A1, A2, A3, A4, A5, A6, A7);

impl<T: JsonSchema> DocArg for Json<T> {
    fn describe(op: &mut Operation, generator: &mut SchemaGenerator) {
        op.request = Some(generator.subschema_for::<T>());
    }
}

impl<T: JsonSchema> DocArg for Query<T> {
    fn describe(op: &mut Operation, generator: &mut SchemaGenerator) {
        // Query parameters are the properties of the query's own (inline) schema.
        let schema = generator.root_schema_for::<T>();
        let required: Vec<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                let property = Schema::try_from(property.clone()).unwrap_or_default();
                op.query.push((name.clone(), property, required.contains(name)));
            }
        }
    }
}

impl<T> DocArg for Path<T> {}
impl<S> DocArg for axum::extract::State<S> {}
impl DocArg for ChecksCredentials {
    fn describe(op: &mut Operation, _generator: &mut SchemaGenerator) {
        op.checks_credentials = true;
    }
}
impl DocArg for IfMatch {
    fn describe(op: &mut Operation, _generator: &mut SchemaGenerator) {
        op.if_match = true;
    }
}
impl DocArg for axum::http::HeaderMap {}
impl DocArg for axum::http::Method {}
impl DocArg for axum::http::Uri {}

impl DocArg for axum::body::Body {
    fn describe(op: &mut Operation, _generator: &mut SchemaGenerator) {
        op.raw_body = true;
    }
}

impl<T: JsonSchema> DocReturn for Result<Data<T>, ApiError> {
    fn describe(op: &mut Operation, generator: &mut SchemaGenerator) {
        op.response = Some((200, Some(generator.subschema_for::<T>()), false));
    }
}

impl<T: JsonSchema> DocReturn for Data<T> {
    fn describe(op: &mut Operation, generator: &mut SchemaGenerator) {
        op.response = Some((200, Some(generator.subschema_for::<T>()), false));
    }
}

impl<T: JsonSchema> DocReturn for Result<Created<T>, ApiError> {
    fn describe(op: &mut Operation, generator: &mut SchemaGenerator) {
        op.response = Some((201, Some(generator.subschema_for::<T>()), false));
    }
}

impl<T: JsonSchema> DocReturn for Result<Paginated<T>, ApiError> {
    fn describe(op: &mut Operation, generator: &mut SchemaGenerator) {
        op.response = Some((200, Some(generator.subschema_for::<T>()), true));
    }
}

/// An answer the handler shapes itself (a file, a replay's 200 or 201).
impl DocReturn for Result<Accepted, ApiError> {
    fn describe(op: &mut Operation, generator: &mut SchemaGenerator) {
        op.response = Some((202, Some(generator.subschema_for::<()>()), false));
    }
}

impl DocReturn for Result<axum::response::Response, ApiError> {
    fn describe(op: &mut Operation, _generator: &mut SchemaGenerator) {
        op.response = Some((200, None, false));
    }
}

impl DocReturn for axum::response::Response {
    fn describe(op: &mut Operation, _generator: &mut SchemaGenerator) {
        op.response = Some((200, None, false));
    }
}

/// How one handler describes itself: its arguments' and answer's parts.
type Describe = fn(&mut Operation, &mut SchemaGenerator);

/// The operations documented so far. Their schemas are generated only when
/// the document is written, in one pass whose working memory is all given
/// back before the service takes a request: generated route by route, the
/// schemas' trees were interleaved with the router's own allocations, and
/// the megabytes they left behind stayed resident for the process's life.
#[derive(Default)]
pub struct Docs {
    operations: Vec<(Operation, Describe)>,
}

impl Docs {
    pub fn add<H: Documented<D>, D>(&mut self, method: &Method, path: &str, permission: Option<&str>) {
        let op = Operation {
            method: method.as_str().to_ascii_lowercase(),
            path: path.to_owned(),
            permission: permission.map(str::to_owned),
            authenticated: permission.is_some(),
            company_scoped: permission.is_some(),
            ..Operation::default()
        };
        self.operations.push((op, H::describe));
    }

    /// The same, for a handler whose type has no name (a closure).
    pub fn add_handler<H: Documented<D>, D>(&mut self, _handler: &H, method: &Method, path: &str) {
        self.add::<H, D>(method, path, None);
    }

    pub fn merge(&mut self, other: Docs) {
        self.operations.extend(other.operations);
    }

    /// The OpenAPI 3.1 document of every operation added, written out: the
    /// document never changes while the process runs, and its bytes take a
    /// fraction of the memory its tree does. Each path's operations are
    /// shaped only as they are written, so the paths' tree never exists whole.
    pub fn document(self, title: &str, version: &str, description: &str) -> bytes::Bytes {
        let settings = SchemaSettings::draft2020_12().with(|s| s.definitions_path = "/components/schemas".into());
        let mut generator = settings.into_generator();
        let mut operations: Vec<Operation> = self
            .operations
            .into_iter()
            .map(|(mut op, describe)| {
                describe(&mut op, &mut generator);
                op
            })
            .collect();
        // In the order a JSON object's keys are written: by path, then method;
        // an operation documented twice keeps its last description, as a map would.
        operations.reverse();
        operations.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
        operations.dedup_by(|a, b| a.path == b.path && a.method == b.method);
        let mut schemas: serde_json::Map<String, Value> = generator.take_definitions(false).into_iter().collect();
        schemas.insert("Error".into(), error_schema());
        schemas.insert("Pagination".into(), pagination_schema());
        let mut schemas = Value::Object(schemas);
        spell_out_any(&mut schemas);
        let mut components = serde_json::Map::new();
        components.insert("schemas".into(), schemas);
        components.insert(
            "securitySchemes".into(),
            json!({"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}),
        );
        let document = Document {
            components: Value::Object(components),
            info: json!({"title": title, "version": version, "description": description}),
            openapi: "3.1.0",
            paths: Paths(&operations),
        };
        bytes::Bytes::from(serde_json::to_vec(&document).unwrap_or_default())
    }
}

/// The document, its keys in the order a JSON object's keys are written.
#[derive(serde::Serialize)]
struct Document<'a> {
    components: Value,
    info: Value,
    openapi: &'static str,
    paths: Paths<'a>,
}

/// Every path and its operations, sorted by path and method.
struct Paths<'a>(&'a [Operation]);

impl serde::Serialize for Paths<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut paths = serializer.serialize_map(None)?;
        for same_path in self.0.chunk_by(|a, b| a.path == b.path) {
            paths.serialize_entry(&same_path[0].path, &Methods(same_path))?;
        }
        paths.end()
    }
}

/// One path's operations, each shaped only while it is written.
struct Methods<'a>(&'a [Operation]);

impl serde::Serialize for Methods<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut methods = serializer.serialize_map(Some(self.0.len()))?;
        for op in self.0 {
            let mut described = operation(op);
            spell_out_any(&mut described);
            methods.serialize_entry(&op.method, &described)?;
        }
        methods.end()
    }
}

/// A property that may hold any JSON value is written `{}` rather than the
/// boolean schema `true`: the same meaning, which every tool reading the
/// document (client generators, fuzzers) understands.
fn spell_out_any(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "properties"
                    && let Value::Object(properties) = child
                {
                    for property in properties.values_mut() {
                        if *property == Value::Bool(true) {
                            *property = json!({});
                        }
                    }
                }
                spell_out_any(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(spell_out_any),
        _ => {}
    }
}

fn operation(op: &Operation) -> Value {
    let mut parameters: Vec<Value> = op
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if op.company_scoped {
        parameters.push(json!({"name": "x-org", "in": "header", "required": true, "description": "The company the call acts in", "schema": {"type": "string", "format": "uuid"}}));
        parameters.push(json!({"name": "x-access-revision", "in": "header", "required": false, "description": "Decide on access at least this fresh (the revision a write returned)", "schema": {"type": "integer", "minimum": 0}}));
    }
    if op.if_match {
        parameters.push(json!({"name": "If-Match", "in": "header", "required": false, "description": "Change only if the resource is still at this version (its `version`, e.g. \"3\")", "schema": {"type": "string"}}));
    }
    for (name, schema, required) in &op.query {
        parameters.push(json!({"name": name, "in": "query", "required": required, "schema": schema}));
    }
    let mut responses = serde_json::Map::new();
    if let Some((status, data, paginated)) = &op.response {
        let body = match (data, paginated) {
            (Some(d), true) => Some(
                json!({"type": "object", "required": ["success", "data", "pagination"], "properties": {"success": {"const": true}, "data": {"type": "array", "items": d}, "pagination": {"$ref": "#/components/schemas/Pagination"}}}),
            ),
            (Some(d), false) => Some(
                json!({"type": "object", "required": ["success", "data"], "properties": {"success": {"const": true}, "data": d, "message": {"type": "string"}}}),
            ),
            (None, _) => None,
        };
        let mut answer = json!({"description": "success"});
        if let Some(schema) = body {
            answer["content"] = json!({"application/json": {"schema": schema}});
        }
        responses.insert(status.to_string(), answer);
    }
    let errors: &[(&str, &str)] = &[
        ("400", "invalid input: the fields and why"),
        ("401", "no valid access token"),
        ("403", "not allowed"),
        ("404", "not found (or another company's)"),
        ("409", "a conflict with the current state"),
        ("429", "rate limited; see Retry-After"),
        ("503", "a dependency could not answer; see Retry-After"),
    ];
    if op.if_match {
        responses.insert(
            "412".into(),
            json!({"description": "the resource is no longer at the version named in If-Match", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    let has_body = op.request.is_some() || op.raw_body;
    let body_errors: &[(&str, &str)] =
        &[("413", "the request body is too large"), ("415", "the body is not of the content type documented")];
    for (status, description) in errors.iter().chain(if has_body { body_errors } else { &[] }) {
        let may_answer = op.authenticated || (*status == "401" && op.checks_credentials);
        if !may_answer && ["401", "403"].contains(status) {
            continue;
        }
        responses.insert(
            (*status).into(),
            json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    let mut out = json!({"parameters": parameters, "responses": responses});
    if let Some(schema) = &op.request {
        out["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema}}});
    } else if op.raw_body {
        out["requestBody"] = json!({"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}});
    }
    if op.authenticated {
        out["security"] = json!([{"bearer": []}]);
    }
    if let Some(p) = &op.permission {
        out["x-permission"] = json!(p);
        out["description"] = json!(format!("Needs the permission `{p}`."));
    }
    out
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["success", "error", "message", "statusCode", "details", "requestId"],
        "properties": {
            "success": {"const": false},
            "error": {"type": "string", "description": "a stable machine code, e.g. VALIDATION_FAILED"},
            "message": {"type": "string"},
            "statusCode": {"type": "integer"},
            "details": {"type": "array", "items": {"type": "object", "required": ["field", "issue"], "properties": {"field": {"type": "string"}, "issue": {"type": "string"}}}},
            "requestId": {"type": "string"},
        },
    })
}

fn pagination_schema() -> Value {
    json!({
        "type": "object",
        "required": ["page", "limit", "total", "totalPages"],
        "properties": {"page": {"type": "integer"}, "limit": {"type": "integer"}, "total": {"type": "integer"}, "totalPages": {"type": "integer"}},
    })
}

/// An axum router that documents every route it serves.
pub struct DocRouter<S> {
    router: Router<S>,
    docs: Docs,
}

impl<S: Clone + Send + Sync + 'static> Default for DocRouter<S> {
    fn default() -> Self {
        Self { router: Router::new(), docs: Docs::default() }
    }
}

impl<S: Clone + Send + Sync + 'static> DocRouter<S> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn route<H, T, D>(mut self, method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, S> + Documented<D>,
        T: 'static,
    {
        self.docs.add::<H, D>(&method, path, None);
        let filter = MethodFilter::try_from(method).unwrap_or(MethodFilter::GET);
        let handler: MethodRouter<S> = axum::routing::on(filter, handler);
        self.router = self.router.route(path, handler);
        self
    }

    /// Routes that are served but not part of the API (health, metrics, keys).
    pub fn undocumented(mut self, path: &str, handler: MethodRouter<S>) -> Self {
        self.router = self.router.route(path, handler);
        self
    }

    pub fn merge(mut self, other: DocRouter<S>) -> Self {
        self.router = self.router.merge(other.router);
        self.docs.merge(other.docs);
        self
    }

    pub fn into_parts(self) -> (Router<S>, Docs) {
        (self.router, self.docs)
    }
}

/// `GET /openapi.json`, serving the document.
pub fn serve(document: bytes::Bytes) -> axum::Router {
    axum::Router::new().route(
        "/openapi.json",
        axum::routing::get(move || {
            let body = document.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn count() -> Data<u32> {
        Data(1)
    }

    async fn name() -> Data<String> {
        Data(String::new())
    }

    #[test]
    fn the_document_lists_each_operation_once_in_key_order() {
        let mut docs = Docs::default();
        docs.add_handler(&name, &Method::GET, "/b");
        docs.add_handler(&count, &Method::POST, "/a");
        docs.add_handler(&count, &Method::GET, "/a");
        // Documented again: the last description stands, as in a map.
        docs.add_handler(&name, &Method::GET, "/a");
        let bytes = docs.document("Test", "1", "a test");
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        assert!(text.starts_with(r#"{"components":"#), "keys in order: {text}");
        assert_eq!(text.matches(r#""get":"#).count(), 2, "GET /a once, GET /b once");
        let at = |needle: &str| text.find(needle).expect(needle);
        assert!(at(r#""/a":"#) < at(r#""/b":"#) && at(r#""get":"#) < at(r#""post":"#));
        let document: Value = serde_json::from_slice(&bytes).expect("JSON");
        let data = &document["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
            ["data"];
        assert_eq!(data["type"], "string");
        assert_eq!(document["info"]["title"], "Test");
        assert_eq!(document["openapi"], "3.1.0");
    }
}

//! OpenAPI 3.1 documents built from the handlers themselves: a route is
//! registered once, through [`DocRouter`] (or the guard's route table), and
//! its request body, query, path parameters and answer are read from the
//! handler's signature. No route can be served without being documented.

use std::collections::BTreeMap;
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

/// One schema generator and the operations documented with it.
pub struct Docs {
    generator: SchemaGenerator,
    operations: Vec<Operation>,
}

impl Default for Docs {
    fn default() -> Self {
        let settings = SchemaSettings::draft2020_12().with(|s| s.definitions_path = "/components/schemas".into());
        Self { generator: settings.into_generator(), operations: Vec::new() }
    }
}

impl Docs {
    pub fn add<H: Documented<D>, D>(&mut self, method: &Method, path: &str, permission: Option<&str>) {
        let mut op = Operation {
            method: method.as_str().to_ascii_lowercase(),
            path: path.to_owned(),
            permission: permission.map(str::to_owned),
            ..Operation::default()
        };
        H::describe(&mut op, &mut self.generator);
        if permission.is_some() {
            op.authenticated = true;
            op.company_scoped = true;
        }
        self.operations.push(op);
    }

    /// The same, for a handler whose type has no name (a closure).
    pub fn add_handler<H: Documented<D>, D>(&mut self, _handler: &H, method: &Method, path: &str) {
        self.add::<H, D>(method, path, None);
    }

    pub fn merge(&mut self, other: Docs) {
        let mut other = other;
        for (name, schema) in other.generator.take_definitions(true) {
            self.generator.definitions_mut().insert(name, schema);
        }
        self.operations.extend(other.operations);
    }

    /// The OpenAPI 3.1 document of every operation added.
    pub fn document(&mut self, title: &str, version: &str, description: &str) -> Value {
        let mut paths: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
        for op in &self.operations {
            paths.entry(op.path.clone()).or_default().insert(op.method.clone(), operation(op));
        }
        let mut schemas: serde_json::Map<String, Value> = self.generator.definitions().clone().into_iter().collect();
        schemas.insert("Error".into(), error_schema());
        schemas.insert("Pagination".into(), pagination_schema());
        let mut document = json!({
            "openapi": "3.1.0",
            "info": {"title": title, "version": version, "description": description},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            },
        });
        spell_out_any(&mut document);
        document
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
pub fn serve(document: Value) -> axum::Router {
    // Written out once: the document never changes while the process runs,
    // and its bytes take a fraction of the memory its tree does.
    let body = bytes::Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
    axum::Router::new().route(
        "/openapi.json",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    )
}

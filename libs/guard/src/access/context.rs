//! What business code receives once the guard has passed, and its extractor.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use marquee_kit::ApiError;
use uuid::Uuid;

/// Who is calling, in which company, allowed to do what: what business code
/// receives once the guard has passed.
#[derive(Debug, Clone)]
pub struct AccessContext {
    pub user_id: Uuid,
    pub company_id: Uuid,
    pub session_id: Uuid,
    pub permissions: Arc<BTreeSet<String>>,
    pub limits: Arc<BTreeMap<String, i64>>,
    pub revision: u64,
}

impl AccessContext {
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }
    pub fn limit(&self, name: &str) -> Option<i64> {
        self.limits.get(name).copied()
    }
}

/// The guard's context, for handlers.
pub struct Ctx(pub AccessContext);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Only guarded routes have a context; anything else is refused.
        parts
            .extensions
            .get::<AccessContext>()
            .cloned()
            .map(Ctx)
            .ok_or_else(|| ApiError::forbidden("PERMISSION_DENIED", "this route is not guarded"))
    }
}

impl marquee_kit::openapi::DocArg for Ctx {
    fn describe(op: &mut marquee_kit::openapi::Operation, _generator: &mut schemars::SchemaGenerator) {
        op.authenticated = true;
        op.company_scoped = true;
    }
}

//! The one place a service declares its protected routes.

use std::sync::Arc;

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use marquee_kit::http::Below;
use serde::Serialize;

use super::*;

/// One protected route: method, path, and the permission it needs.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RoutePermission {
    pub method: String,
    pub path: &'static str,
    pub permission: &'static str,
}

/// The one place a service declares its protected routes: each route is added
/// with its permission, so no protected route can exist without one.
pub struct RouteTable<S> {
    router: axum::Router<S>,
    guard: Guard,
    entries: Vec<RoutePermission>,
    docs: marquee_kit::openapi::Docs,
}

#[derive(Clone)]
struct Needs {
    guard: Guard,
    permission: &'static str,
}

impl marquee_kit::http::Around for Needs {
    fn around<S: Below>(
        &self,
        request: Request,
        inner: S,
    ) -> impl std::future::Future<Output = Response> + Send + 'static {
        enforce(self.clone(), request, inner)
    }
}

async fn enforce<S: Below>(needs: Needs, mut request: Request, inner: S) -> Response {
    let token = crate::extract::bearer_in(request.headers());
    match needs.guard.check(request.headers(), token, needs.permission).await {
        Ok(context) => {
            request.extensions_mut().insert(context);
            marquee_kit::http::pass(inner, request).await
        }
        Err(e) => e.into_response(),
    }
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    pub fn new(guard: Guard) -> Self {
        Self { router: axum::Router::new(), guard, entries: Vec::new(), docs: Default::default() }
    }

    pub fn route<H, T, D>(mut self, method: Method, path: &'static str, permission: &'static str, handler: H) -> Self
    where
        H: Handler<T, S> + marquee_kit::openapi::Documented<D>,
        T: 'static,
    {
        self.docs.add::<H, D>(&method, path, Some(permission));
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        let handler: MethodRouter<S> = axum::routing::on(filter, handler);
        let needs = Needs { guard: self.guard.clone(), permission };
        self.router = self.router.route(path, handler.layer(marquee_kit::http::AroundLayer::new(needs)));
        self.entries.push(RoutePermission { method: method.to_string(), path, permission });
        self
    }

    pub fn entries(&self) -> &[RoutePermission] {
        &self.entries
    }

    /// The routes, plus `GET /v1/meta/permissions` listing every protected
    /// route and its permission for clients and auditors; and their documentation.
    pub fn into_parts(mut self) -> (axum::Router<S>, marquee_kit::openapi::Docs) {
        let entries = Arc::new(self.entries);
        let permissions = move || {
            let entries = entries.clone();
            async move { marquee_kit::Data(entries.as_ref().clone()) }
        };
        self.docs.add_handler(&permissions, &Method::GET, "/v1/meta/permissions");
        let router = self.router.route("/v1/meta/permissions", axum::routing::get(permissions));
        (router, self.docs)
    }

    pub fn into_router(self) -> axum::Router<S> {
        self.into_parts().0
    }
}

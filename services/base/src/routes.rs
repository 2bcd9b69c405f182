//! The one table of base's protected routes: each is declared here with the
//! permission it needs, so none can exist without one.

use axum::http::Method;
use marquee_guard::{Guard, RouteTable};

use crate::domains::{activity, artists};
use crate::state::AppState;

pub fn table(guard: Guard) -> RouteTable<AppState> {
    RouteTable::new(guard)
        .route(Method::GET, "/v1/artists", "basic.artist.view", artists::routes::list)
        .route(
            Method::POST,
            "/v1/artists",
            "basic.artist.create",
            artists::routes::create,
        )
        .route(
            Method::GET,
            "/v1/artists/{id}",
            "basic.artist.view",
            artists::routes::show,
        )
        .route(
            Method::PATCH,
            "/v1/artists/{id}",
            "basic.artist.edit",
            artists::routes::update,
        )
        .route(
            Method::DELETE,
            "/v1/artists/{id}",
            "basic.artist.delete",
            artists::routes::delete,
        )
        .route(
            Method::GET,
            "/v1/activity",
            "basic.dashboard.view",
            activity::routes::list,
        )
}

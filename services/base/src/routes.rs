//! The one table of base's protected routes: each is declared here with the
//! permission it needs, so none can exist without one.

use axum::http::Method;
use marquee_guard::{Guard, RouteTable};

use crate::domains::{activity, artists, events, vendors, venues};
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
        .route(Method::GET, "/v1/venues", "basic.venue.view", venues::routes::list)
        .route(Method::POST, "/v1/venues", "basic.venue.create", venues::routes::create)
        .route(Method::GET, "/v1/venues/{id}", "basic.venue.view", venues::routes::show)
        .route(
            Method::PATCH,
            "/v1/venues/{id}",
            "basic.venue.edit",
            venues::routes::update,
        )
        .route(
            Method::DELETE,
            "/v1/venues/{id}",
            "basic.venue.delete",
            venues::routes::delete,
        )
        .route(Method::GET, "/v1/vendors", "basic.vendor.view", vendors::routes::list)
        .route(
            Method::POST,
            "/v1/vendors",
            "basic.vendor.create",
            vendors::routes::create,
        )
        .route(
            Method::GET,
            "/v1/vendors/{id}",
            "basic.vendor.view",
            vendors::routes::show,
        )
        .route(
            Method::PATCH,
            "/v1/vendors/{id}",
            "basic.vendor.edit",
            vendors::routes::update,
        )
        .route(
            Method::DELETE,
            "/v1/vendors/{id}",
            "basic.vendor.delete",
            vendors::routes::delete,
        )
        .route(Method::GET, "/v1/events", "basic.event.view", events::routes::list)
        .route(Method::POST, "/v1/events", "basic.event.create", events::routes::create)
        .route(Method::GET, "/v1/events/{id}", "basic.event.view", events::routes::show)
        .route(
            Method::PATCH,
            "/v1/events/{id}",
            "basic.event.edit",
            events::routes::update,
        )
        .route(
            Method::DELETE,
            "/v1/events/{id}",
            "basic.event.delete",
            events::routes::delete,
        )
        .route(
            Method::POST,
            "/v1/events/{id}/{action}",
            "basic.event.edit",
            events::routes::act,
        )
        .route(
            Method::GET,
            "/v1/activity",
            "basic.dashboard.view",
            activity::routes::list,
        )
}

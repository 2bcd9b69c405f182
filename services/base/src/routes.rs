//! The one table of base's protected routes: each is declared here with the
//! permission it needs, so none can exist without one.

use axum::http::Method;
use marquee_guard::{Guard, RouteTable};

use crate::domains::{
    activity, artists, calendar, checkin, crew, dashboard, events, media, offers, orders, shifts, ticketing, vendors,
    venues, waitlist, webhooks, workspace,
};
use crate::state::AppState;

pub fn table(guard: Guard) -> RouteTable<AppState> {
    RouteTable::new(guard)
        .route(Method::GET, "/v1/artists", "basic.artist.view", artists::routes::list)
        .route(Method::POST, "/v1/artists", "basic.artist.create", artists::routes::create)
        .route(Method::GET, "/v1/artists/{id}", "basic.artist.view", artists::routes::show)
        .route(Method::PATCH, "/v1/artists/{id}", "basic.artist.edit", artists::routes::update)
        .route(Method::DELETE, "/v1/artists/{id}", "basic.artist.delete", artists::routes::delete)
        .route(Method::GET, "/v1/venues", "basic.venue.view", venues::routes::list)
        .route(Method::POST, "/v1/venues", "basic.venue.create", venues::routes::create)
        .route(Method::GET, "/v1/venues/{id}", "basic.venue.view", venues::routes::show)
        .route(Method::PATCH, "/v1/venues/{id}", "basic.venue.edit", venues::routes::update)
        .route(Method::DELETE, "/v1/venues/{id}", "basic.venue.delete", venues::routes::delete)
        .route(Method::GET, "/v1/vendors", "basic.vendor.view", vendors::routes::list)
        .route(Method::POST, "/v1/vendors", "basic.vendor.create", vendors::routes::create)
        .route(Method::GET, "/v1/vendors/{id}", "basic.vendor.view", vendors::routes::show)
        .route(Method::PATCH, "/v1/vendors/{id}", "basic.vendor.edit", vendors::routes::update)
        .route(Method::DELETE, "/v1/vendors/{id}", "basic.vendor.delete", vendors::routes::delete)
        .route(Method::GET, "/v1/events", "basic.event.view", events::routes::list)
        .route(Method::POST, "/v1/events", "basic.event.create", events::routes::create)
        .route(Method::GET, "/v1/events/{id}", "basic.event.view", events::routes::show)
        .route(Method::PATCH, "/v1/events/{id}", "basic.event.edit", events::routes::update)
        .route(Method::DELETE, "/v1/events/{id}", "basic.event.delete", events::routes::delete)
        .route(Method::GET, "/v1/events/{id}/ticket-types", "basic.ticketing.view", ticketing::routes::types)
        .route(Method::POST, "/v1/events/{id}/ticket-types", "basic.ticketing.create", ticketing::routes::create_type)
        .route(Method::GET, "/v1/events/{id}/registrations", "basic.ticketing.view", ticketing::routes::registrations)
        .route(Method::POST, "/v1/events/{id}/registrations", "basic.ticketing.create", ticketing::routes::register)
        .route(
            Method::POST,
            "/v1/events/{id}/registrations/{registration_id}/cancel",
            "basic.ticketing.edit",
            ticketing::routes::cancel,
        )
        .route(
            Method::POST,
            "/v1/events/{id}/registrations/{registration_id}/check-in",
            "basic.ticketing.edit",
            ticketing::routes::check_in,
        )
        .route(Method::GET, "/v1/events/{id}/sales", "basic.ticketing.view", ticketing::routes::sales)
        .route(Method::GET, "/v1/events/{id}/quotas", "basic.ticketing.view", orders::routes::quotas)
        .route(Method::POST, "/v1/events/{id}/quotas", "basic.ticketing.create", orders::routes::create_quota)
        .route(Method::GET, "/v1/events/{id}/vouchers", "basic.ticketing.view", orders::routes::vouchers)
        .route(Method::POST, "/v1/events/{id}/vouchers", "basic.ticketing.create", orders::routes::create_voucher)
        .route(Method::DELETE, "/v1/vouchers/{id}", "basic.ticketing.edit", orders::routes::delete_voucher)
        .route(Method::GET, "/v1/events/{id}/orders", "basic.ticketing.view", orders::routes::list)
        .route(Method::POST, "/v1/events/{id}/orders", "basic.ticketing.create", orders::routes::reserve)
        .route(Method::GET, "/v1/orders/{id}", "basic.ticketing.view", orders::routes::show)
        .route(Method::POST, "/v1/orders/{id}/confirm", "basic.ticketing.edit", orders::routes::confirm)
        .route(Method::POST, "/v1/orders/{id}/cancel", "basic.ticketing.edit", orders::routes::cancel)
        .route(Method::POST, "/v1/orders/{id}/refund", "basic.ticketing.edit", orders::routes::refund)
        .route(Method::GET, "/v1/events/{id}/waitlist", "basic.ticketing.view", waitlist::routes::list)
        .route(Method::POST, "/v1/events/{id}/waitlist", "basic.ticketing.create", waitlist::routes::join)
        .route(Method::GET, "/v1/waitlist-offers/{token}", "basic.ticketing.view", waitlist::routes::offer)
        .route(Method::GET, "/v1/events/{id}/ticket-keys", "basic.checkin.scan", checkin::routes::ticket_keys)
        .route(Method::GET, "/v1/events/{id}/checkin-lists", "basic.checkin.scan", checkin::routes::lists)
        .route(Method::POST, "/v1/events/{id}/checkin-lists", "basic.ticketing.edit", checkin::routes::create_list)
        .route(Method::POST, "/v1/checkin-lists/{id}/scans", "basic.checkin.scan", checkin::routes::scan)
        .route(Method::POST, "/v1/checkin-lists/{id}/scans/batch", "basic.checkin.scan", checkin::routes::batch)
        .route(Method::POST, "/v1/events/{id}/{action}", "basic.event.edit", events::routes::act)
        .route(Method::GET, "/v1/offers", "basic.offer.view", offers::routes::list)
        .route(Method::POST, "/v1/offers", "basic.offer.create", offers::routes::create)
        .route(Method::GET, "/v1/offers/{id}", "basic.offer.view", offers::routes::show)
        .route(Method::POST, "/v1/offers/{id}/{action}", "basic.offer.edit", offers::routes::act)
        .route(Method::GET, "/v1/calendar", "basic.calendar.view", calendar::routes::calendar)
        .route(Method::POST, "/v1/calendar/holds", "basic.calendar.edit", calendar::routes::hold)
        .route(Method::GET, "/v1/calendar/holds", "basic.calendar.view", calendar::routes::holds)
        .route(Method::GET, "/v1/calendar/holds/{id}", "basic.calendar.view", calendar::routes::show)
        .route(Method::DELETE, "/v1/calendar/holds/{id}", "basic.calendar.edit", calendar::routes::release)
        .route(Method::POST, "/v1/calendar/holds/{id}/challenge", "basic.calendar.edit", calendar::routes::challenge)
        .route(Method::POST, "/v1/calendar/holds/{id}/confirm", "basic.calendar.edit", calendar::routes::confirm)
        .route(Method::GET, "/v1/calendar/settings", "basic.calendar.view", calendar::routes::settings)
        .route(Method::PUT, "/v1/calendar/settings", "basic.calendar.edit", calendar::routes::put_settings)
        .route(Method::GET, "/v1/workspaces", "basic.workspace.view", workspace::routes::boards)
        .route(Method::POST, "/v1/workspaces", "basic.workspace.create", workspace::routes::create_board)
        .route(Method::GET, "/v1/workspaces/{id}", "basic.workspace.view", workspace::routes::board)
        .route(Method::PATCH, "/v1/workspaces/{id}", "basic.workspace.edit", workspace::routes::update_board)
        .route(Method::DELETE, "/v1/workspaces/{id}", "basic.workspace.delete", workspace::routes::delete_board)
        .route(Method::GET, "/v1/tasks", "basic.workspace.view", workspace::routes::tasks)
        .route(Method::POST, "/v1/tasks", "basic.workspace.create", workspace::routes::create_task)
        .route(Method::GET, "/v1/tasks/{id}", "basic.workspace.view", workspace::routes::task)
        .route(Method::PATCH, "/v1/tasks/{id}", "basic.workspace.edit", workspace::routes::update_task)
        .route(Method::DELETE, "/v1/tasks/{id}", "basic.workspace.delete", workspace::routes::delete_task)
        .route(Method::GET, "/v1/tasks/{id}/comments", "basic.workspace.view", workspace::routes::comments)
        .route(Method::POST, "/v1/tasks/{id}/comments", "basic.workspace.create", workspace::routes::comment)
        .route(Method::GET, "/v1/media", "basic.media.view", media::routes::list)
        .route(Method::POST, "/v1/media", "basic.media.create", media::routes::upload)
        .route(Method::GET, "/v1/media/usage", "basic.media.view", media::routes::usage)
        .route(Method::GET, "/v1/media/{id}", "basic.media.view", media::routes::show)
        .route(Method::GET, "/v1/media/{id}/content", "basic.media.view", media::routes::content)
        .route(Method::DELETE, "/v1/media/{id}", "basic.media.delete", media::routes::delete)
        .route(Method::GET, "/v1/crew", "basic.crew.view", crew::routes::list)
        .route(Method::POST, "/v1/crew", "basic.crew.create", crew::routes::create)
        .route(Method::GET, "/v1/crew/{id}", "basic.crew.view", crew::routes::show)
        .route(Method::PATCH, "/v1/crew/{id}", "basic.crew.edit", crew::routes::update)
        .route(Method::DELETE, "/v1/crew/{id}", "basic.crew.delete", crew::routes::delete)
        .route(Method::GET, "/v1/events/{id}/shifts", "basic.crew.view", shifts::routes::shifts)
        .route(Method::POST, "/v1/events/{id}/shifts", "basic.crew.create", shifts::routes::create_shift)
        .route(Method::GET, "/v1/shifts/{id}", "basic.crew.view", shifts::routes::shift)
        .route(Method::PATCH, "/v1/shifts/{id}", "basic.crew.edit", shifts::routes::update_shift)
        .route(Method::DELETE, "/v1/shifts/{id}", "basic.crew.delete", shifts::routes::delete_shift)
        .route(Method::POST, "/v1/shifts/{id}/assignments", "basic.crew.edit", shifts::routes::assign)
        .route(Method::DELETE, "/v1/shifts/{id}/assignments/{crew_id}", "basic.crew.edit", shifts::routes::unassign)
        .route(Method::GET, "/v1/dashboard", "basic.dashboard.view", dashboard::show)
        .route(Method::GET, "/v1/activity", "basic.dashboard.view", activity::routes::list)
        .route(Method::GET, "/v1/webhooks/event-types", "basic.webhook.view", webhooks::routes::event_types)
        .route(Method::GET, "/v1/webhooks/endpoints", "basic.webhook.view", webhooks::routes::list)
        .route(Method::POST, "/v1/webhooks/endpoints", "basic.webhook.manage", webhooks::routes::create)
        .route(Method::GET, "/v1/webhooks/endpoints/{id}", "basic.webhook.view", webhooks::routes::show)
        .route(Method::PATCH, "/v1/webhooks/endpoints/{id}", "basic.webhook.manage", webhooks::routes::update)
        .route(Method::DELETE, "/v1/webhooks/endpoints/{id}", "basic.webhook.manage", webhooks::routes::delete)
        .route(Method::GET, "/v1/webhooks/endpoints/{id}/secret", "basic.webhook.manage", webhooks::routes::secret)
        .route(
            Method::POST,
            "/v1/webhooks/endpoints/{id}/rotate-secret",
            "basic.webhook.manage",
            webhooks::routes::rotate,
        )
        .route(
            Method::GET,
            "/v1/webhooks/endpoints/{id}/deliveries",
            "basic.webhook.view",
            webhooks::routes::deliveries,
        )
        .route(
            Method::POST,
            "/v1/webhooks/deliveries/{id}/redeliver",
            "basic.webhook.manage",
            webhooks::routes::redeliver,
        )
}

//! The dashboard: what a company should look at now.

use axum::extract::State;
use marquee_guard::{AccessContext, Ctx};
use marquee_kit::ApiError;
use serde::Serialize;

use crate::domains::activity::{self, ActivityEntry};
use crate::domains::calendar::{self, Item};
use crate::domains::events::model::{Event, EventFilter};
use crate::domains::workspace::model::{Task, TaskFilter, TaskStatus};
use crate::domains::{events, workspace};
use crate::error::Error;
use crate::state::AppState;

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketSales {
    pub event_id: uuid::Uuid,
    pub name: String,
    pub sold: u32,
    pub capacity: u32,
}

/// Each section is shown only to those who may view its area (`null`
/// otherwise): the dashboard never tells more than the areas' own routes.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    /// With `basic.event.view`.
    pub upcoming_events: Option<Vec<Event>>,
    /// Tickets sold against capacity for the upcoming events; with `basic.event.view` and `basic.ticketing.view`.
    pub ticket_sales: Option<Vec<TicketSales>>,
    /// Offers sent and waiting for an answer; with `basic.offer.view`.
    pub pending_offers: Option<Vec<crate::domains::offers::Offer>>,
    /// With `basic.workspace.view`.
    pub open_tasks: Option<OpenTasks>,
    /// Upcoming shifts still short of people; with `basic.crew.view`.
    pub unfilled_shifts: Option<UnfilledShifts>,
    /// With `basic.calendar.view`.
    pub pending_holds: Option<Vec<Item>>,
    /// Entries of the areas the viewer may view.
    pub recent_activity: Vec<ActivityEntry>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenTasks {
    pub count: u64,
    pub due_first: Vec<Task>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnfilledShifts {
    pub count: u64,
    pub soonest: Vec<crate::domains::shifts::model::Shift>,
}

const SHOWN: u64 = 5;

async fn build(state: &AppState, ctx: &AccessContext) -> Result<Dashboard, Error> {
    let now = state.clock.now();
    let upcoming_events: Option<Vec<Event>> = if ctx.can("basic.event.view") {
        let upcoming = EventFilter { from: Some(now), ..EventFilter::default() };
        let (events, _) = events::repo::list(&state.db, ctx.company_id, &upcoming, 0, 50).await?;
        Some(events.into_iter().filter(|e| e.status.is_live() && e.starts_at >= now).take(SHOWN as usize).collect())
    } else {
        None
    };
    let ticket_sales = match &upcoming_events {
        Some(events) if ctx.can("basic.ticketing.view") => Some(ticket_sales(state, ctx, events).await?),
        _ => None,
    };
    let pending_offers = if ctx.can("basic.offer.view") {
        let sent = crate::domains::offers::OfferFilter {
            status: Some(crate::domains::offers::Status::Sent),
            ..Default::default()
        };
        Some(crate::domains::offers::repo::list(&state.db, ctx.company_id, &sent, 0, SHOWN).await?.0)
    } else {
        None
    };
    let open_tasks = if ctx.can("basic.workspace.view") { Some(open_tasks(state, ctx).await?) } else { None };
    let pending_holds = if ctx.can("basic.calendar.view") {
        let horizon = calendar::Range { from: now, to: now + chrono::Duration::days(calendar::MAX_RANGE_DAYS) };
        Some(
            calendar::service::calendar(state, ctx, &horizon)
                .await?
                .into_iter()
                .filter(|i| i.kind == calendar::Kind::Hold)
                .take(SHOWN as usize)
                .collect(),
        )
    } else {
        None
    };
    let unfilled_shifts = if ctx.can("basic.crew.view") {
        let (soonest, count) = crate::domains::shifts::repo::unfilled(&state.db, ctx.company_id, now, SHOWN).await?;
        Some(UnfilledShifts { count, soonest })
    } else {
        None
    };
    let areas = activity::visible_areas(ctx);
    let (recent_activity, _) = activity::repo::list(&state.db, ctx.company_id, &areas, None, 0, 10).await?;
    Ok(Dashboard {
        upcoming_events,
        ticket_sales,
        pending_offers,
        open_tasks,
        unfilled_shifts,
        pending_holds,
        recent_activity,
    })
}

async fn ticket_sales(state: &AppState, ctx: &AccessContext, events: &[Event]) -> Result<Vec<TicketSales>, Error> {
    let mut sales = Vec::new();
    for e in events {
        let types = crate::domains::ticketing::repo::ticket_types(&state.db, ctx.company_id, e.id).await?;
        if !types.is_empty() {
            let (sold, capacity) = types.iter().fold((0, 0), |(s, c), t| (s + t.sold, c + t.sellable()));
            sales.push(TicketSales { event_id: e.id, name: e.name.clone(), sold, capacity });
        }
    }
    Ok(sales)
}

async fn open_tasks(state: &AppState, ctx: &AccessContext) -> Result<OpenTasks, Error> {
    let mut count = 0;
    let mut due_first = Vec::new();
    for status in [TaskStatus::Todo, TaskStatus::InProgress] {
        let filter = TaskFilter { status: Some(status), ..TaskFilter::default() };
        let (tasks, total) = workspace::repo::tasks(&state.db, ctx.company_id, &filter, 0, SHOWN).await?;
        count += total;
        due_first.extend(tasks);
    }
    due_first.sort_by_key(|t| (t.due_date.is_none(), t.due_date, t.created_at));
    due_first.truncate(SHOWN as usize);
    Ok(OpenTasks { count, due_first })
}

pub async fn show(Ctx(ctx): Ctx, State(state): State<AppState>) -> Result<marquee_kit::Data<Dashboard>, ApiError> {
    Ok(marquee_kit::Data(build(&state, &ctx).await?))
}

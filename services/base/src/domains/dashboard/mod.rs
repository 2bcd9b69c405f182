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

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub upcoming_events: Vec<Event>,
    /// Tickets sold against capacity for the upcoming events.
    pub ticket_sales: Vec<TicketSales>,
    /// Offers sent and waiting for an answer.
    pub pending_offers: Vec<crate::domains::offers::Offer>,
    pub open_tasks: OpenTasks,
    /// Upcoming shifts still short of people.
    pub unfilled_shifts: UnfilledShifts,
    pub pending_holds: Vec<Item>,
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
    pub soonest: Vec<crate::domains::crew::model::Shift>,
}

const SHOWN: u64 = 5;

async fn build(state: &AppState, ctx: &AccessContext) -> Result<Dashboard, Error> {
    let now = state.clock.now();
    let upcoming = EventFilter { from: Some(now), ..EventFilter::default() };
    let (events, _) = events::repo::list(&state.db, ctx.company_id, &upcoming, 0, 50).await?;
    let upcoming_events: Vec<Event> =
        events.into_iter().filter(|e| e.status.is_live() && e.starts_at >= now).take(SHOWN as usize).collect();
    let mut ticket_sales = Vec::new();
    for e in &upcoming_events {
        let types = crate::domains::ticketing::repo::ticket_types(&state.db, ctx.company_id, e.id).await?;
        if !types.is_empty() {
            let (sold, capacity) = types.iter().fold((0, 0), |(s, c), t| (s + t.sold, c + t.capacity));
            ticket_sales.push(TicketSales { event_id: e.id, name: e.name.clone(), sold, capacity });
        }
    }
    let sent = crate::domains::offers::OfferFilter {
        status: Some(crate::domains::offers::Status::Sent),
        ..Default::default()
    };
    let (pending_offers, _) = crate::domains::offers::repo::list(&state.db, ctx.company_id, &sent, 0, SHOWN).await?;
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
    let horizon = calendar::Range { from: now, to: now + chrono::Duration::days(calendar::MAX_RANGE_DAYS) };
    let pending_holds = calendar::service::calendar(state, ctx, &horizon)
        .await?
        .into_iter()
        .filter(|i| i.kind == calendar::Kind::Hold)
        .take(SHOWN as usize)
        .collect();
    let (soonest, count_unfilled) = crate::domains::crew::repo::unfilled(&state.db, ctx.company_id, now, SHOWN).await?;
    let (recent_activity, _) = activity::repo::list(&state.db, ctx.company_id, None, 0, 10).await?;
    Ok(Dashboard {
        upcoming_events,
        ticket_sales,
        pending_offers,
        open_tasks: OpenTasks { count, due_first },
        unfilled_shifts: UnfilledShifts { count: count_unfilled, soonest },
        pending_holds,
        recent_activity,
    })
}

pub async fn show(Ctx(ctx): Ctx, State(state): State<AppState>) -> Result<marquee_kit::Ok<Dashboard>, ApiError> {
    Ok(marquee_kit::Ok(build(&state, &ctx).await?))
}

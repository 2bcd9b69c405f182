//! The rules of ranked holds. Every change to a lane happens under the
//! company's lock, so ranks are handed out and moved up one writer at a time;
//! the unique index on (lane, rank) refuses anything that slipped past.
//! Ranks move one row at a time, first rank first, so no moment has two
//! holds of a rank.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use marquee_guard::AccessContext;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use super::{
    BookingSettings, Challenge, ConfirmIn, DEFAULT_CHALLENGE_HOURS, Hold, HoldFilter, HoldIn, HoldStatus, repo,
};
use crate::domains::activity::{self, Change};
use crate::domains::events::model::{EventIn, Slot};
use crate::domains::{artists, events, venues};
use crate::error::Error;
use crate::state::AppState;

/// Who acts: a member, or Marquee itself (the nil id) when time runs out.
#[derive(Clone, Copy)]
struct Actor {
    company: Uuid,
    user: Uuid,
}

impl From<&AccessContext> for Actor {
    fn from(ctx: &AccessContext) -> Self {
        Self { company: ctx.company_id, user: ctx.user_id }
    }
}

/// Mail owed to a hold's owner, sent with the change that caused it.
struct Notice {
    owner: Uuid,
    subject: String,
    body: String,
}

/// Changes made in one transaction, with the mail they owe.
struct Work<'a> {
    state: &'a AppState,
    txn: DatabaseTransaction,
    actor: Actor,
    now: DateTime<Utc>,
    notices: Vec<Notice>,
    /// Owners already asked of auth, with the addresses it answered.
    asked: BTreeSet<Uuid>,
    addresses: BTreeMap<Uuid, String>,
}

impl<'a> Work<'a> {
    async fn begin(state: &'a AppState, actor: Actor) -> Result<Self, Error> {
        let txn = state.db.begin().await?;
        events::repo::lock_company(&txn, actor.company).await?;
        let (asked, addresses) = Default::default();
        Ok(Self { state, txn, actor, now: state.clock.now(), notices: Vec::new(), asked, addresses })
    }

    /// Begins work on hold `id`. Its lane's owners, whom the change may
    /// mail, are asked of auth first, before the company's lock is taken, so
    /// a slow auth never holds the company's hold writes up; an owner who
    /// came meanwhile is asked at commit.
    async fn begin_on(state: &'a AppState, actor: Actor, id: Uuid) -> Result<Self, Error> {
        let owners: BTreeSet<Uuid> = match repo::find(&state.db, actor.company, id).await? {
            Some(hold) => match hold.lane() {
                Some(lane) => repo::lane(&state.db, actor.company, &lane).await?.iter().map(|h| h.owner_id).collect(),
                None => BTreeSet::from([hold.owner_id]),
            },
            None => BTreeSet::new(),
        };
        let owners: Vec<Uuid> = owners.into_iter().filter(|o| *o != actor.user).collect();
        let addresses = addresses_of(state, actor.company, &owners).await;
        let mut work = Self::begin(state, actor).await?;
        work.asked.extend(owners);
        work.addresses = addresses;
        Ok(work)
    }

    async fn record(
        &self,
        hold: Uuid,
        action: &str,
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> Result<(), Error> {
        let change = Change { at: self.now, entity: "hold", entity_id: hold, action, before, after };
        activity::record_as(&self.txn, self.actor.company, self.actor.user, change).await?;
        Ok(())
    }

    fn notify(&mut self, hold: &Hold, subject: String, detail: &str) {
        if hold.owner_id == self.actor.user {
            return;
        }
        let link = self.state.config.mail.link(&format!("/calendar/holds/{}", hold.id));
        let body = format!("{detail}\n\nThe hold: {link}\n");
        self.notices.push(Notice { owner: hold.owner_id, subject, body });
    }

    /// Takes `hold` out of its lane as `to`: the ranks below move up, and a
    /// challenge it made ends.
    async fn leave(&mut self, hold: &Hold, to: HoldStatus, event: Option<Uuid>) -> Result<(), Error> {
        if !repo::finish(&self.txn, self.actor.company, hold.id, to, event, self.actor.user, self.now).await? {
            return Err(Error::HoldNotHeld(format!("the hold is {}", hold.status.as_str())));
        }
        self.record(
            hold.id,
            to.as_str(),
            serde_json::json!({"status": "held", "rank": hold.rank}),
            serde_json::json!({"status": to, "eventId": event}),
        )
        .await?;
        let (Some(lane), Some(left)) = (hold.lane(), hold.rank) else { return Ok(()) };
        for below in repo::lane(&self.txn, self.actor.company, &lane).await? {
            if below.challenge.as_ref().is_some_and(|c| c.by_hold_id == hold.id) {
                repo::set_challenge(&self.txn, self.actor.company, below.id, None, self.actor.user, self.now).await?;
                self.record(
                    below.id,
                    "challenge_ended",
                    serde_json::json!({"challenge": below.challenge}),
                    serde_json::Value::Null,
                )
                .await?;
            }
            let Some(rank) = below.rank.filter(|r| *r > left) else { continue };
            repo::set_rank(&self.txn, self.actor.company, below.id, rank - 1).await?;
            self.record(below.id, "moved_up", serde_json::json!({"rank": rank}), serde_json::json!({"rank": rank - 1}))
                .await?;
            if rank - 1 == 1 {
                let date = lane.date;
                self.notify(
                    &below,
                    format!("Your hold on {date} is now 1st"),
                    &format!("The hold above yours on {date} was {}; yours is now first.", to.as_str()),
                );
            }
        }
        Ok(())
    }

    /// Mails what is owed, then commits.
    async fn commit(mut self) -> Result<(), Error> {
        let unasked: BTreeSet<Uuid> =
            self.notices.iter().map(|n| n.owner).filter(|o| !self.asked.contains(o)).collect();
        let unasked: Vec<Uuid> = unasked.into_iter().collect();
        self.addresses.extend(addresses_of(self.state, self.actor.company, &unasked).await);
        for n in &self.notices {
            // A former member is mailed no more.
            if let Some(to) = self.addresses.get(&n.owner).filter(|a| !a.is_empty()) {
                marquee_mail::Outbox::enqueue(&self.txn, self.now, to, &n.subject, n.body.clone()).await?;
            }
        }
        let mailed = !self.notices.is_empty();
        self.txn.commit().await?;
        if mailed {
            self.state.mail.wake();
        }
        Ok(())
    }
}

/// The addresses of those of `owners` who are active members.
async fn addresses_of(state: &AppState, company: Uuid, owners: &[Uuid]) -> BTreeMap<Uuid, String> {
    if owners.is_empty() {
        return BTreeMap::new();
    }
    // Mail tells of a change; it never holds one back. Without auth's answer
    // the change stands and the notice is logged instead.
    state.guard.member_addresses(company, owners).await.unwrap_or_else(|e| {
        tracing::warn!(code = e.code, "hold owners' addresses are unknown for now; their mail is not sent");
        BTreeMap::new()
    })
}

/// Places a hold. On a venue it takes the next rank of its lane.
pub async fn place(state: &AppState, ctx: &AccessContext, input: HoldIn) -> Result<Hold, Error> {
    let now = state.clock.now();
    if input.expires_at <= now {
        return Err(Error::field("expiresAt", "must be in the future"));
    }
    let space = input.space.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(v) = input.venue_id {
        let venue = venues::repo::find(&state.db, ctx.company_id, v)
            .await?
            .ok_or_else(|| Error::field("venueId", "no such venue in this company"))?;
        if let Some(space) = &space
            && !venue.spaces.iter().any(|s| &s.name == space)
        {
            return Err(Error::field("space", "no such space at this venue"));
        }
    }
    if let Some(a) = input.artist_id
        && artists::repo::find(&state.db, ctx.company_id, a).await?.is_none()
    {
        return Err(Error::field("artistId", "no such artist in this company"));
    }
    let owner = input.owner_id.unwrap_or(ctx.user_id);
    if owner != ctx.user_id {
        let members = state.guard.active_members(ctx.company_id, &[owner]).await.map_err(Error::Upstream)?;
        if !members.contains(&owner) {
            return Err(Error::field("ownerId", "is not an active member of this company"));
        }
    }
    let mut hold = Hold {
        id: Uuid::now_v7(),
        venue_id: input.venue_id,
        space,
        artist_id: input.artist_id,
        date: input.venue_id.map(|_| input.date.unwrap_or(input.starts_at.date_naive())),
        rank: None,
        owner_id: owner,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        expires_at: input.expires_at,
        note: input.note.trim().to_owned(),
        status: HoldStatus::Held,
        challenge: None,
        event_id: None,
        created_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let work = Work::begin(state, ctx.into()).await?;
    let max = state.config.max_active_holds;
    if repo::count_active(&work.txn, ctx.company_id, now).await? >= max {
        return Err(Error::HoldLimitReached(format!("a company keeps at most {max} holds in force")));
    }
    if let Some(lane) = hold.lane() {
        let held = repo::lane(&work.txn, ctx.company_id, &lane).await?;
        hold.rank = Some(u32::try_from(held.len()).unwrap_or(u32::MAX).saturating_add(1));
    }
    repo::insert(&work.txn, ctx.company_id, &hold).await?;
    work.record(hold.id, "created", serde_json::Value::Null, serde_json::to_value(&hold).unwrap_or_default()).await?;
    work.commit().await?;
    Ok(hold)
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Hold, Error> {
    repo::find(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("hold"))
}

pub async fn list(state: &AppState, ctx: &AccessContext, filter: &HoldFilter) -> Result<Vec<Hold>, Error> {
    Ok(repo::list(&state.db, ctx.company_id, filter).await?)
}

async fn held(work: &Work<'_>, id: Uuid) -> Result<Hold, Error> {
    let hold = repo::find(&work.txn, work.actor.company, id).await?.ok_or(Error::NotFound("hold"))?;
    if hold.status != HoldStatus::Held {
        return Err(Error::HoldNotHeld(format!("the hold is {}", hold.status.as_str())));
    }
    // Time ran out before the sweeper came by: the hold is over already.
    if hold.expires_at <= work.now {
        return Err(Error::HoldNotHeld("the hold expired".to_owned()));
    }
    if hold.challenge.as_ref().is_some_and(|c| c.deadline <= work.now) {
        return Err(Error::HoldNotHeld("the challenge's deadline passed".to_owned()));
    }
    Ok(hold)
}

/// A member lets a hold go; the ranks below move up.
pub async fn release(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Hold, Error> {
    let mut work = Work::begin_on(state, ctx.into(), id).await?;
    let hold = held(&work, id).await?;
    work.leave(&hold, HoldStatus::Released, None).await?;
    work.notify(
        &hold,
        "Your hold was released".to_owned(),
        &format!("Your hold starting {} was released by another member.", hold.starts_at),
    );
    work.commit().await?;
    get(state, ctx, id).await
}

/// A lower hold asks every hold above it to confirm or release within the
/// company's challenge window; unanswered, they lapse and it moves up.
pub async fn challenge(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Hold, Error> {
    let mut work = Work::begin_on(state, ctx.into(), id).await?;
    let hold = held(&work, id).await?;
    let (Some(lane), Some(rank)) = (hold.lane(), hold.rank) else {
        return Err(Error::NothingToChallenge("only a ranked hold on a venue challenges".to_owned()));
    };
    if rank == 1 {
        return Err(Error::NothingToChallenge("the first hold has no hold above it".to_owned()));
    }
    let hours = repo::challenge_hours(&work.txn, ctx.company_id).await?.unwrap_or(DEFAULT_CHALLENGE_HOURS);
    let challenge = Challenge { by_hold_id: hold.id, deadline: work.now + Duration::hours(i64::from(hours)) };
    let above: Vec<Hold> = repo::lane(&work.txn, ctx.company_id, &lane)
        .await?
        .into_iter()
        .filter(|h| h.rank.is_some_and(|r| r < rank) && h.challenge.is_none())
        .collect();
    if above.is_empty() {
        return Err(Error::ChallengeRunning("every hold above is already challenged".to_owned()));
    }
    for h in &above {
        repo::set_challenge(&work.txn, ctx.company_id, h.id, Some(&challenge), ctx.user_id, work.now).await?;
        work.record(h.id, "challenged", serde_json::Value::Null, serde_json::json!({"challenge": challenge})).await?;
        work.notify(
            h,
            format!("Your hold on {} is challenged", lane.date),
            &format!(
                "A hold ranked {rank} challenged your hold ranked {}. By {} confirm it (a hold books once it is first) or release it; unanswered, it lapses then.",
                h.rank.unwrap_or_default(),
                challenge.deadline
            ),
        );
    }
    work.commit().await?;
    get(state, ctx, id).await
}

/// The first hold books its date: on a new draft event or an existing one at
/// its venue. Every other hold of the lane is superseded, its owner mailed.
pub async fn confirm(state: &AppState, ctx: &AccessContext, id: Uuid, input: ConfirmIn) -> Result<Hold, Error> {
    let mut work = Work::begin_on(state, ctx.into(), id).await?;
    let hold = held(&work, id).await?;
    let (Some(lane), Some(1)) = (hold.lane(), hold.rank) else {
        return Err(Error::NotFirstHold("only the first hold on a venue's date books it".to_owned()));
    };
    let event = match input.event_id {
        Some(event_id) => {
            let event = events::repo::find(&work.txn, ctx.company_id, event_id)
                .await?
                .ok_or_else(|| Error::field("eventId", "no such event in this company"))?;
            if event.venue_id != lane.venue {
                return Err(Error::field("eventId", "the event is at another venue"));
            }
            if !event.status.is_live() || event.starts_at.date_naive() != lane.date {
                return Err(Error::field("eventId", "the event is canceled or on another date"));
            }
            event.id
        }
        None => {
            let name = input.name.clone().or_else(|| Some(hold.note.clone()).filter(|n| !n.is_empty()));
            let new = EventIn {
                name: name.map_or_else(|| "Show".to_owned(), |n| n.chars().take(200).collect()),
                venue_id: lane.venue,
                starts_at: hold.starts_at,
                ends_at: hold.ends_at,
                timezone: None,
                lineup: hold
                    .artist_id
                    .map(|a| Slot { artist_id: a, set_start: None, set_end: None })
                    .into_iter()
                    .collect(),
                description: String::new(),
            };
            events::service::create_within(&work.txn, ctx, new, work.now).await?.id
        }
    };
    for other in repo::lane(&work.txn, ctx.company_id, &lane).await?.into_iter().filter(|h| h.id != hold.id) {
        repo::finish(&work.txn, ctx.company_id, other.id, HoldStatus::Superseded, None, ctx.user_id, work.now).await?;
        work.record(
            other.id,
            "superseded",
            serde_json::json!({"rank": other.rank}),
            serde_json::json!({"bookedBy": hold.id}),
        )
        .await?;
        work.notify(
            &other,
            format!("The date {} was booked", lane.date),
            &format!(
                "The first hold on {} was confirmed; your hold ranked {} is released.",
                lane.date,
                other.rank.unwrap_or_default()
            ),
        );
    }
    if !repo::finish(&work.txn, ctx.company_id, hold.id, HoldStatus::Booked, Some(event), ctx.user_id, work.now).await?
    {
        return Err(Error::HoldNotHeld("the hold changed meanwhile".to_owned()));
    }
    work.record(hold.id, "booked", serde_json::json!({"rank": 1}), serde_json::json!({"eventId": event})).await?;
    work.commit().await?;
    get(state, ctx, id).await
}

/// Expires holds past `expiresAt` and lapses challenged holds past their
/// deadline (the background job). Returns how many ended.
pub async fn sweep(state: &AppState) -> Result<usize, Error> {
    let now = state.clock.now();
    let mut ended = 0;
    for (company, id) in repo::due(&state.db, now).await? {
        // One hold that cannot end now never holds up the others.
        match end_due(state, company, id).await {
            Ok(true) => ended += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(%company, hold = %id, error = %e, "a hold could not be ended; the next sweep retries")
            }
        }
    }
    Ok(ended)
}

/// How late a hold may end and still be mailed about: one ended long after
/// its time (the first sweep after an upgrade or an outage) is old news.
const STALE_NOTICE_HOURS: i64 = 1;

async fn end_due(state: &AppState, company: Uuid, id: Uuid) -> Result<bool, Error> {
    let mut work = Work::begin_on(state, Actor { company, user: Uuid::nil() }, id).await?;
    let Some(hold) = repo::find(&work.txn, company, id).await?.filter(|h| h.status == HoldStatus::Held) else {
        return Ok(false);
    };
    let (to, due, why) = match &hold.challenge {
        _ if hold.expires_at <= work.now => (HoldStatus::Expired, hold.expires_at, "ran past its expiry"),
        Some(c) if c.deadline <= work.now => {
            (HoldStatus::Lapsed, c.deadline, "was challenged and not confirmed by the deadline")
        }
        _ => return Ok(false),
    };
    work.leave(&hold, to, None).await?;
    if work.now - due < Duration::hours(STALE_NOTICE_HOURS) {
        let detail = format!("Your hold starting {} {why}.", hold.starts_at);
        work.notify(&hold, format!("Your hold {}", to.as_str()), &detail);
    }
    work.commit().await?;
    Ok(true)
}

pub async fn settings(state: &AppState, ctx: &AccessContext) -> Result<BookingSettings, Error> {
    let hours = repo::challenge_hours(&state.db, ctx.company_id).await?.unwrap_or(DEFAULT_CHALLENGE_HOURS);
    Ok(BookingSettings { challenge_hours: hours })
}

pub async fn put_settings(
    state: &AppState,
    ctx: &AccessContext,
    input: BookingSettings,
) -> Result<BookingSettings, Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let before = repo::challenge_hours(&txn, ctx.company_id).await?.unwrap_or(DEFAULT_CHALLENGE_HOURS);
    repo::put_challenge_hours(&txn, ctx.company_id, input.challenge_hours, ctx.user_id, now).await?;
    let change = Change {
        at: now,
        entity: "booking_settings",
        entity_id: ctx.company_id,
        action: "updated",
        before: serde_json::json!({"challengeHours": before}),
        after: serde_json::json!({"challengeHours": input.challenge_hours}),
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    Ok(input)
}

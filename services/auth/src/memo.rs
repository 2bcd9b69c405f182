//! What this replica remembers of session liveness and company revisions, so
//! a warm `ResolveAccess` needs no database. It is only as true as the change
//! notices it hears: [`crate::events::Events`] feeds it every notice before
//! anyone else sees it, and hands it out only while notices flow and no
//! subscription gap has passed since it was filled.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::ops::compute::Op;
use moka::sync::Cache;
use uuid::Uuid;

use crate::domains::sessions::model::Session;
use crate::events::{AccessChange, ChangeKind};

/// A bound on how long anything may be trusted, even if a notice was lost.
const TRUST_FOR: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub enum Remembered {
    /// The session row as last read (its idle clock may since have been reset).
    Seen(Arc<Session>),
    /// Revoked: final, and never replaced by a read that raced the revocation.
    Revoked,
}

#[derive(Clone)]
pub struct Memo {
    sessions: Cache<Uuid, Remembered>,
    revisions: Cache<Uuid, u64>,
    epoch: Arc<AtomicU64>,
}

impl Default for Memo {
    fn default() -> Self {
        Self {
            sessions: Cache::builder().max_capacity(200_000).time_to_live(TRUST_FOR).build(),
            revisions: Cache::builder().max_capacity(100_000).time_to_live(TRUST_FOR).build(),
            epoch: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Memo {
    /// Forgets everything when the bus subscribed again since the last call.
    pub(crate) fn align(&self, epoch: u64) {
        if self.epoch.swap(epoch, Ordering::AcqRel) != epoch {
            self.forget();
        }
    }

    pub(crate) fn forget(&self) {
        self.sessions.invalidate_all();
        self.revisions.invalidate_all();
    }

    pub(crate) fn heard(&self, change: &AccessChange) {
        if change.kind == ChangeKind::SessionRevoked
            && let Some(session) = change.session_id
        {
            self.sessions.insert(session, Remembered::Revoked);
        }
        if let Some(company) = change.company_id
            && change.revision > 0
        {
            self.remember_revision(company, change.revision);
        }
    }

    pub fn session(&self, id: Uuid) -> Option<Remembered> {
        self.sessions.get(&id)
    }

    pub fn remember_session(&self, session: &Session) {
        if session.revoked_at.is_some() {
            self.sessions.insert(session.id, Remembered::Revoked);
            return;
        }
        let seen = Arc::new(session.clone());
        self.sessions.entry(session.id).and_compute_with(|known| match known.map(|e| e.into_value()) {
            Some(Remembered::Revoked) => Op::Nop,
            _ => Op::Put(Remembered::Seen(seen)),
        });
    }

    pub fn revision(&self, company: Uuid) -> Option<u64> {
        self.revisions.get(&company)
    }

    /// Revisions only rise: a read that raced a newer notice cannot lower one.
    pub fn remember_revision(&self, company: Uuid, revision: u64) {
        self.revisions.entry(company).and_compute_with(|known| match known.map(|e| e.into_value()) {
            Some(k) if k >= revision => Op::Nop,
            _ => Op::Put(revision),
        });
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn session(revoked: bool) -> Session {
        let now = Utc::now();
        Session {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: revoked.then_some(now),
            user_agent: None,
            ip: None,
        }
    }

    #[test]
    fn a_read_that_raced_a_revocation_does_not_bring_the_session_back() {
        let memo = Memo::default();
        let s = session(false);
        memo.heard(&AccessChange::session(s.user_id, s.id));
        memo.remember_session(&s);
        assert!(matches!(memo.session(s.id), Some(Remembered::Revoked)));
    }

    #[test]
    fn a_revoked_row_is_remembered_as_revoked() {
        let memo = Memo::default();
        let s = session(true);
        memo.remember_session(&s);
        assert!(matches!(memo.session(s.id), Some(Remembered::Revoked)));
    }

    #[test]
    fn revisions_never_go_back() {
        let memo = Memo::default();
        let company = Uuid::now_v7();
        memo.heard(&AccessChange::company(ChangeKind::RoleChanged, company, 7));
        memo.remember_revision(company, 5);
        assert_eq!(memo.revision(company), Some(7));
        memo.remember_revision(company, 9);
        assert_eq!(memo.revision(company), Some(9));
    }

    #[test]
    fn a_new_subscription_forgets_everything() {
        let memo = Memo::default();
        let s = session(false);
        memo.align(1);
        memo.remember_session(&s);
        memo.remember_revision(s.user_id, 3);
        memo.align(1);
        assert!(memo.session(s.id).is_some());
        memo.align(2);
        assert!(memo.session(s.id).is_none());
        assert!(memo.revision(s.user_id).is_none());
    }
}

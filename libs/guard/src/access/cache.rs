//! Answers from auth kept per (session, company) only while auth's change
//! stream is heard, and dropped by what each change touches.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use marquee_proto::auth::v1 as pb;
use moka::ops::compute::Op;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::checks::{Decision, Guard, now_ms};

impl Guard {
    /// Follows auth's `WatchAccess` stream until `shutdown`, dropping what each
    /// change touches, and everything while the stream is down.
    pub async fn watch(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            let mut client = self.inner.client.clone();
            let opened = tokio::select! {
                _ = shutdown.cancelled() => break,
                s = client.watch_access(pb::WatchAccessRequest {}) => s,
            };
            if let Ok(response) = opened {
                // What changed while no stream was heard was never told: an
                // answer asked for before now is not kept.
                self.inner.cache.forget_all();
                let mut stream = response.into_inner();
                backoff = Duration::from_millis(100);
                loop {
                    let next = tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(self.inner.settings.config.stale_after) => None,
                        next = stream.next() => next,
                    };
                    let Some(Ok(event)) = next else { break };
                    match event.event {
                        Some(pb::access_event::Event::Heartbeat(_)) => {
                            self.inner.last_heard_ms.store(now_ms(), Ordering::Release)
                        }
                        Some(pb::access_event::Event::Change(change)) => {
                            self.forget(&change);
                            self.inner.last_heard_ms.store(now_ms(), Ordering::Release);
                        }
                        None => {}
                    }
                }
            }
            self.inner.last_heard_ms.store(0, Ordering::Release);
            self.inner.cache.forget_all();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    fn forget(&self, change: &pb::AccessChange) {
        let session = Uuid::parse_str(&change.session_id).ok();
        let company = Uuid::parse_str(&change.company_id).ok();
        self.inner.cache.forget(session, company);
    }
}

/// The answers kept. An answer asked for before a change was heard may tell
/// of the time before it, so it is not kept: every forgetting is counted, and
/// an answer is kept only if none happened while it was asked for.
///
/// A change drops a session's or a company's answers by marking when it was
/// heard (in forgettings); an answer kept before the mark is no longer given.
/// A mark costs one insert, where dropping the answers themselves would scan
/// every answer kept, once per change (thousands a second when companies
/// sign up).
pub(super) struct Decisions {
    entries: moka::future::Cache<(Uuid, Uuid), Kept>,
    forgotten: AtomicU64,
    /// The last forgetting of each session or company that had one, kept as
    /// long as an answer from before it could be.
    marks: moka::sync::Cache<Uuid, u64>,
    /// The last forgetting of everything (also when a mark had to be dropped
    /// for room, so that no answer outlives a mark it should obey).
    all: Arc<AtomicU64>,
}

/// An answer, and the forgetting it was asked at.
#[derive(Clone)]
struct Kept {
    decision: Arc<Decision>,
    asked: u64,
}

/// When an answer was asked for, in forgettings.
#[derive(Clone, Copy)]
pub(super) struct Asked(u64);

/// Changes remembered at most; past that, an evicted mark forgets everything.
const MARKS: u64 = 200_000;

impl Decisions {
    pub(super) fn new(hard_ttl: Duration) -> Self {
        Self::remembering(hard_ttl, MARKS)
    }

    fn remembering(hard_ttl: Duration, marks: u64) -> Self {
        let all = Arc::new(AtomicU64::new(0));
        let evicted = all.clone();
        Self {
            entries: moka::future::Cache::builder().max_capacity(500_000).time_to_live(hard_ttl).build(),
            forgotten: AtomicU64::new(0),
            marks: moka::sync::Cache::builder()
                .max_capacity(marks)
                // An answer lives at most `hard_ttl`: a mark older than that
                // has nothing left to drop.
                .time_to_live(hard_ttl)
                .eviction_listener(move |_, mark: u64, cause| {
                    if cause == moka::notification::RemovalCause::Size {
                        evicted.fetch_max(mark, Ordering::SeqCst);
                    }
                })
                .build(),
            all,
        }
    }

    pub(super) async fn get(&self, key: &(Uuid, Uuid)) -> Option<Arc<Decision>> {
        self.entries.get(key).await.filter(|kept| self.given(key, kept)).map(|kept| kept.decision)
    }

    /// Whether no change touching `key` was heard after `kept` was asked for.
    fn given(&self, key: &(Uuid, Uuid), kept: &Kept) -> bool {
        // Every mark is a number the forgetting counter reached: when nothing
        // was forgotten since the answer was asked for, no mark can be later.
        if self.forgotten.load(Ordering::SeqCst) <= kept.asked {
            return true;
        }
        let marked_since = |id: &Uuid| self.marks.get(id).is_some_and(|mark| mark > kept.asked);
        self.all.load(Ordering::SeqCst) <= kept.asked && !marked_since(&key.0) && !marked_since(&key.1)
    }

    /// Taken before asking auth.
    pub(super) fn asking(&self) -> Asked {
        Asked(self.forgotten.load(Ordering::SeqCst))
    }

    /// Keeps an answer asked for at `asked`, unless something was forgotten
    /// since, or a fresh answer of a later revision is kept already (an
    /// answer from a replica that lags never replaces a newer one). A
    /// forgetting between the check and the insert marks a number above
    /// `asked`, so the entry is not given.
    pub(super) async fn keep(&self, key: (Uuid, Uuid), decision: Arc<Decision>, asked: Asked) {
        if self.forgotten.load(Ordering::SeqCst) != asked.0 {
            return;
        }
        let revision = decision.revision;
        let kept = Kept { decision, asked: asked.0 };
        self.entries
            .entry(key)
            .and_compute_with(|current| {
                let newer_kept = current.is_some_and(|k| {
                    let given = self.given(&key, k.value());
                    let k = &k.value().decision;
                    given && k.revision > revision && k.fetched.elapsed() < k.ttl
                });
                std::future::ready(if newer_kept { Op::Nop } else { Op::Put(kept) })
            })
            .await;
    }

    /// Drops what a change touches: a session's answers, else a company's,
    /// else everything.
    pub(super) fn forget(&self, session: Option<Uuid>, company: Option<Uuid>) {
        let mark = self.forgotten.fetch_add(1, Ordering::SeqCst) + 1;
        match session.or(company) {
            Some(id) => self.marks.insert(id, mark),
            None => {
                self.all.fetch_max(mark, Ordering::SeqCst);
                self.entries.invalidate_all();
            }
        }
    }

    pub(super) fn forget_all(&self) {
        self.forget(None, None);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Instant;

    use super::*;

    fn decision() -> Arc<Decision> {
        at_revision(1)
    }

    fn at_revision(revision: u64) -> Arc<Decision> {
        Arc::new(Decision {
            session_active: true,
            membership: 1,
            user_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
            modules: BTreeSet::new(),
            permissions: Arc::new(BTreeSet::new()),
            limits: Arc::new(BTreeMap::new()),
            revision,
            fetched: Instant::now(),
            ttl: Duration::from_secs(30),
        })
    }

    #[tokio::test]
    async fn an_answer_asked_for_before_a_change_is_not_kept() {
        let decisions = Decisions::new(Duration::from_secs(60));
        let (session, company, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());

        let asked = decisions.asking();
        decisions.keep((session, company), decision(), asked).await;
        assert!(decisions.get(&(session, company)).await.is_some(), "nothing changed meanwhile: kept");

        // The session is revoked while another answer for it is on its way.
        let asked = decisions.asking();
        decisions.forget(Some(session), None);
        assert!(decisions.get(&(session, company)).await.is_none(), "the kept answer is dropped");
        decisions.keep((session, company), decision(), asked).await;
        assert!(decisions.get(&(session, company)).await.is_none(), "the answer from before the change is not kept");

        // A change elsewhere drops only its own answers.
        let asked = decisions.asking();
        decisions.keep((session, other), decision(), asked).await;
        decisions.forget(None, Some(company));
        assert!(decisions.get(&(session, other)).await.is_some());
        decisions.forget_all();
        assert!(decisions.get(&(session, other)).await.is_none());
    }

    #[tokio::test]
    async fn a_change_that_cannot_be_remembered_drops_every_answer() {
        let decisions = Decisions::remembering(Duration::from_secs(60), 4);
        let (session, company) = (Uuid::now_v7(), Uuid::now_v7());
        decisions.keep((session, company), decision(), decisions.asking()).await;
        for _ in 0..64 {
            decisions.forget(None, Some(Uuid::now_v7()));
        }
        decisions.marks.run_pending_tasks();
        assert!(decisions.marks.entry_count() <= 4, "room for four marks only");
        assert!(decisions.get(&(session, company)).await.is_none(), "a mark was let go: everything is forgotten");
        decisions.keep((session, company), decision(), decisions.asking()).await;
        assert!(decisions.get(&(session, company)).await.is_some(), "asked after the changes: kept");
    }

    #[tokio::test]
    async fn a_dropped_answer_gives_way_to_any_new_one() {
        let decisions = Decisions::new(Duration::from_secs(60));
        let key = (Uuid::now_v7(), Uuid::now_v7());
        decisions.keep(key, at_revision(5), decisions.asking()).await;
        decisions.forget(None, Some(key.1));
        decisions.keep(key, at_revision(4), decisions.asking()).await;
        assert_eq!(decisions.get(&key).await.map(|d| d.revision), Some(4));
    }

    #[tokio::test]
    async fn a_lagging_answer_never_replaces_a_newer_one() {
        let decisions = Decisions::new(Duration::from_secs(60));
        let key = (Uuid::now_v7(), Uuid::now_v7());
        decisions.keep(key, at_revision(5), decisions.asking()).await;
        decisions.keep(key, at_revision(4), decisions.asking()).await;
        assert_eq!(decisions.get(&key).await.map(|d| d.revision), Some(5));
        decisions.keep(key, at_revision(6), decisions.asking()).await;
        assert_eq!(decisions.get(&key).await.map(|d| d.revision), Some(6));
    }
}

//! Answers from auth kept per (session, company) only while auth's change
//! stream is heard, and dropped by what each change touches.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use marquee_proto::auth::v1 as pb;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::checks::{Guard, now_ms};

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
            self.inner.cache.invalidate_all();
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
        let result = match (session, company) {
            (Some(s), _) => self.inner.cache.invalidate_entries_if(move |k, _| k.0 == s),
            (None, Some(c)) => self.inner.cache.invalidate_entries_if(move |k, _| k.1 == c),
            (None, None) => {
                self.inner.cache.invalidate_all();
                return;
            }
        };
        if result.is_err() {
            self.inner.cache.invalidate_all();
        }
    }
}

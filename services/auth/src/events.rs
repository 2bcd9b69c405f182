//! Access changes: published by whoever changes access (after the change is
//! committed), fanned out to every auth replica through the bus, served to
//! base and financial on `WatchAccess`.

use marquee_bus::Bus;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::memo::Memo;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ChangeKind {
    SessionRevoked,
    MembershipChanged,
    RoleChanged,
    GrantsChanged,
    EntitlementsChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccessChange {
    pub kind: ChangeKind,
    pub company_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    /// The company's local revision after the change (0 when not known here).
    pub revision: u64,
}

impl AccessChange {
    pub fn company(kind: ChangeKind, company: Uuid, revision: u64) -> Self {
        Self { kind, company_id: Some(company), user_id: None, session_id: None, revision }
    }

    pub fn member(kind: ChangeKind, company: Uuid, user: Uuid, revision: u64) -> Self {
        Self { user_id: Some(user), ..Self::company(kind, company, revision) }
    }

    pub fn session(user: Uuid, session: Uuid) -> Self {
        Self {
            kind: ChangeKind::SessionRevoked,
            company_id: None,
            user_id: Some(user),
            session_id: Some(session),
            revision: 0,
        }
    }
}

#[derive(Clone)]
pub struct Events {
    bus: Bus,
    memo: Memo,
}

impl Events {
    pub fn new(bus: Bus) -> Self {
        Self { bus, memo: Memo::default() }
    }

    /// After the change is committed. This replica's memo learns it first, so
    /// a caller that reads back its own write here never sees the old state.
    pub async fn publish(&self, change: AccessChange) {
        self.memo.heard(&change);
        let Ok(message) = serde_json::to_string(&change) else {
            return;
        };
        if let Err(e) = self.bus.publish(message).await {
            // Watchers elsewhere miss it; their caches are capped by a hard TTL.
            tracing::warn!(error = %e, kind = ?change.kind, "access change not fanned out");
        }
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.bus.subscribe()
    }

    pub fn is_live(&self) -> bool {
        self.bus.is_live()
    }

    pub fn parse(message: &str) -> Option<AccessChange> {
        serde_json::from_str(message).ok()
    }

    /// The memo, only while notices flow: without them nothing remembered can be trusted.
    pub fn memo(&self) -> Option<&Memo> {
        if !self.bus.is_live() {
            return None;
        }
        self.memo.align(self.bus.epoch());
        Some(&self.memo)
    }

    /// A change heard from the bus; watchers call it before forwarding, so
    /// whoever acts on a notice finds this replica already knowing it.
    pub fn heard(&self, change: &AccessChange) {
        self.memo.heard(change);
    }

    /// Feeds the memo every notice, watched or not; a gap forgets it all.
    pub async fn keep_memo(self, shutdown: CancellationToken) {
        let mut changes = self.subscribe();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                change = changes.recv() => match change {
                    Ok(raw) => {
                        if let Some(change) = Self::parse(&raw) {
                            self.memo.heard(&change);
                        }
                    }
                    Err(RecvError::Lagged(_)) => self.memo.forget(),
                    Err(RecvError::Closed) => break,
                },
            }
        }
    }
}

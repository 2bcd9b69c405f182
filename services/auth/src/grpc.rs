//! gRPC for base and financial: `ResolveAccess` and the `WatchAccess` stream.
//! Transport only: conversion, then the same domain services as REST.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use futures::Stream;
use marquee_proto::auth::v1 as pb;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domains::access::service;
use crate::domains::api_keys;
use crate::domains::sessions::service as sessions;
use crate::error::Error;
use crate::events::{ChangeKind, Events};
use crate::state::AppState;

pub struct AccessGrpc {
    pub state: AppState,
    pub shutdown: CancellationToken,
    pub heartbeat: Duration,
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::AccessEvent, Status>> + Send>>;

fn kind(k: ChangeKind) -> pb::AccessChangeKind {
    match k {
        ChangeKind::SessionRevoked => pb::AccessChangeKind::SessionRevoked,
        ChangeKind::MembershipChanged => pb::AccessChangeKind::MembershipChanged,
        ChangeKind::RoleChanged => pb::AccessChangeKind::RoleChanged,
        ChangeKind::GrantsChanged => pb::AccessChangeKind::GrantsChanged,
        ChangeKind::EntitlementsChanged => pb::AccessChangeKind::EntitlementsChanged,
    }
}

fn id_or_empty(id: Option<Uuid>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

#[tonic::async_trait]
impl pb::access_server::Access for AccessGrpc {
    async fn resolve_access(
        &self,
        request: Request<pb::ResolveAccessRequest>,
    ) -> Result<Response<pb::AccessDecision>, Status> {
        let request = request.into_inner();
        let company =
            Uuid::parse_str(&request.company_id).map_err(|_| Status::invalid_argument("company_id must be a UUID"))?;
        let claims = self
            .state
            .keys
            .validator()
            .validate(&request.access_token)
            .await
            .map_err(|e| Status::unauthenticated(e.to_string()))?;
        tracing::Span::current().record("user_id", tracing::field::display(claims.sub));
        let key = if claims.role == api_keys::API_KEY_ROLE {
            api_keys::service::live_key(&self.state, claims.sub).await?.filter(|k| k.id == claims.sid)
        } else {
            None
        };
        let live = match &key {
            Some(_) => true,
            None if claims.role == api_keys::API_KEY_ROLE => false,
            None => sessions::is_live(&self.state, claims.sid, claims.sub).await?,
        };
        let mut decision = pb::AccessDecision {
            user_id: claims.sub.to_string(),
            company_id: company.to_string(),
            session_id: claims.sid.to_string(),
            session_status: pb::SessionStatus::Revoked as i32,
            membership_status: pb::MembershipStatus::None as i32,
            ..Default::default()
        };
        if !live {
            return Ok(Response::new(decision));
        }
        let access = match &key {
            Some(key) => api_keys::service::resolve(&self.state, company, key, request.min_revision).await?,
            None => service::resolve(&self.state, company, claims.sub, request.min_revision).await?,
        };
        decision.session_status = pb::SessionStatus::Active as i32;
        decision.membership_status = match access.membership {
            "active" => pb::MembershipStatus::Active,
            "suspended" => pb::MembershipStatus::Suspended,
            _ => pb::MembershipStatus::None,
        } as i32;
        decision.modules = access.modules.into_iter().collect();
        decision.permissions = access.permissions.into_iter().collect();
        decision.limits = access.limits.into_iter().collect();
        decision.revision = access.revision;
        decision.cache_ttl_ms = access.cache_ttl_ms;
        decision.roles = access.roles;
        Ok(Response::new(decision))
    }

    async fn check_members(
        &self,
        request: Request<pb::CheckMembersRequest>,
    ) -> Result<Response<pb::CheckMembersResponse>, Status> {
        let request = request.into_inner();
        let company =
            Uuid::parse_str(&request.company_id).map_err(|_| Status::invalid_argument("company_id must be a UUID"))?;
        if request.user_ids.len() > 500 {
            return Err(Status::invalid_argument("at most 500 users per call"));
        }
        let active: Vec<Uuid> = crate::domains::companies::repo::memberships(&self.state.db, company)
            .await
            .map_err(|e| Status::from(Error::from(e)))?
            .into_iter()
            .filter(|m| m.status == crate::domains::companies::model::MemberStatus::Active)
            .map(|m| m.user_id)
            .filter(|id| request.user_ids.contains(&id.to_string()))
            .collect();
        let accounts = crate::domains::users::repo::by_ids(&self.state.db, &active)
            .await
            .map_err(|e| Status::from(Error::from(e)))?;
        let addresses = active
            .iter()
            .filter_map(|id| {
                accounts.get(id).map(|u| pb::MemberAddress { user_id: id.to_string(), email: u.email.clone() })
            })
            .collect();
        Ok(Response::new(pb::CheckMembersResponse {
            active_user_ids: active.iter().map(Uuid::to_string).collect(),
            addresses,
        }))
    }

    type WatchAccessStream = EventStream;

    async fn watch_access(
        &self,
        _request: Request<pb::WatchAccessRequest>,
    ) -> Result<Response<Self::WatchAccessStream>, Status> {
        let mut changes = self.state.events.subscribe();
        let events = self.state.events.clone();
        let platform = self.state.platform.clone();
        let clock = self.state.clock.clone();
        let shutdown = self.shutdown.clone();
        let mut heartbeat = tokio::time::interval(self.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            let mut revisions: HashMap<String, u64> = HashMap::new();
            loop {
                let event = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tx.closed() => break,
                    _ = heartbeat.tick() => {
                        // Silent while any change could be missed: the watcher stops trusting its cache.
                        if !events.is_live() || !platform.is_live() { continue; }
                        pb::access_event::Event::Heartbeat(pb::AccessHeartbeat {
                            at_unix_ms: clock.now().timestamp_millis(),
                            revisions: std::mem::take(&mut revisions),
                        })
                    }
                    change = changes.recv() => match change {
                        Ok(raw) => {
                            let Some(change) = Events::parse(&raw) else { continue };
                            events.heard(&change);
                            if let Some(company) = change.company_id {
                                let seen = revisions.entry(company.to_string()).or_default();
                                *seen = (*seen).max(change.revision);
                            }
                            pb::access_event::Event::Change(pb::AccessChange {
                                kind: kind(change.kind) as i32,
                                company_id: id_or_empty(change.company_id),
                                user_id: id_or_empty(change.user_id),
                                session_id: id_or_empty(change.session_id),
                                revision: change.revision,
                            })
                        }
                        Err(RecvError::Lagged(_)) => {
                            let _ = tx.send(Err(Status::data_loss("watcher fell behind; reconnect"))).await;
                            break;
                        }
                        Err(RecvError::Closed) => break,
                    },
                };
                if tx.send(Ok(pb::AccessEvent { event: Some(event) })).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }
}

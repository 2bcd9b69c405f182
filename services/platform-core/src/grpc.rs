//! gRPC transport for auth: converts and delegates to the domain services.

use std::pin::Pin;

use futures::Stream;
use marquee_proto::platform_core::v1 as pb;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domains::subscriptions::{Entitlements, service};
use crate::state::AppState;

pub struct PlatformCoreGrpc {
    pub state: AppState,
    pub shutdown: CancellationToken,
}

fn company_id(raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw).map_err(|_| Status::invalid_argument("company_id must be a UUID"))
}

fn to_proto(e: Entitlements) -> pb::Entitlements {
    pb::Entitlements {
        company_id: e.company_id.to_string(),
        entitled: e.entitled,
        subscription_status: e.subscription_status.unwrap_or_default().to_owned(),
        package_code: e.package_code.unwrap_or_default(),
        package_version: e.package_version.unwrap_or_default(),
        addon_codes: e.addon_codes,
        modules: e.modules.into_iter().collect(),
        permissions: e.permissions.into_iter().collect(),
        limits: e.limits.into_iter().collect(),
        revision: e.revision,
        valid_until_unix_ms: e.valid_until.map_or(0, |t| t.timestamp_millis()),
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Notice {
    company_id: Uuid,
    revision: u64,
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::EntitlementEvent, Status>> + Send>>;

#[tonic::async_trait]
impl pb::platform_core_server::PlatformCore for PlatformCoreGrpc {
    async fn get_entitlements(
        &self,
        request: Request<pb::GetEntitlementsRequest>,
    ) -> Result<Response<pb::Entitlements>, Status> {
        let company = company_id(&request.get_ref().company_id)?;
        let entitlements = service::entitlements(&self.state, company).await?;
        Ok(Response::new(to_proto(entitlements)))
    }

    async fn ensure_default_subscription(
        &self,
        request: Request<pb::EnsureDefaultSubscriptionRequest>,
    ) -> Result<Response<pb::Entitlements>, Status> {
        let request = request.into_inner();
        let company = company_id(&request.company_id)?;
        let actor = match request.requested_by.trim() {
            "" => "auth".to_owned(),
            user => format!("auth:{}", user.chars().take(64).collect::<String>()),
        };
        service::ensure_default(&self.state, company, actor).await?;
        let entitlements = service::entitlements(&self.state, company).await?;
        Ok(Response::new(to_proto(entitlements)))
    }

    async fn list_modules(
        &self,
        _request: Request<pb::ListModulesRequest>,
    ) -> Result<Response<pb::ModuleCatalog>, Status> {
        let modules = self
            .state
            .catalog
            .modules()
            .iter()
            .map(|m| pb::Module {
                code: m.code.clone(),
                name: m.name.clone(),
                permissions: m
                    .permissions
                    .iter()
                    .map(|p| pb::Permission { code: p.code.clone(), description: p.description.clone() })
                    .collect(),
            })
            .collect();
        Ok(Response::new(pb::ModuleCatalog { modules }))
    }

    type WatchEntitlementsStream = EventStream;

    async fn watch_entitlements(
        &self,
        _request: Request<pb::WatchEntitlementsRequest>,
    ) -> Result<Response<Self::WatchEntitlementsStream>, Status> {
        let mut notices = self.state.bus.subscribe();
        let bus = self.state.bus.clone();
        let clock = self.state.clock.clone();
        let shutdown = self.shutdown.clone();
        let mut heartbeat = tokio::time::interval(self.state.config.heartbeat_interval);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tx.closed() => break,
                    _ = heartbeat.tick() => {
                        // Silence while changes may be missed: the subscriber stops trusting its cache.
                        if !bus.is_live() { continue; }
                        pb::entitlement_event::Event::Heartbeat(pb::Heartbeat { at_unix_ms: clock.now().timestamp_millis() })
                    }
                    notice = notices.recv() => match notice {
                        Ok(raw) => match serde_json::from_str::<Notice>(&raw) {
                            Ok(n) => pb::entitlement_event::Event::Changed(pb::EntitlementChanged {
                                company_id: n.company_id.to_string(),
                                revision: n.revision,
                            }),
                            Err(e) => {
                                tracing::warn!(error = %e, "unreadable change notice");
                                continue;
                            }
                        },
                        // Changes were lost for this watcher: end its stream so it starts afresh.
                        Err(RecvError::Lagged(_)) => {
                            let _ = tx.send(Err(Status::data_loss("watcher fell behind; reconnect"))).await;
                            break;
                        }
                        Err(RecvError::Closed) => break,
                    },
                };
                if tx.send(Ok(pb::EntitlementEvent { event: Some(event) })).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn end_sessions(
        &self,
        request: Request<pb::EndSessionsRequest>,
    ) -> Result<Response<pb::EndSessionsReply>, Status> {
        let mut sessions = Vec::new();
        for ended in &request.get_ref().sessions {
            let id = Uuid::parse_str(&ended.session_id)
                .map_err(|_| Status::invalid_argument("session_id must be a UUID"))?;
            let until = chrono::DateTime::from_timestamp_millis(ended.until_unix_ms)
                .ok_or_else(|| Status::invalid_argument("until_unix_ms is out of range"))?;
            sessions.push((id, until));
        }
        crate::domains::operators::end_sessions(&self.state, &sessions).await?;
        Ok(Response::new(pb::EndSessionsReply {}))
    }
}

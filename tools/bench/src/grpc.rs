//! gRPC load: a fixed number of calls in flight for a while, against auth's
//! `ResolveAccess` or against a tonic echo (the floor), measured the same way.

use std::time::{Duration, Instant};

use anyhow::Context;
use marquee_kit::grpc::ServiceCredentials;
use marquee_proto::auth::v1 as auth;
use marquee_proto::auth::v1::access_client::AccessClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};

use crate::stats::{Samples, Summary};

#[allow(clippy::all, clippy::unwrap_used, clippy::panic)]
pub mod pb {
    tonic::include_proto!("marquee.bench.v1");
}

use pb::echo_client::EchoClient;
use pb::echo_server::{Echo, EchoServer};

struct Echoer;

#[tonic::async_trait]
impl Echo for Echoer {
    async fn echo(&self, request: Request<pb::EchoMessage>) -> Result<Response<pb::EchoMessage>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

/// Serves the echo until the process is stopped.
pub async fn echo_server(addr: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.context("ADDR")?;
    // Served the way the fleet serves gRPC.
    Server::builder()
        .add_service(EchoServer::new(Echoer))
        .serve_with_incoming(marquee_kit::server::grpc_incoming(listener))
        .await?;
    Ok(())
}

/// What each call of a load run is.
#[derive(Clone)]
pub enum Target {
    Echo(EchoClient<Channel>, pb::EchoMessage),
    /// A check that must come back active, with permissions.
    Resolve(AccessClient<InterceptedService<Channel, ServiceCredentials>>, auth::ResolveAccessRequest),
}

impl Target {
    async fn call(&mut self) -> bool {
        match self {
            Self::Echo(client, message) => client.echo(message.clone()).await.is_ok(),
            Self::Resolve(client, request) => client.resolve_access(request.clone()).await.is_ok_and(|r| {
                let d = r.into_inner();
                d.session_status == auth::SessionStatus::Active as i32 && !d.permissions.is_empty()
            }),
        }
    }
}

/// One HTTP/2 connection per 16 calls in flight, as a client with that much
/// concurrency would open.
pub async fn channels(url: &str, in_flight: usize) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::new();
    for _ in 0..in_flight.div_ceil(16).max(1) {
        channels.push(Endpoint::from_shared(url.to_owned())?.tcp_nodelay(true).connect().await?);
    }
    Ok(channels)
}

pub async fn load(targets: Vec<Target>, in_flight: usize, seconds: u64) -> anyhow::Result<Summary> {
    // Warm up: connections, caches, the first answers.
    for mut target in targets.iter().cloned() {
        for _ in 0..50 {
            target.call().await;
        }
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut workers = tokio::task::JoinSet::new();
    for i in 0..in_flight {
        let mut target = targets[i % targets.len()].clone();
        workers.spawn(async move {
            let mut samples = Samples::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                if target.call().await {
                    samples.latencies.push(sent.elapsed());
                } else {
                    samples.errors += 1;
                }
            }
            samples
        });
    }
    let mut all = Samples::default();
    while let Some(done) = workers.join_next().await {
        all.merge(done?);
    }
    Ok(all.summary(started.elapsed()))
}

//! gRPC calls spread over every replica of a peer.
//!
//! HTTP/2 keeps one connection open, so a caller of a ClusterIP Service
//! talks to one replica for ever and replicas added later get nothing from
//! it. A [`BalancedChannel`] resolves the peer's host itself (a headless
//! Service: one address per ready replica), keeps a connection to each
//! address that accepts one, and spreads calls over them; it resolves again
//! every few seconds, and at once when asked after a failed call.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use tokio::sync::mpsc::Sender;
use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint};

/// How often the peer's addresses are looked up again.
const RESOLVE_EVERY: Duration = Duration::from_secs(5);
/// How long an address may take to accept a connection before it is left out.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

type Tune = dyn Fn(Endpoint) -> Endpoint + Send + Sync;

/// A channel over every address the URL's host resolves to.
#[derive(Clone)]
pub struct BalancedChannel {
    channel: Channel,
    resolver: Arc<Resolver>,
}

impl BalancedChannel {
    /// Starts following `url`'s host; `tune` sets each address's timeouts.
    /// Must be called inside a Tokio runtime.
    pub fn open(url: &str, tune: impl Fn(Endpoint) -> Endpoint + Send + Sync + 'static) -> Result<Self, String> {
        let origin: Uri = url.parse().map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        let scheme = origin.scheme_str().unwrap_or("http").to_owned();
        let host = origin.host().ok_or_else(|| format!("{url:?} names no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = origin.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
        let (channel, changes) = Channel::balance_channel(64);
        let resolver = Arc::new(Resolver {
            origin,
            scheme,
            host,
            port,
            tune: Box::new(tune),
            changes,
            live: tokio::sync::Mutex::new(BTreeSet::new()),
        });
        tokio::spawn(resolver.clone().follow());
        Ok(Self { channel, resolver })
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Looks the addresses up and tries each now: after a call could not
    /// reach its replica, so the next one goes elsewhere.
    pub async fn refresh(&self) {
        self.resolver.refresh().await;
    }

    /// The addresses calls are spread over now.
    pub async fn addresses(&self) -> Vec<SocketAddr> {
        self.resolver.live.lock().await.iter().copied().collect()
    }
}

struct Resolver {
    origin: Uri,
    scheme: String,
    host: String,
    port: u16,
    tune: Box<Tune>,
    changes: Sender<Change<SocketAddr, Endpoint>>,
    /// The addresses in the balance; its lock also keeps refreshes in turn.
    live: tokio::sync::Mutex<BTreeSet<SocketAddr>>,
}

impl Resolver {
    /// Refreshes until the channel is gone.
    async fn follow(self: Arc<Self>) {
        loop {
            self.refresh().await;
            tokio::select! {
                _ = self.changes.closed() => break,
                _ = tokio::time::sleep(RESOLVE_EVERY) => {}
            }
        }
    }

    async fn refresh(&self) {
        let mut live = self.live.lock().await;
        let resolved: BTreeSet<SocketAddr> = match tokio::net::lookup_host((self.host.as_str(), self.port)).await {
            Ok(addresses) => addresses.collect(),
            Err(e) => {
                // The addresses known stand until DNS answers again.
                tracing::warn!(host = %self.host, error = %e, "cannot resolve a gRPC peer");
                return;
            }
        };
        let reachable = reachable(&resolved).await;
        // When none accepts a connection, calls go to them all and fail at
        // once (closed), rather than waiting for an address to appear.
        let wanted = if reachable.is_empty() { resolved } else { reachable };
        if *live == wanted {
            return;
        }
        for gone in live.difference(&wanted) {
            let _ = self.changes.send(Change::Remove(*gone)).await;
        }
        for added in wanted.difference(&live) {
            let Ok(uri) = format!("{}://{added}", self.scheme).parse::<Uri>() else { continue };
            let endpoint = (self.tune)(Endpoint::from(uri).origin(self.origin.clone()));
            let _ = self.changes.send(Change::Insert(*added, endpoint)).await;
        }
        tracing::info!(host = %self.host, addresses = ?wanted, "gRPC peer addresses");
        *live = wanted;
    }
}

/// The addresses that accept a TCP connection within [`PROBE_TIMEOUT`].
async fn reachable(addresses: &BTreeSet<SocketAddr>) -> BTreeSet<SocketAddr> {
    let mut probes = tokio::task::JoinSet::new();
    for address in addresses.iter().copied() {
        probes.spawn(async move {
            let connected = tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(address)).await;
            (address, matches!(connected, Ok(Ok(_))))
        });
    }
    let mut up = BTreeSet::new();
    while let Some(probe) = probes.join_next().await {
        if let Ok((address, true)) = probe {
            up.insert(address);
        }
    }
    up
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_addresses_that_accept_connections_are_used() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let balanced = BalancedChannel::open(&format!("http://localhost:{port}"), |e| e).unwrap();
        balanced.refresh().await;
        assert_eq!(balanced.addresses().await, vec![SocketAddr::from(([127, 0, 0, 1], port))]);
        drop(listener);
        // Nothing answers any more: every address stays, so calls fail at once.
        balanced.refresh().await;
        assert_eq!(balanced.addresses().await.len(), 1);
    }

    #[test]
    fn a_url_without_a_host_is_refused() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _entered = runtime.enter();
        assert!(BalancedChannel::open("not a url", |e| e).is_err());
    }
}

//! Where webhooks may go. A receiver must be a public address: loopback,
//! private, link-local (cloud metadata lives there), shared, reserved and
//! multicast addresses are refused, unless the operator lists a network as
//! allowed. Names are checked when resolved, at every delivery, so a name
//! that later points inward is caught too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::Url;

/// How long a receiver's name may take to resolve.
const RESOLVE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// The networks allowed beside public addresses.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    /// From CIDRs or single addresses (`127.0.0.0/8`, `10.1.2.3`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut allowed = Vec::new();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let net = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{entry} is not an address or a network (CIDR)"))?;
            allowed.push(net);
        }
        Ok(Self { allowed })
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// The addresses `host` resolves to, if every one of them is permitted.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            return self.check(ip).map(|()| vec![SocketAddr::new(ip, port)]);
        }
        let lookup = tokio::time::timeout(RESOLVE_WITHIN, tokio::net::lookup_host((host, port)));
        let found: Vec<SocketAddr> = lookup
            .await
            .map_err(|_| format!("{host} was not resolved in time"))?
            .map_err(|_| format!("{host} cannot be resolved"))?
            .collect();
        if found.is_empty() {
            return Err(format!("{host} resolves to no address"));
        }
        for addr in &found {
            self.check(addr.ip()).map_err(|e| format!("{host} {e}"))?;
        }
        Ok(found)
    }

    /// The refusal names no address: a receiver's URL must not become a way
    /// to map the network Marquee runs in.
    fn check(&self, ip: IpAddr) -> Result<(), String> {
        if self.permits(ip) { Ok(()) } else { Err("resolves to an address that is not public".to_owned()) }
    }

    /// A resolver for the HTTP client that answers only with permitted addresses.
    pub(crate) fn resolver(self: &Arc<Self>) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver(self.clone()))
    }
}

/// reqwest's resolver, refusing names that resolve inward.
pub(crate) struct GuardedResolver(Arc<AddressPolicy>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let found = policy.resolve(name.as_str(), 0).await?;
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` is an ordinary public address.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// Only global unicast (2000::/3) counts, without the ranges in it that
/// carry an IPv4 address (6to4, Teredo) or document examples: every other
/// form (IPv4-compatible, NAT64, unique local where cloud metadata lives,
/// link-local, site-local) is refused.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    (first & 0xe000) == 0x2000
        && first != 0x2002 // 6to4
        && !(first == 0x2001 && second == 0x0000) // Teredo
        && !(first == 0x2001 && second == 0x0db8) // documentation
        && !(first == 0x2001 && second < 0x0200) // IETF protocol assignments (benchmarking, ORCHID…)
}

/// A receiver's URL as given: `http` or `https`, a host, no credentials.
pub fn check_url(text: &str) -> Result<Url, &'static str> {
    if text.len() > 2000 {
        return Err("at most 2000 characters");
    }
    let url = Url::parse(text.trim()).map_err(|_| "not a URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials");
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inward_addresses_are_refused_unless_allowed() {
        let strict = AddressPolicy::default();
        for inward in [
            "127.0.0.1",
            "10.0.0.8",
            "172.16.4.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::7f00:1",
            "::ffff:0:7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2001:0:4136:e378::1",
            "fec0::1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!strict.permits(inward.parse().unwrap()), "{inward}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(strict.permits(public.parse().unwrap()), "{public}");
        }
        let loopback = AddressPolicy::parse(&["127.0.0.0/8".to_owned(), "::1".to_owned()]).unwrap();
        assert!(loopback.permits("127.0.0.1".parse().unwrap()) && loopback.permits("::1".parse().unwrap()));
        assert!(!loopback.permits("10.0.0.1".parse().unwrap()));
        assert!(AddressPolicy::parse(&["not-a-net".to_owned()]).is_err());
    }

    #[tokio::test]
    async fn names_are_checked_once_resolved() {
        let strict = AddressPolicy::default();
        assert!(strict.resolve("localhost", 80).await.is_err());
        assert!(strict.resolve("169.254.169.254", 80).await.is_err());
        assert!(strict.resolve("[::1]", 80).await.is_err());
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert!(check_url("https://hooks.example.com/marquee").is_ok());
        for bad in ["ftp://example.com", "https://user:pw@example.com/", "not a url", "https://example.com/#x"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}

//! The client's address behind reverse proxies.
//!
//! Behind an ingress every connection comes from the proxy, so the peer
//! address alone would make every user one client (and one user's failed
//! sign-ins everyone's lockout). `X-Forwarded-For` is believed only from
//! configured proxies, and only as far as it was written by them: reading
//! from the right, the first address that is not a trusted proxy is the
//! client. Anything to its left was written by the client itself.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use http::HeaderMap;
use ipnet::IpNet;

/// Address ranges of the reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    /// From CIDRs or single addresses, e.g. `["10.0.0.0/8", "192.0.2.7"]`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let nets = entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not an address or a CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(nets.into()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that arrived from `peer`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        // Several header lines are one list, in order.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|line| line.to_str().ok())
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // What cannot be read was not written by a proxy we trust: the
            // last address we could vouch for stands.
            let Some(ip) = parse_hop(hop) else { return client };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

/// An address as proxies write it: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443`, `192.0.2.1:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    IpAddr::from_str(hop).or_else(|_| SocketAddr::from_str(hop).map(|s| s.ip())).ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append("x-forwarded-for", line.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let none = TrustedProxies::default();
        assert_eq!(none.client_ip(ip("10.0.0.5"), &headers(&["203.0.113.9"])), ip("10.0.0.5"));
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_client() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        assert_eq!(proxies.client_ip(ip("198.51.100.4"), &headers(&["203.0.113.9"])), ip("198.51.100.4"));
    }

    #[test]
    fn the_rightmost_untrusted_address_is_the_client_and_what_the_client_wrote_is_ignored() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.7"]).unwrap();
        // The client forged "1.2.3.4"; the ingress (10.1.1.1) appended the real address.
        let h = headers(&["1.2.3.4, 203.0.113.9", "192.0.2.7"]);
        assert_eq!(proxies.client_ip(ip("10.1.1.1"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn every_hop_trusted_means_the_leftmost_is_the_client() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &headers(&["10.9.9.9, 10.2.2.2"])), ip("10.9.9.9"));
    }

    #[test]
    fn an_unreadable_hop_stops_the_walk_at_the_last_vouched_address() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &headers(&["203.0.113.9, garbage"])), ip("10.0.0.1"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &headers(&["[2001:db8::1]:443"])), ip("2001:db8::1"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_ranges() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        assert_eq!(proxies.client_ip(ip("::ffff:10.0.0.1"), &headers(&["203.0.113.9"])), ip("203.0.113.9"));
    }

    #[test]
    fn bad_ranges_are_named() {
        let err = TrustedProxies::parse(&["10.0.0.0/33"]).unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
    }
}

//! The address a request comes from, which login and registration limits are keyed by.
//!
//! It is the TCP peer, unless that peer is a `--trusted-proxy`: then it is the right-most
//! `X-Forwarded-For` entry that is not itself a trusted proxy. Each proxy appends the address
//! it saw, so entries to the left of the nearest untrusted one are whatever the client chose
//! to send and never count. X-Forwarded-For from any other peer is ignored: otherwise anyone
//! could pick a fresh address for every guess.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::problem::ApiError;
use crate::Error;

/// An address, or a network (`ADDR/PREFIX`), whose X-Forwarded-For is believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                32,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of `bits` bits of `a` and `b` are equal.
fn prefix_eq(a: u128, b: u128, bits: u8, prefix: u8) -> bool {
    let ignored = u32::from(bits.saturating_sub(prefix));
    a.checked_shr(ignored).unwrap_or(0) == b.checked_shr(ignored).unwrap_or(0)
}

impl FromStr for TrustedProxy {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network =
            canonical(IpAddr::from_str(addr).map_err(|_| Error::ProxyAddress(text.to_owned()))?);
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| Error::ProxyPrefix {
                    text: text.to_owned(),
                    bits,
                })?,
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// IPv4 clients of a dual-stack listener arrive as `::ffff:a.b.c.d`; they are IPv4 clients.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// One X-Forwarded-For entry: an address, perhaps with a port or in brackets.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    IpAddr::from_str(hop)
        .ok()
        .or_else(|| SocketAddr::from_str(hop).ok().map(|addr| addr.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| IpAddr::from_str(inner).ok())
        })
        .map(canonical)
}

/// The client's address for a request from `peer` with these headers.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|proxy| proxy.contains(ip));
    let mut client = canonical(peer);
    if !is_trusted(client) {
        return client;
    }
    // Nearest hop first: each trusted proxy vouches for the entry to its left.
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
    for hop in hops {
        // An entry we cannot read ends what we can believe; the last trusted hop stands.
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// The key limits count a client under: its IPv4 address, or its IPv6 /64, since one
/// subscriber is usually given a whole /64 and could otherwise rotate through it.
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

/// The request's client address (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Any state that holds the trusted proxies will do: this module needs nothing else of it.
impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    Arc<[TrustedProxy]>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            // Only a router served without connection info gets here: a bug, not bad input.
            tracing::error!("no peer address: serve the router with connect info");
            return Err(ApiError::internal());
        };
        Ok(Self(client_ip(
            peer.ip(),
            &parts.headers,
            &Arc::<[TrustedProxy]>::from_ref(state),
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    fn proxies(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter().map(|p| p.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_peer() {
        let spoofed = headers(&["203.0.113.9"]);
        assert_eq!(
            client_ip(ip("198.51.100.1"), &spoofed, &[]),
            ip("198.51.100.1")
        );
        let trusted = proxies(&["127.0.0.1"]);
        assert_eq!(
            client_ip(ip("198.51.100.1"), &spoofed, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), &spoofed, &trusted),
            ip("203.0.113.9")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_ip(ip("127.0.0.1"), &headers(&[]), &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        // The client wrote "1.1.1.1" itself; the outer proxy saw 203.0.113.9; an inner
        // proxy (10.1.2.3) passed it on.
        let chain = headers(&["1.1.1.1, 203.0.113.9", "10.1.2.3"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &chain, &trusted),
            ip("203.0.113.9")
        );
        // Ports, brackets and IPv4 written as IPv6 are the same clients.
        for written in ["203.0.113.9:4711", "::ffff:203.0.113.9"] {
            assert_eq!(
                client_ip(ip("127.0.0.1"), &headers(&[written]), &trusted),
                ip("203.0.113.9")
            );
        }
        assert_eq!(
            client_ip(
                ip("::ffff:127.0.0.1"),
                &headers(&["[2001:db8::1]:80"]),
                &trusted
            ),
            ip("2001:db8::1")
        );
        // Unreadable: believe nothing beyond the last trusted hop.
        assert_eq!(
            client_ip(
                ip("127.0.0.1"),
                &headers(&["203.0.113.9, unknown"]),
                &trusted
            ),
            ip("127.0.0.1")
        );
        // Only proxies: the left-most of them.
        assert_eq!(
            client_ip(ip("127.0.0.1"), &headers(&["10.0.0.7, 10.0.0.8"]), &trusted),
            ip("10.0.0.7")
        );
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_networks() {
        let net: TrustedProxy = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.0.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(!net.contains(ip("::1")));
        let all: TrustedProxy = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        let v6: TrustedProxy = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!("::1".parse::<TrustedProxy>().unwrap().contains(ip("::1")));
        for bad in ["", "proxy.local", "10.0.0.0/33", "::/129", "1.2.3.4/x"] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
        assert!(matches!(
            "::/129".parse::<TrustedProxy>(),
            Err(Error::ProxyPrefix { bits: 128, .. })
        ));
        assert!(matches!(
            "proxy.local".parse::<TrustedProxy>(),
            Err(Error::ProxyAddress(text)) if text == "proxy.local"
        ));
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(limit_key(ip("2001:db8:1:2:bbbb::9")), "2001:db8:1:2::/64");
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(limit_key(ip("192.0.2.1")), "192.0.2.1");
    }
}

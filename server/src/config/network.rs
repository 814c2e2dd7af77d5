//! Which proxies in front of Haven are believed about the client's address.

use std::fmt;
use std::net::IpAddr;

/// The proxies in front of Haven, whose `X-Forwarded-For` entries are believed. Each proxy
/// appends the address it was reached from; everything left of what the nearest trusted
/// proxy saw was written by the client and is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedProxies {
    /// This many proxies stand in front of Haven: the client is the entry the farthest of
    /// them added, the `n`-th from the right.
    Count(usize),
    /// Proxies at these networks: the peer must be one, and entries are read from the
    /// right while they name one; the first that does not is the client.
    Networks(Vec<Network>),
}

/// An IP network: an address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// `10.0.0.0/8`, `fd00::/8`, or a single address.
    pub fn parse(text: &str) -> Option<Network> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustedProxies::Count(n) => write!(f, "{n}"),
            TrustedProxies::Networks(nets) => {
                let shown: Vec<String> = nets.iter().map(|n| format!("{}/{}", n.addr, n.prefix)).collect();
                f.write_str(&shown.join(","))
            }
        }
    }
}

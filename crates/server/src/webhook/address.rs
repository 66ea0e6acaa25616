//! Where webhooks may go (API.md, "Target URLs"): `https` only, no credentials in the URL, and
//! never an address that is not public — loopback, private (RFC 1918, ULA), link-local (the
//! cloud metadata address 169.254.169.254 among them), CGNAT, unspecified, multicast,
//! broadcast, reserved or documentation ranges, or any of these inside an IPv6 address
//! (IPv4-mapped, IPv4-compatible, NAT64, 6to4) — whether written in the URL or what its name
//! resolves to. Checked when an endpoint is registered or its URL changed ([`check_url`]) and
//! again at every delivery on the addresses actually connected to ([`FilteringResolver`]: the
//! HTTP client connects only to the addresses it returns), so a name that resolves to a public
//! address at registration and to a private one later (DNS rebinding) is refused.
//! `webhooks.allow_private_urls` lifts the address rules and allows `http` (development and
//! tests); credentials in a URL are refused always.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;
use url::{Host, Url};

/// Turns host names into addresses: the system's resolver in production; tests feed names of
/// their own ([`StaticResolver`]).
pub trait HostResolver: Send + Sync + fmt::Debug {
    fn lookup<'a>(&'a self, host: &'a str) -> BoxFuture<'a, io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl HostResolver for SystemResolver {
    fn lookup<'a>(&'a self, host: &'a str) -> BoxFuture<'a, io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host, 0)).await?;
            Ok(addresses.map(|address| address.ip()).collect())
        })
    }
}

/// Fixed answers, changeable while in use (a name can be pointed elsewhere, as DNS
/// rebinding does); unknown names do not resolve.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    names: Arc<RwLock<HashMap<String, Vec<IpAddr>>>>,
}

impl StaticResolver {
    /// Makes `name` resolve to `addresses` from now on.
    pub fn set(&self, name: &str, addresses: &[IpAddr]) {
        if let Ok(mut names) = self.names.write() {
            names.insert(name.to_ascii_lowercase(), addresses.to_vec());
        }
    }
}

impl HostResolver for StaticResolver {
    fn lookup<'a>(&'a self, host: &'a str) -> BoxFuture<'a, io::Result<Vec<IpAddr>>> {
        let found = self
            .names
            .read()
            .ok()
            .and_then(|names| names.get(&host.to_ascii_lowercase()).cloned());
        Box::pin(async move {
            found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown host"))
        })
    }
}

/// Whether `address` is a public unicast address a webhook may be sent to.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    let [a, b, c, _] = address.octets();
    let refused = a == 0 // "this network", 0.0.0.0/8
        || a == 10 // RFC 1918
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT, 100.64.0.0/10
        || (a == 169 && b == 254) // link-local, the metadata address among them
        || (a == 172 && (16..32).contains(&b)) // RFC 1918
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168) // RFC 1918
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    let segments = address.segments();
    let embedded_v4 = |high: usize| {
        let [x, y] = [segments[high], segments[high + 1]];
        Ipv4Addr::new((x >> 8) as u8, x as u8, (y >> 8) as u8, y as u8)
    };
    if let Some(v4) = address.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // IPv4-compatible (::a.b.c.d, deprecated) and the unspecified and loopback addresses.
    if segments[..6].iter().all(|&segment| segment == 0) {
        return segments[6] != 0 && is_public_v4(embedded_v4(6));
    }
    match segments[0] {
        // NAT64 (64:ff9b::/96): the IPv4 address it reaches decides.
        0x0064 if segments[1] == 0xff9b => is_public_v4(embedded_v4(6)),
        // 6to4 (2002::/16): the IPv4 address it tunnels to decides.
        0x2002 => is_public_v4(embedded_v4(1)),
        // Teredo (2001::/32): the far end cannot be told; documentation (2001:db8::/32).
        0x2001 if segments[1] == 0 || segments[1] == 0x0db8 => false,
        // ULA (fc00::/7), link-local (fe80::/10), site-local (fec0::/10), multicast (ff00::/8).
        first if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80 => false,
        first if first & 0xffc0 == 0xfec0 || first & 0xff00 == 0xff00 => false,
        _ => true,
    }
}

/// Why a URL is refused (the 422's message on `url`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("must be an absolute URL")]
    Unparsable,
    #[error("must be an https URL")]
    NotHttps,
    #[error("must be an http or https URL")]
    NotHttp,
    #[error("must not carry a user name or password")]
    Userinfo,
    #[error("must name a host")]
    NoHost,
    #[error("must not point at a loopback, private, link-local or other non-public address")]
    NotPublic,
    #[error("must name a host that resolves to a public address")]
    Unresolvable,
}

/// What the address rules allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Production: `https` to public addresses only.
    PublicOnly,
    /// `webhooks.allow_private_urls`: `http` too, and any address.
    Anywhere,
}

/// Checks a webhook URL as registration does: its form, and every address its host is or
/// resolves to. Returns it parsed.
pub async fn check_url(
    raw: &str,
    reach: Reach,
    resolver: &dyn HostResolver,
) -> Result<Url, UrlRefusal> {
    let url = check_form(raw, reach)?;
    if reach == Reach::Anywhere {
        return Ok(url);
    }
    match url.host() {
        Some(Host::Domain(name)) => {
            let addresses = resolver
                .lookup(name)
                .await
                .map_err(|_| UrlRefusal::Unresolvable)?;
            if addresses.is_empty() {
                return Err(UrlRefusal::Unresolvable);
            }
            if addresses.into_iter().all(is_public) {
                Ok(url)
            } else {
                Err(UrlRefusal::NotPublic)
            }
        }
        // Literal addresses were checked with the form.
        _ => Ok(url),
    }
}

/// The checks that need no resolution: scheme, credentials, a host, and a literal address's
/// range (and names that are loopback by definition, RFC 6761 `localhost`). Deliveries run
/// these before each attempt; the resolution is checked as it happens ([`FilteringResolver`]).
pub fn check_form(raw: &str, reach: Reach) -> Result<Url, UrlRefusal> {
    let url = Url::parse(raw).map_err(|_| UrlRefusal::Unparsable)?;
    match (url.scheme(), reach) {
        ("https", _) | ("http", Reach::Anywhere) => {}
        (_, Reach::PublicOnly) => return Err(UrlRefusal::NotHttps),
        (_, Reach::Anywhere) => return Err(UrlRefusal::NotHttp),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefusal::Userinfo);
    }
    let host = url.host().ok_or(UrlRefusal::NoHost)?;
    if reach == Reach::Anywhere {
        return Ok(url);
    }
    let public = match host {
        Host::Ipv4(v4) => is_public_v4(v4),
        Host::Ipv6(v6) => is_public_v6(v6),
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name != "localhost" && !name.ends_with(".localhost")
        }
    };
    if public {
        Ok(url)
    } else {
        Err(UrlRefusal::NotPublic)
    }
}

/// The refusal a delivery's connection fails with when a name resolves to no public address.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to no public address")]
pub struct ResolvedNotPublic {
    host: String,
}

/// The HTTP client's resolver for deliveries: resolves with `resolver` and, under
/// [`Reach::PublicOnly`], keeps only public addresses — the client connects to nothing else.
#[derive(Debug, Clone)]
pub struct FilteringResolver {
    pub resolver: Arc<dyn HostResolver>,
    pub reach: Reach,
}

impl reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.resolver.clone();
        let reach = self.reach;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = resolver.lookup(&host).await?;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|address| reach == Reach::Anywhere || is_public(*address))
                .map(|address| SocketAddr::new(address, 0))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(ResolvedNotPublic { host }) as Box<_>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn private_loopback_link_local_and_cgnat_addresses_are_not_public() {
        for address in [
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001:db8::1",
        ] {
            assert!(!public(address), "{address} passed as public");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "93.184.216.34",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(public(address), "{address} refused");
        }
    }

    #[test]
    fn the_form_refuses_http_userinfo_literal_private_addresses_and_localhost() {
        let refused = |url: &str| check_form(url, Reach::PublicOnly).unwrap_err();
        assert_eq!(refused("http://hooks.example.com/"), UrlRefusal::NotHttps);
        assert_eq!(
            refused("https://user:pw@hooks.example.com/"),
            UrlRefusal::Userinfo
        );
        for url in [
            "https://10.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://localhost/hook",
            "https://LOCALHOST./hook",
            "https://api.localhost/hook",
            "https://2130706433/hook",
            "https://0x7f.0.0.1/hook",
            "https://[::ffff:7f00:1]/hook",
        ] {
            assert_eq!(refused(url), UrlRefusal::NotPublic, "{url}");
        }
    }

    #[test]
    fn allowing_private_urls_allows_http_and_loopback_but_never_userinfo() {
        assert!(check_form("http://127.0.0.1:9000/hook", Reach::Anywhere).is_ok());
        assert_eq!(
            check_form("http://user@127.0.0.1/", Reach::Anywhere).unwrap_err(),
            UrlRefusal::Userinfo
        );
        assert_eq!(
            check_form("ftp://127.0.0.1/", Reach::Anywhere).unwrap_err(),
            UrlRefusal::NotHttp
        );
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_and_one_resolving_publicly_passes() {
        let resolver = StaticResolver::default();
        resolver.set("rebind.test", &["127.0.0.1".parse().unwrap()]);
        resolver.set("hooks.test", &["93.184.216.34".parse().unwrap()]);
        let check = |url: &'static str| check_url(url, Reach::PublicOnly, &resolver);
        assert_eq!(
            check("https://rebind.test/hook").await.unwrap_err(),
            UrlRefusal::NotPublic
        );
        assert!(check("https://hooks.test/hook").await.is_ok());
        assert_eq!(
            check("https://nowhere.test/hook").await.unwrap_err(),
            UrlRefusal::Unresolvable
        );
    }
}

//! Who sent the request, read from one named provider's headers only: on
//! Cloudflare, `CF-Connecting-IP` (set by Cloudflare, a client cannot forge
//! it there) and `request.cf.country`; behind a reverse proxy the operator
//! trusts (self-hosted workerd), its `X-Forwarded-For` / `Forwarded` and
//! `CF-IPCountry`. A client-supplied `X-Forwarded-For` is never believed
//! otherwise: a rate limit or visitor id keyed on it could be spoofed.

use std::net::IpAddr;

/// Who sent the request, as the pipeline receives it. Personal data: it
/// exists only while one request is handled, goes into the visitor id (and
/// the User-Agent into the bot check and the parsed [`Agent`]), and is never
/// stored, queued or logged.
///
/// [`Agent`]: crate::enrich::user_agent::Agent
#[derive(Clone, Copy)]
pub struct Client<'a> {
    /// The address [`client_ip`] read, as text ("" when unknown).
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// ISO 3166 alpha-2 from [`country`], or "".
    pub country: &'a str,
}

/// Which headers carry the client's address (`TRUSTED_PROXY` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProxyTrust {
    /// Cloudflare in front: `CF-Connecting-IP` and `request.cf` only.
    #[default]
    Cloudflare,
    /// A trusted reverse proxy in front: `CF-Connecting-IP` if it sets one,
    /// else the first `X-Forwarded-For` entry, else `Forwarded: for=`.
    ForwardedHeaders,
}

/// The client's IP address as text ("" when unknown), for the visitor id only.
pub fn client_ip(trust: ProxyTrust, header: impl Fn(&str) -> Option<String>) -> String {
    let candidates: [Option<String>; 3] = match trust {
        ProxyTrust::Cloudflare => [header("CF-Connecting-IP"), None, None],
        ProxyTrust::ForwardedHeaders => [
            header("CF-Connecting-IP"),
            header("X-Forwarded-For").and_then(|list| list.split(',').next().map(str::to_string)),
            header("Forwarded").and_then(|value| forwarded_for(&value)),
        ],
    };
    candidates
        .into_iter()
        .flatten()
        .find_map(|candidate| parse_ip(candidate.trim()))
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

/// The visitor's country, ISO 3166 alpha-2, or "" (unknown, Tor "T1", "XX").
pub fn country(
    trust: ProxyTrust,
    cf_country: Option<String>,
    header: impl Fn(&str) -> Option<String>,
) -> String {
    let header_country = match trust {
        ProxyTrust::Cloudflare => None,
        ProxyTrust::ForwardedHeaders => header("CF-IPCountry"),
    };
    cf_country
        .or(header_country)
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| {
            c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) && c != "XX" && c != "T1"
        })
        .unwrap_or_default()
}

/// `for=` of the first `Forwarded` element (RFC 7239), quotes, brackets and port removed.
fn forwarded_for(value: &str) -> Option<String> {
    let first = value.split(',').next()?;
    let pair = first
        .split(';')
        .find(|pair| pair.trim().to_ascii_lowercase().starts_with("for="))?;
    Some(pair.trim()[4..].trim_matches('"').to_string())
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    // "[2001:db8::1]:443" or "198.51.100.7:8080"
    let host = match text.strip_prefix('[') {
        Some(rest) => rest.split(']').next()?,
        None => text.rsplit_once(':').map_or(text, |(host, _)| host),
    };
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn on_cloudflare_only_cf_connecting_ip_counts() {
        let h = [
            ("CF-Connecting-IP", "203.0.113.7"),
            ("X-Forwarded-For", "198.51.100.1"),
        ];
        assert_eq!(
            client_ip(ProxyTrust::Cloudflare, headers(&h)),
            "203.0.113.7"
        );
        let spoofed = [
            ("X-Forwarded-For", "198.51.100.1"),
            ("Forwarded", "for=198.51.100.2"),
        ];
        assert_eq!(
            client_ip(ProxyTrust::Cloudflare, headers(&spoofed)),
            "",
            "a client-supplied X-Forwarded-For is not believed"
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_headers_count() {
        let xff = [("X-Forwarded-For", " 198.51.100.1, 10.0.0.2")];
        assert_eq!(
            client_ip(ProxyTrust::ForwardedHeaders, headers(&xff)),
            "198.51.100.1"
        );
        let forwarded = [(
            "Forwarded",
            r#"for="[2001:db8::1]:443";proto=https, for=10.0.0.2"#,
        )];
        assert_eq!(
            client_ip(ProxyTrust::ForwardedHeaders, headers(&forwarded)),
            "2001:db8::1"
        );
        let with_port = [("X-Forwarded-For", "198.51.100.9:51234")];
        assert_eq!(
            client_ip(ProxyTrust::ForwardedHeaders, headers(&with_port)),
            "198.51.100.9"
        );
        let garbage = [("X-Forwarded-For", "unknown, <script>")];
        assert_eq!(
            client_ip(ProxyTrust::ForwardedHeaders, headers(&garbage)),
            ""
        );
    }

    #[test]
    fn countries_are_iso_codes_or_nothing() {
        assert_eq!(
            country(ProxyTrust::Cloudflare, Some("DE".into()), headers(&[])),
            "DE"
        );
        assert_eq!(
            country(ProxyTrust::Cloudflare, Some("T1".into()), headers(&[])),
            "",
            "Tor"
        );
        assert_eq!(
            country(
                ProxyTrust::Cloudflare,
                None,
                headers(&[("CF-IPCountry", "FR")])
            ),
            "",
            "a header is not believed on Cloudflare"
        );
        assert_eq!(
            country(
                ProxyTrust::ForwardedHeaders,
                None,
                headers(&[("CF-IPCountry", "fr")])
            ),
            "FR"
        );
        assert_eq!(
            country(
                ProxyTrust::ForwardedHeaders,
                None,
                headers(&[("CF-IPCountry", "Berlin")])
            ),
            ""
        );
    }
}

//! Just enough URL splitting for the tracker's rules: scheme, host, path, hash.
//!
//! Hand-written because the `url` crate costs tens of kilobytes; the inputs are
//! already-serialized URLs from `location.href` and `HTMLAnchorElement.href`,
//! so no normalization is needed, only splitting.

/// The parts of an absolute, browser-serialized URL.
use crate::text::{after_last, before, find, rfind, split_at};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    /// Without the colon: `https`, `file`, `mailto`.
    pub scheme: &'a str,
    /// `host[:port]` as `Location.host` gives it; empty when there is no authority.
    pub host: &'a str,
    /// The path, as `Location.pathname`.
    pub path: &'a str,
    /// `#fragment` including the `#`, or empty, as `Location.hash`.
    pub hash: &'a str,
}

impl<'a> Parts<'a> {
    pub fn parse(href: &'a str) -> Self {
        let (before_hash, hash) = split_at(href, find(href, b'#').unwrap_or(href.len()));
        let before_query = before(before_hash, b'?');
        let (scheme, rest) = match find(before_query, b':') {
            Some(colon) => {
                let (scheme, rest) = split_at(before_query, colon);
                (scheme, rest.get(1..).unwrap_or(""))
            }
            None => ("", before_query),
        };
        let (host, path) = match rest.strip_prefix("//") {
            Some(authority_and_path) => {
                let end = find(authority_and_path, b'/').unwrap_or(authority_and_path.len());
                let (authority, path) = split_at(authority_and_path, end);
                // user:password@host → host
                (after_last(authority, b'@'), path)
            }
            None => ("", rest),
        };
        Parts {
            scheme,
            host,
            path,
            hash: if hash.len() > 1 { hash } else { "" },
        }
    }

    /// `Location.hostname`: the host without its port (`[::1]` keeps its brackets).
    pub fn hostname(&self) -> &'a str {
        // the port follows the last ':' unless that ':' is inside [IPv6] brackets
        match rfind(self.host, b':').map(|colon| split_at(self.host, colon).0) {
            Some(hostname) if !hostname.starts_with('[') || hostname.ends_with(']') => hostname,
            _ => self.host,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Parts;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn splits_an_ordinary_url() {
        let p = Parts::parse("https://backstage.example.com:8443/catalog/x?tab=1#top");
        assert_eq!(p.scheme, "https");
        assert_eq!(p.host, "backstage.example.com:8443");
        assert_eq!(p.hostname(), "backstage.example.com");
        assert_eq!(p.path, "/catalog/x");
        assert_eq!(p.hash, "#top");
    }

    #[test]
    fn handles_userinfo_ipv6_and_file_urls() {
        let p = Parts::parse("http://u:p@[::1]:3000/");
        assert_eq!(p.host, "[::1]:3000");
        assert_eq!(p.hostname(), "[::1]");
        let f = Parts::parse("file:///tmp/page.html");
        assert_eq!((f.scheme, f.host, f.path), ("file", "", "/tmp/page.html"));
    }

    #[test]
    fn links_without_authority_have_no_host() {
        assert_eq!(Parts::parse("mailto:a@b.c").host, "");
        assert_eq!(Parts::parse("javascript:void(0)").host, "");
        assert_eq!(Parts::parse("").path, "");
    }

    #[test]
    fn an_empty_fragment_is_no_hash() {
        assert_eq!(Parts::parse("https://a.b/x#").hash, "");
        assert_eq!(Parts::parse("https://a.b/#/docs?x").hash, "#/docs?x");
        assert_eq!(Parts::parse("https://a.b").path, "");
    }
}

//! Known referrers, from Matomo's lists (edge/ingest/data/matomo, regenerated into
//! `known_data.rs` by scripts/update-data.mjs): source names of search engines
//! and social networks, and referrer-spam hosts.

use super::known_data::{SOURCES, SOURCE_PATTERNS, SPAMMERS};

/// The source name for a referrer host ("Google" for `www.google.co.uk`).
pub fn source_name(host: &str) -> Option<&'static str> {
    let host = host.strip_prefix("www.").unwrap_or(host);
    if let Ok(i) = SOURCES.binary_search_by(|(known, _)| (*known).cmp(host)) {
        return SOURCES.get(i).map(|(_, name)| *name);
    }
    SOURCE_PATTERNS
        .iter()
        .find(|(pattern, _)| matches_pattern(pattern, host))
        .map(|(_, name)| *name)
}

/// True when the host, or a domain it belongs to, is a known referrer spammer.
pub fn is_referrer_spam(host: &str) -> bool {
    let mut domain = host.strip_prefix("www.").unwrap_or(host);
    loop {
        if SPAMMERS.binary_search(&domain).is_ok() {
            return true;
        }
        match domain.split_once('.') {
            Some((_, parent)) if parent.contains('.') => domain = parent,
            _ => return false,
        }
    }
}

/// `{}` in a pattern stands for one or more characters (labels): `google.{}`,
/// `{}.bing.com`, `images.{}.ask.com`.
fn matches_pattern(pattern: &str, host: &str) -> bool {
    match pattern.split_once("{}") {
        Some((prefix, suffix)) => {
            host.len() > prefix.len() + suffix.len()
                && host.starts_with(prefix)
                && host.ends_with(suffix)
        }
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_engines_and_social_networks_by_name() {
        assert_eq!(source_name("www.google.com"), Some("Google"));
        assert_eq!(
            source_name("www.google.co.uk"),
            Some("Google"),
            "google.{{}}"
        );
        assert_eq!(source_name("cn.bing.com"), Some("Bing"), "{{}}.bing.com");
        assert_eq!(source_name("duckduckgo.com"), Some("DuckDuckGo"));
        assert_eq!(source_name("github.com"), Some("GitHub"));
        assert_eq!(source_name("news.ycombinator.com"), Some("Hacker News"));
        assert_eq!(
            source_name("lnkd.in"),
            Some("LinkedIn"),
            "a trailing space in the list is trimmed"
        );
        assert_eq!(
            source_name("plus.google.com"),
            Some("Google+"),
            "Google%2B is decoded"
        );
        assert_eq!(source_name("backstage.example.com"), None);
        assert_eq!(source_name("google"), None);
    }

    #[test]
    fn referrer_spam_and_its_subdomains() {
        assert!(is_referrer_spam("semalt.com"));
        assert!(is_referrer_spam("www.semalt.com"));
        assert!(is_referrer_spam("deep.sub.darodar.com"));
        assert!(!is_referrer_spam("github.com"));
        assert!(!is_referrer_spam("com"));
        assert!(!is_referrer_spam(""));
    }

    #[test]
    fn the_tables_are_sorted_for_binary_search() {
        assert!(SOURCES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(SPAMMERS.windows(2).all(|w| w[0] < w[1]));
        assert!(SOURCES.len() > 600 && SPAMMERS.len() > 1000);
    }
}

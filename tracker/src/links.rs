//! What a click on a link means: an outbound link, a file download, or nothing.

use crate::config::Config;
use crate::text::{after_last, before};

/// True when the link leaves the page's host (`link.host !== location.host`,
/// both as the browser parsed them); links without a host (`mailto:`,
/// `javascript:`) never count.
pub fn is_outbound(link_host: &str, page_host: &str) -> bool {
    !link_host.is_empty() && link_host != page_host
}

/// The URL to report when the link is a download of one of the configured
/// file types: the href without its query string, as Plausible reports it.
pub fn download_url<'a>(link_href: &'a str, config: &Config) -> Option<&'a str> {
    let without_query = before(link_href, b'?');
    config
        .is_file_type(after_last(without_query, b'.'))
        .then_some(without_query)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn outbound_means_another_host_or_port() {
        let page = "portal.example.com";
        assert!(is_outbound("github.com", page));
        assert!(is_outbound("portal.example.com:8443", page));
        assert!(!is_outbound("portal.example.com", page));
        assert!(
            !is_outbound("", page),
            "mailto: and javascript: links have no host"
        );
    }

    #[cfg(feature = "links")]
    #[test]
    fn downloads_match_the_extension_and_drop_the_query() {
        let mut config = Config::new();
        config.set(&crate::config::Settings {
            exclude: None,
            include: None,
            file_types: None,
            add_file_types: None,
            features: 0,
        });
        let url = |href| download_url(href, &config);
        assert_eq!(
            url("https://a.b/files/report.pdf?token=1"),
            Some("https://a.b/files/report.pdf")
        );
        assert_eq!(url("https://a.b/app.dmg"), Some("https://a.b/app.dmg"));
        assert_eq!(url("https://a.b/page.html"), None);
        assert_eq!(
            url("https://a.b/REPORT.PDF"),
            None,
            "case-sensitive, as Plausible"
        );
        assert_eq!(
            url("https://a.b/x.pdf#p=2"),
            None,
            "a fragment hides the extension, as Plausible"
        );
    }
}

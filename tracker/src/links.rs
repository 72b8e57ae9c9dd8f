//! What a click on a link means: an outbound link, a file download, or nothing.

use crate::text::{after_last, before};
use crate::url::Parts;
use alloc::string::String;

/// True when the link leaves the page's host (`link.host !== location.host`);
/// links without a host (`mailto:`, `javascript:`) never count.
pub fn is_outbound(link_href: &str, page_href: &str) -> bool {
    let link_host = Parts::parse(link_href).host;
    !link_host.is_empty() && link_host != Parts::parse(page_href).host
}

/// The URL to report when the link is a download of one of `file_types`: the
/// href without its query string, as Plausible reports it.
pub fn download_url<'a>(link_href: &'a str, file_types: &[String]) -> Option<&'a str> {
    let without_query = before(link_href, b'?');
    let extension = after_last(without_query, b'.');
    file_types
        .iter()
        .any(|t| t == extension)
        .then_some(without_query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, DEFAULT_FILE_TYPES};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn defaults() -> alloc::vec::Vec<String> {
        Config::new(String::new(), None, None, None, None, "").file_types
    }

    #[test]
    fn outbound_means_another_host_or_port() {
        let page = "https://portal.example.com/catalog";
        assert!(is_outbound("https://github.com/x", page));
        assert!(is_outbound("https://portal.example.com:8443/", page));
        assert!(!is_outbound("https://portal.example.com/docs", page));
        assert!(!is_outbound("mailto:team@example.com", page));
    }

    #[test]
    fn downloads_match_the_extension_and_drop_the_query() {
        let types = defaults();
        assert_eq!(
            download_url("https://a.b/files/report.pdf?token=1", &types),
            Some("https://a.b/files/report.pdf")
        );
        assert_eq!(download_url("https://a.b/app.dmg", &types), Some("https://a.b/app.dmg"));
        assert_eq!(download_url("https://a.b/page.html", &types), None);
        assert_eq!(download_url("https://a.b/REPORT.PDF", &types), None, "case-sensitive, as Plausible");
        assert_eq!(download_url("https://a.b/x.pdf#p=2", &types), None, "a fragment hides the extension, as Plausible");
        assert_eq!(DEFAULT_FILE_TYPES.split(',').count(), types.len());
    }
}

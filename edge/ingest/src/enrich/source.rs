//! Where a visit came from, with Plausible's precedence: `utm_source`, then
//! `source`, then `ref` query parameters, then the referrer's known name,
//! else its host without `www.`. A referrer from the page's own host is no
//! referral. UTM parameters and the first click id are kept as they are.
//! The referrer itself is kept as Plausible keeps it: the host (no `www.`)
//! and path of an http(s) URL — never its query string, fragment or
//! userinfo, where a password-reset link or a mail address would be.

use super::channel::channel;
use model::row::Attribution;
use url::Url;

/// The click-id parameters ad platforms append (their name is kept, never the value).
pub const CLICK_IDS: [&str; 6] = ["gclid", "gbraid", "wbraid", "msclkid", "fbclid", "twclid"];

/// `known` maps a referrer host (lowercase, no `www.`) to a source name
/// ("Google", "GitHub"), when the host is a known search engine or social site.
pub fn attribute(
    page: &Url,
    referrer: Option<&str>,
    known: impl Fn(&str) -> Option<&'static str>,
) -> Attribution {
    let param = |name: &str| {
        page.query_pairs()
            .find(|(key, value)| key == name && !value.trim().is_empty())
            .map(|(_, value)| value.trim().to_string())
    };
    let referrer_url = referrer.and_then(web_url);
    let referrer_host = referrer_url
        .as_ref()
        .and_then(|url| url.host_str())
        .map(strip_www);
    let page_host = page.host_str().map(strip_www);
    let external = referrer_host
        .as_ref()
        .filter(|host| Some(*host) != page_host.as_ref());

    let referrer_source = param("utm_source")
        .or_else(|| param("source"))
        .or_else(|| param("ref"))
        .or_else(|| {
            external.map(|host| {
                known(host)
                    .map(str::to_string)
                    .unwrap_or_else(|| host.clone())
            })
        })
        .unwrap_or_default();
    let mut attribution = Attribution {
        referrer: match (external, &referrer_url) {
            (Some(_), Some(url)) => host_and_path(url),
            _ => String::new(),
        },
        referrer_source,
        utm_medium: param("utm_medium").unwrap_or_default(),
        utm_source: param("utm_source").unwrap_or_default(),
        utm_campaign: param("utm_campaign").unwrap_or_default(),
        utm_content: param("utm_content").unwrap_or_default(),
        utm_term: param("utm_term").unwrap_or_default(),
        click_id_param: CLICK_IDS
            .iter()
            .find(|id| param(id).is_some())
            .map(|id| id.to_string())
            .unwrap_or_default(),
        channel: String::new(),
    };
    attribution.channel = channel(
        &attribution.referrer_source,
        &attribution.utm_medium,
        &attribution.utm_campaign,
        &attribution.utm_source,
        &attribution.click_id_param,
    )
    .to_string();
    attribution
}

/// The referrer's host as sources use it: lowercase, without `www.`; only
/// for http(s) referrers (an `android-app://` one has no host to name).
pub fn referrer_host(referrer: &str) -> Option<String> {
    web_url(referrer)?.host_str().map(strip_www)
}

/// A referrer as rows keep it: host (no `www.`) and path of an http(s) URL,
/// or empty. Also for rows queued before referrers were cut (version-1
/// messages), which held the URL whole.
pub fn kept_referrer(referrer: &str) -> String {
    web_url(referrer)
        .map(|url| host_and_path(&url))
        .unwrap_or_default()
}

fn host_and_path(url: &Url) -> String {
    let host = url.host_str().map(strip_www).unwrap_or_default();
    format!("{host}{}", url.path().trim_end_matches('/'))
}

/// The referrer as an http(s) URL, or none.
fn web_url(referrer: &str) -> Option<Url> {
    Url::parse(referrer)
        .ok()
        .filter(|r| matches!(r.scheme(), "http" | "https"))
}

fn strip_www(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    host.strip_prefix("www.")
        .map(str::to_string)
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(host: &str) -> Option<&'static str> {
        match host {
            "google.com" | "google.de" => Some("Google"),
            "github.com" => Some("GitHub"),
            _ => None,
        }
    }

    fn attr(page: &str, referrer: Option<&str>) -> Attribution {
        attribute(&Url::parse(page).unwrap(), referrer, known)
    }

    #[test]
    fn utm_source_then_source_then_ref_then_the_referrer() {
        assert_eq!(
            attr(
                "https://p.example/?utm_source=newsletter&source=x&ref=y",
                Some("https://www.google.com/")
            )
            .referrer_source,
            "newsletter"
        );
        assert_eq!(
            attr(
                "https://p.example/?source=slack&ref=y",
                Some("https://www.google.com/")
            )
            .referrer_source,
            "slack"
        );
        assert_eq!(
            attr(
                "https://p.example/?ref=producthunt",
                Some("https://www.google.com/")
            )
            .referrer_source,
            "producthunt"
        );
        assert_eq!(
            attr(
                "https://p.example/",
                Some("https://www.google.de/search?q=x")
            )
            .referrer_source,
            "Google"
        );
        assert_eq!(
            attr("https://p.example/", Some("https://blog.example.org/post")).referrer_source,
            "blog.example.org"
        );
        assert_eq!(
            attr("https://p.example/?utm_source=", None).referrer_source,
            "",
            "blank parameters do not count"
        );
    }

    #[test]
    fn a_referrer_from_the_same_host_is_no_referral() {
        let internal = attr(
            "https://portal.example/docs",
            Some("https://www.portal.example/catalog"),
        );
        assert_eq!(
            (
                internal.referrer_source.as_str(),
                internal.referrer.as_str()
            ),
            ("", "")
        );
        let external = attr(
            "https://portal.example/docs",
            Some("https://github.com/org/repo"),
        );
        assert_eq!(
            (
                external.referrer_source.as_str(),
                external.referrer.as_str()
            ),
            ("GitHub", "github.com/org/repo")
        );
    }

    #[test]
    fn the_referrer_keeps_its_host_and_path_only() {
        let referrer = |r: &str| attr("https://portal.example/", Some(r)).referrer;
        assert_eq!(
            referrer("https://user:secret@www.Mail.example:8443/reset/?token=T0KEN&email=a%40b.example#frag"),
            "mail.example/reset"
        );
        assert_eq!(referrer("http://blog.example/"), "blog.example");
        assert_eq!(referrer("https://blog.example"), "blog.example");
        assert_eq!(referrer("ftp://files.example/x"), "");
        assert_eq!(
            kept_referrer("https://www.mail.example/reset?token=T"),
            "mail.example/reset"
        );
        assert_eq!(kept_referrer(""), "");
    }

    #[test]
    fn utm_parameters_and_the_click_id_name_are_kept() {
        let a = attr("https://p.example/?utm_medium=email&utm_campaign=launch&utm_content=hero&utm_term=ci&fbclid=SECRETVALUE&gclid=1", None);
        assert_eq!(
            (
                a.utm_medium.as_str(),
                a.utm_campaign.as_str(),
                a.utm_content.as_str(),
                a.utm_term.as_str()
            ),
            ("email", "launch", "hero", "ci")
        );
        assert_eq!(
            a.click_id_param, "gclid",
            "the first in CLICK_IDS order, by name only"
        );
        assert!(!format!("{a:?}").contains("SECRETVALUE"));
    }

    #[test]
    fn odd_referrers_are_ignored() {
        assert_eq!(
            attr("https://p.example/", Some("android-app://com.slack")).referrer_source,
            ""
        );
        assert_eq!(attr("https://p.example/", Some("not a url")).referrer, "");
    }
}

//! The tracker's rules against a recording host: what is sent, in what order.

use super::*;
use crate::text::copy;
use std::cell::RefCell;
use std::string::{String, ToString};
use std::vec::Vec;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A browser whose facts the test sets and whose sends it records.
struct Page {
    href: String,
    environment: u32,
    now: f64,
    height: f64,
    scroll_y: f64,
    sent: RefCell<Vec<(String, bool)>>,
    ignored: RefCell<Vec<String>>,
}

impl Page {
    fn at(href: &str) -> Self {
        Page {
            href: href.to_string(),
            environment: 0,
            now: 1_000.0,
            height: 1600.0,
            scroll_y: 0.0,
            sent: RefCell::default(),
            ignored: RefCell::default(),
        }
    }

    fn take(&self) -> Vec<String> {
        self.sent
            .borrow_mut()
            .drain(..)
            .map(|(body, _)| body)
            .collect()
    }

    fn sent(&self) -> Vec<(String, bool)> {
        self.sent.borrow().clone()
    }

    fn ignored(&self) -> Vec<String> {
        self.ignored.borrow().clone()
    }
}

impl Host for Page {
    fn text(&self, source: Source, buf: &mut [u8]) -> Option<usize> {
        let href = self.href.as_str();
        // the URL parts the browser gives, for the simple URLs of these tests
        let (protocol, rest) = href.split_once("//").unwrap_or((href, ""));
        let (rest, hash) = rest
            .split_once('#')
            .map_or((rest, ""), |(r, h)| (r, &href[href.len() - h.len() - 1..]));
        let rest = rest.split('?').next().unwrap_or("");
        let (host_part, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        let hostname = match host_part.rfind(':') {
            Some(i) if !host_part.ends_with(']') => &host_part[..i],
            _ => host_part,
        };
        let text = match source {
            Source::Href => href,
            Source::Hostname => hostname,
            Source::Protocol => protocol,
            Source::Pathname => path,
            Source::Hash => hash,
            Source::Host => host_part,
            Source::Arg(_) => return None,
        };
        copy(buf, text.as_bytes()).then_some(text.len())
    }
    fn fact(&self, fact: Fact) -> f64 {
        match fact {
            Fact::Now => self.now,
            Fact::Environment => f64::from(self.environment),
            Fact::PageHeight => self.height,
            Fact::ScrollY => self.scroll_y,
            Fact::ViewportHeight => 800.0,
        }
    }
    fn send(&self, payload: &Payload, primary: bool) {
        self.sent.borrow_mut().push((json(payload), primary));
    }
    fn ignore(&self, reason: &str) {
        self.ignored.borrow_mut().push(reason.to_string());
    }
}

/// What Rust decided of a payload, as JSON in the adapter's key order (the
/// adapter adds `v`, `d` and `r`, which Rust does not decide).
fn json(p: &Payload) -> String {
    let mut buf = [0u8; 4096];
    let mut w = Writer::new(&mut buf);
    w.raw("{");
    w.key("n");
    w.string(p.name, false);
    if let Some(report) = p.engagement {
        w.key("sd");
        w.raw(&report.scroll_depth.to_string());
    }
    w.key("u");
    w.string(p.url, false);
    if let Some(props) = p.props {
        w.key("p");
        w.raw(props);
    }
    if !p.interactive {
        w.raw(",\"i\":false");
    }
    if let Some(revenue) = p.revenue {
        w.key("$");
        w.raw(revenue);
    }
    if let Some(report) = p.engagement {
        w.key("e");
        w.raw(&report.engaged_ms.to_string());
    }
    if p.hash {
        w.raw(",\"h\":1");
    }
    w.raw("}");
    w.finish()
        .expect("the tests' payloads fit 4 KB")
        .to_string()
}

fn tracker(
    page: &Page,
    features: &str,
    exclude: Option<&str>,
    include: Option<&str>,
) -> std::boxed::Box<Tracker> {
    let mut tracker = std::boxed::Box::new(Tracker::new());
    let settings = Settings {
        exclude,
        include,
        file_types: None,
        add_file_types: None,
        features: crate::config::feature::parse(features),
    };
    tracker.start(&settings, page);
    tracker
}

const HOME: &str = "https://portal.example/";

#[test]
fn a_load_sends_one_pageview() {
    let page = Page::at(HOME);
    let mut t = tracker(&page, "", None, None);
    t.navigate(&page, Navigation::Load);
    assert_eq!(
        page.sent(),
        [(
            r#"{"n":"pageview","u":"https://portal.example/"}"#.to_string(),
            true
        )]
    );
}

#[test]
fn loopback_addresses_are_plausibles_127_forms() {
    for local in ["127.1", "127.0.1", "127.0.0.1", "127.255.255.255"] {
        assert!(super::is_loopback_v4(local), "{local}");
    }
    for other in [
        "127.",
        "127",
        "127.0.0.0.1",
        "127..1",
        "127.1.",
        "127.a",
        "127.0.0.1.example.com",
        "128.0.0.1",
        "1127.0.0.1",
    ] {
        assert!(!super::is_loopback_v4(other), "{other}");
    }
}

#[test]
fn localhost_and_file_pages_are_ignored_unless_local_capture() {
    for href in [
        "http://localhost:3000/",
        "http://127.0.0.1/",
        "http://127.1/x",
        "http://[::1]/",
        "file:///tmp/a.html",
    ] {
        let page = Page::at(href);
        tracker(&page, "", None, None).navigate(&page, Navigation::Load);
        assert!(page.sent().is_empty(), "{href}");
        assert_eq!(page.ignored(), ["localhost"], "{href}");

        let page = Page::at(href);
        tracker(&page, "local", None, None).navigate(&page, Navigation::Load);
        assert_eq!(page.sent().len(), 1, "{href} with local capture");
    }
    let page = Page::at("http://127.0.0.1.example.com/");
    tracker(&page, "", None, None).navigate(&page, Navigation::Load);
    assert_eq!(page.sent().len(), 1, "a public name that starts with 127");
}

#[test]
fn automation_is_ignored_silently_and_the_opt_out_with_a_reason() {
    let mut page = Page::at(HOME);
    page.environment = environment::AUTOMATED;
    tracker(&page, "", None, None).navigate(&page, Navigation::Load);
    assert_eq!(
        (page.sent().len(), page.ignored()),
        (0, [String::new()].to_vec())
    );

    let mut page = Page::at(HOME);
    page.environment = environment::OPTED_OUT;
    tracker(&page, "local", None, None).track(&page, "Signup", Options::default());
    assert_eq!(
        page.ignored(),
        ["localStorage flag"],
        "local capture does not override the visitor's opt-out"
    );
}

#[cfg(feature = "exclusions")]
#[test]
fn exclusions_apply_to_pageviews_only() {
    let page = Page::at("https://portal.example/admin/users");
    let mut t = tracker(&page, "", Some("/admin/**, /private"), None);
    t.navigate(&page, Navigation::Load);
    assert_eq!(page.ignored(), ["exclusion rule"]);
    t.track(&page, "Signup", Options::default());
    assert_eq!(
        page.sent().len(),
        1,
        "custom events on excluded pages still count"
    );

    let page = Page::at("https://portal.example/catalog/a");
    tracker(&page, "", None, Some("/docs/*")).navigate(&page, Navigation::Load);
    assert_eq!(
        page.ignored(),
        ["exclusion rule"],
        "include lists exclude everything else"
    );
}

#[test]
fn history_navigation_counts_only_pathname_changes() {
    let mut page = Page::at("https://portal.example/catalog");
    let mut t = tracker(&page, "", None, None);
    t.navigate(&page, Navigation::Load);
    page.href = "https://portal.example/catalog?filter=kind".to_string();
    t.navigate(&page, Navigation::History);
    page.href = "https://portal.example/catalog#section".to_string();
    t.navigate(&page, Navigation::HashChange);
    assert_eq!(
        page.take().len(),
        1,
        "query and hash changes are no new page"
    );
    page.href = "https://portal.example/docs".to_string();
    t.navigate(&page, Navigation::History);
    let sent = page.take();
    assert!(
        sent.last()
            .is_some_and(|b| b.contains(r#""u":"https://portal.example/docs""#)),
        "{sent:?}"
    );
}

#[test]
fn hash_mode_counts_every_hash_change_and_marks_payloads() {
    let mut page = Page::at("https://portal.example/#/catalog");
    let mut t = tracker(&page, "hash", Some("/#/secret"), None);
    t.navigate(&page, Navigation::Load);
    page.href = "https://portal.example/#/docs".to_string();
    t.navigate(&page, Navigation::HashChange);
    t.navigate(&page, Navigation::History);
    page.href = "https://portal.example/#/secret".to_string();
    t.navigate(&page, Navigation::HashChange);
    let sent = page.take();
    let pageviews: Vec<_> = sent.iter().filter(|b| b.contains("\"pageview\"")).collect();
    assert!(pageviews.iter().all(|b| b.ends_with(r#","h":1}"#)));
    if cfg!(feature = "exclusions") {
        assert_eq!(pageviews.len(), 2, "{sent:?}");
        assert_eq!(
            page.ignored(),
            ["exclusion rule"],
            "hash routes are matched with their fragment"
        );
    } else {
        assert_eq!(pageviews.len(), 3, "{sent:?}");
    }
}

/// A build without the optional features (the default script tag's) never
/// runs their rules, whatever the page asks for.
#[cfg(not(any(
    feature = "links",
    feature = "tagged-events",
    feature = "exclusions",
    feature = "form-submissions"
)))]
#[test]
fn a_build_without_the_optional_features_never_runs_their_rules() {
    let page = Page::at("https://portal.example/admin");
    let everything = "outbound-links,file-downloads,tagged-events,form-submissions";
    let mut t = tracker(&page, everything, Some("/admin"), Some("/docs"));
    t.navigate(&page, Navigation::Load);
    assert_eq!(page.take().len(), 1, "exclusions are not applied");
    t.link_clicked(&page, "https://github.com/org/repo", "github.com", false);
    t.link_clicked(
        &page,
        "https://portal.example/a.pdf",
        "portal.example",
        false,
    );
    t.tagged(&page, "plausible-event-name=Deploy", None);
    t.form_submitted(&page, false);
    assert!(page.take().is_empty());
    assert!(page.ignored().is_empty());
}

#[test]
fn a_page_that_loads_hidden_counts_once_when_first_visible() {
    let page = Page::at(HOME);
    let mut t = tracker(&page, "", None, None);
    t.navigate(&page, Navigation::FirstVisible);
    t.navigate(&page, Navigation::FirstVisible);
    assert_eq!(page.take().len(), 1);
}

#[test]
fn manual_mode_sends_only_what_the_page_asks_for() {
    let page = Page::at("https://portal.example/users/42");
    let mut t = tracker(&page, "manual", None, None);
    t.navigate(&page, Navigation::Load);
    assert!(page.sent().is_empty());
    let custom_url = Options {
        url: Some("https://portal.example/users/:id"),
        ..Options::default()
    };
    t.track(&page, "pageview", custom_url);
    assert!(page.take()[0].contains(r#""u":"https://portal.example/users/:id""#));
}

#[test]
fn custom_events_carry_props_revenue_and_non_interactive() {
    let page = Page::at(HOME);
    let mut t = tracker(&page, "", None, None);
    let options = Options {
        url: None,
        props: Some(r#"{"language":"nodejs","template":"express"}"#),
        revenue: Some(r#"{"amount":"9.99","currency":"USD"}"#),
        interactive: false,
    };
    t.track(&page, "Deploy Application", options);
    assert_eq!(
        page.take(),
        [concat!(
            r#"{"n":"Deploy Application","u":"https://portal.example/","#,
            r#""p":{"language":"nodejs","template":"express"},"i":false,"$":{"amount":"9.99","currency":"USD"}}"#
        )]
    );
}

#[cfg(feature = "links")]
#[test]
fn links_become_outbound_or_download_events_when_enabled() {
    let page = Page::at(HOME);
    let mut off = tracker(&page, "", None, None);
    off.link_clicked(&page, "https://github.com/org/repo", "github.com", false);
    off.link_clicked(
        &page,
        "https://portal.example/a.pdf",
        "portal.example",
        false,
    );
    assert!(page.sent().is_empty());

    let mut t = tracker(
        &page,
        "outbound-links,file-downloads,tagged-events",
        None,
        None,
    );
    t.link_clicked(&page, "https://github.com/org/repo", "github.com", false);
    t.link_clicked(
        &page,
        "https://portal.example/files/guide.pdf?v=2",
        "portal.example",
        false,
    );
    t.link_clicked(
        &page,
        "https://portal.example/catalog",
        "portal.example",
        false,
    );
    t.link_clicked(&page, "https://github.com/tagged", "github.com", true);
    let sent = page.take();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[0].contains(r#""n":"Outbound Link: Click","#)
            && sent[0].contains(r#""p":{"url":"https://github.com/org/repo"}"#)
    );
    assert!(
        sent[1].contains(r#""n":"File Download","#)
            && sent[1].contains(r#""p":{"url":"https://portal.example/files/guide.pdf"}"#)
    );
}

#[cfg(feature = "tagged-events")]
#[test]
fn tagged_elements_send_their_event_with_url_and_empty_revenue() {
    let page = Page::at(HOME);
    let mut t = tracker(&page, "tagged-events", None, None);
    t.tagged(
        &page,
        "plausible-event-name=Create+Service plausible-event-template=express",
        Some("https://portal.example/create"),
    );
    t.tagged(&page, "plausible-event-template=no-name", None);
    assert_eq!(
        page.take(),
        [concat!(
            r#"{"n":"Create Service","u":"https://portal.example/","#,
            r#""p":{"template":"express","url":"https://portal.example/create"},"$":{}}"#
        )]
    );
}

#[test]
fn engagement_is_reported_on_blur_and_before_the_next_spa_pageview() {
    let mut page = Page::at("https://portal.example/a");
    let mut t = tracker(&page, "", None, None);
    t.attention(&page, false);
    assert!(
        page.sent().is_empty(),
        "no engagement before the first pageview"
    );
    t.navigate(&page, Navigation::Load);
    page.scroll_y = 400.0;
    t.scrolled(&page);
    page.now += 5_000.0;
    t.attention(&page, false);
    page.now += 10_000.0;
    t.attention(&page, true);
    page.now += 4_000.0;
    page.href = "https://portal.example/b".to_string();
    t.navigate(&page, Navigation::History);
    let sent = page.sent();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(
        sent[1],
        (
            r#"{"n":"engagement","sd":75,"u":"https://portal.example/a","e":5000}"#.to_string(),
            false
        )
    );
    assert_eq!(
        sent[2],
        (
            r#"{"n":"engagement","sd":75,"u":"https://portal.example/a","e":4000}"#.to_string(),
            false
        )
    );
    assert!(sent[3].0.contains(r#""u":"https://portal.example/b""#) && sent[3].1);
}

#[test]
fn navigation_codes_round_trip() {
    assert_eq!(Navigation::from_code(0), Some(Navigation::Load));
    assert_eq!(Navigation::from_code(3), Some(Navigation::HashChange));
    assert_eq!(Navigation::from_code(4), None);
}

#[cfg(feature = "form-submissions")]
#[test]
fn form_submissions_when_enabled_and_not_tagged() {
    let page = Page::at(HOME);
    let mut off = tracker(&page, "", None, None);
    off.form_submitted(&page, false);
    assert!(page.sent().is_empty());
    let mut t = tracker(&page, "form-submissions", None, None);
    t.form_submitted(&page, true);
    assert!(
        page.sent().is_empty(),
        "a tagged form sends its own event instead"
    );
    t.form_submitted(&page, false);
    assert!(page.take()[0].starts_with(r#"{"n":"Form: Submission","#));
}

//! The tracker's rules against a recording host: what is sent, in what order.

use super::*;
use alloc::string::ToString;
use alloc::vec::Vec;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A browser whose facts the test sets and whose sends it records.
struct Page {
    href: String,
    referrer: String,
    environment: u32,
    now: f64,
    height: f64,
    scroll_y: f64,
    sent: Vec<(String, bool)>,
    ignored: Vec<String>,
}

impl Page {
    fn at(href: &str) -> Self {
        Page {
            href: href.to_string(),
            referrer: String::new(),
            environment: 0,
            now: 1_000.0,
            height: 1600.0,
            scroll_y: 0.0,
            sent: Vec::new(),
            ignored: Vec::new(),
        }
    }

    fn take(&mut self) -> Vec<String> {
        self.sent.drain(..).map(|(body, _)| body).collect()
    }
}

impl Host for Page {
    fn href(&self) -> String {
        self.href.clone()
    }
    fn referrer(&self) -> String {
        self.referrer.clone()
    }
    fn environment(&self) -> u32 {
        self.environment
    }
    fn now(&self) -> f64 {
        self.now
    }
    fn page_height(&self) -> f64 {
        self.height
    }
    fn scroll_y(&self) -> f64 {
        self.scroll_y
    }
    fn viewport_height(&self) -> f64 {
        800.0
    }
    fn send(&mut self, payload: String, primary: bool) {
        self.sent.push((payload, primary));
    }
    fn ignore(&mut self, reason: &str) {
        self.ignored.push(reason.to_string());
    }
}

fn tracker(page: &Page, features: &str, exclude: Option<&str>, include: Option<&str>) -> Tracker {
    let config = Config::new(
        "portal.example".to_string(),
        exclude.map(String::from),
        include.map(String::from),
        None,
        None,
        features,
    );
    Tracker::new(config, page)
}

const HOME: &str = "https://portal.example/";

#[test]
fn a_load_sends_one_pageview() {
    let mut page = Page::at(HOME);
    page.referrer = "https://search.example/?q=x".to_string();
    let mut t = tracker(&page, "", None, None);
    t.navigate(&mut page, Navigation::Load);
    assert_eq!(
        page.sent,
        [(
            r#"{"n":"pageview","v":1,"u":"https://portal.example/","d":"portal.example","r":"https://search.example/?q=x"}"#
                .to_string(),
            true
        )]
    );
}

#[test]
fn localhost_and_file_pages_are_ignored_unless_local_capture() {
    for href in ["http://localhost:3000/", "http://127.0.0.1/", "http://127.1/x", "http://[::1]/", "file:///tmp/a.html"] {
        let mut page = Page::at(href);
        tracker(&page, "", None, None).navigate(&mut page, Navigation::Load);
        assert!(page.sent.is_empty(), "{href}");
        assert_eq!(page.ignored, ["localhost"], "{href}");

        let mut page = Page::at(href);
        tracker(&page, "local", None, None).navigate(&mut page, Navigation::Load);
        assert_eq!(page.sent.len(), 1, "{href} with local capture");
    }
    let mut page = Page::at("http://127.0.0.1.example.com/");
    tracker(&page, "", None, None).navigate(&mut page, Navigation::Load);
    assert_eq!(page.sent.len(), 1, "a public name that starts with 127");
}

#[test]
fn automation_is_ignored_silently_and_the_opt_out_with_a_reason() {
    let mut page = Page::at(HOME);
    page.environment = environment::AUTOMATED;
    tracker(&page, "", None, None).navigate(&mut page, Navigation::Load);
    assert_eq!((page.sent.len(), page.ignored.as_slice()), (0, &[String::new()][..]));

    let mut page = Page::at(HOME);
    page.environment = environment::OPTED_OUT;
    tracker(&page, "local", None, None).track(&mut page, "Signup", Options::default());
    assert_eq!(page.ignored, ["localStorage flag"], "local capture does not override the visitor's opt-out");
}

#[test]
fn exclusions_apply_to_pageviews_only() {
    let mut page = Page::at("https://portal.example/admin/users");
    let mut t = tracker(&page, "", Some("/admin/**, /private"), None);
    t.navigate(&mut page, Navigation::Load);
    assert_eq!(page.ignored, ["exclusion rule"]);
    t.track(&mut page, "Signup", Options::default());
    assert_eq!(page.sent.len(), 1, "custom events on excluded pages still count");

    let mut page = Page::at("https://portal.example/catalog/a");
    tracker(&page, "", None, Some("/docs/*")).navigate(&mut page, Navigation::Load);
    assert_eq!(page.ignored, ["exclusion rule"], "include lists exclude everything else");
}

#[test]
fn history_navigation_counts_only_pathname_changes() {
    let mut page = Page::at("https://portal.example/catalog");
    let mut t = tracker(&page, "", None, None);
    t.navigate(&mut page, Navigation::Load);
    page.href = "https://portal.example/catalog?filter=kind".to_string();
    t.navigate(&mut page, Navigation::History);
    page.href = "https://portal.example/catalog#section".to_string();
    t.navigate(&mut page, Navigation::HashChange);
    assert_eq!(page.take().len(), 1, "query and hash changes are no new page");
    page.href = "https://portal.example/docs".to_string();
    t.navigate(&mut page, Navigation::History);
    let sent = page.take();
    assert!(sent.last().is_some_and(|b| b.contains(r#""u":"https://portal.example/docs""#)), "{sent:?}");
}

#[test]
fn hash_mode_counts_every_hash_change_and_marks_payloads() {
    let mut page = Page::at("https://portal.example/#/catalog");
    let mut t = tracker(&page, "hash", Some("/#/secret"), None);
    t.navigate(&mut page, Navigation::Load);
    page.href = "https://portal.example/#/docs".to_string();
    t.navigate(&mut page, Navigation::HashChange);
    t.navigate(&mut page, Navigation::History);
    page.href = "https://portal.example/#/secret".to_string();
    t.navigate(&mut page, Navigation::HashChange);
    let sent = page.take();
    let pageviews: Vec<_> = sent.iter().filter(|b| b.contains("\"pageview\"")).collect();
    assert_eq!(pageviews.len(), 2, "{sent:?}");
    assert!(pageviews.iter().all(|b| b.ends_with(r#","h":1}"#)));
    assert_eq!(page.ignored, ["exclusion rule"], "hash routes are matched with their fragment");
}

#[test]
fn a_page_that_loads_hidden_counts_once_when_first_visible() {
    let mut page = Page::at(HOME);
    let mut t = tracker(&page, "", None, None);
    t.navigate(&mut page, Navigation::FirstVisible);
    t.navigate(&mut page, Navigation::FirstVisible);
    assert_eq!(page.take().len(), 1);
}

#[test]
fn manual_mode_sends_only_what_the_page_asks_for() {
    let mut page = Page::at("https://portal.example/users/42");
    let mut t = tracker(&page, "manual", None, None);
    t.navigate(&mut page, Navigation::Load);
    assert!(page.sent.is_empty());
    let custom_url = Options {
        url: Some("https://portal.example/users/:id".to_string()),
        ..Options::default()
    };
    t.track(&mut page, "pageview", custom_url);
    assert!(page.take()[0].contains(r#""u":"https://portal.example/users/:id""#));
}

#[test]
fn custom_events_carry_props_revenue_and_non_interactive() {
    let mut page = Page::at(HOME);
    let mut t = tracker(&page, "", None, None);
    let options = Options {
        url: None,
        props: Some(r#"{"language":"nodejs","template":"express"}"#.to_string()),
        revenue: Some(r#"{"amount":"9.99","currency":"USD"}"#.to_string()),
        interactive: false,
    };
    t.track(&mut page, "Deploy Application", options);
    assert_eq!(
        page.take(),
        [concat!(
            r#"{"n":"Deploy Application","v":1,"u":"https://portal.example/","d":"portal.example","r":null,"#,
            r#""p":{"language":"nodejs","template":"express"},"i":false,"$":{"amount":"9.99","currency":"USD"}}"#
        )]
    );
}

#[test]
fn links_become_outbound_or_download_events_when_enabled() {
    let mut page = Page::at(HOME);
    let mut off = tracker(&page, "", None, None);
    off.link_clicked(&mut page, "https://github.com/org/repo", false);
    off.link_clicked(&mut page, "https://portal.example/a.pdf", false);
    assert!(page.sent.is_empty());

    let mut t = tracker(&page, "outbound-links,file-downloads,tagged-events", None, None);
    t.link_clicked(&mut page, "https://github.com/org/repo", false);
    t.link_clicked(&mut page, "https://portal.example/files/guide.pdf?v=2", false);
    t.link_clicked(&mut page, "https://portal.example/catalog", false);
    t.link_clicked(&mut page, "https://github.com/tagged", true);
    let sent = page.take();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].contains(r#""n":"Outbound Link: Click","#) && sent[0].contains(r#""p":{"url":"https://github.com/org/repo"}"#));
    assert!(sent[1].contains(r#""n":"File Download","#) && sent[1].contains(r#""p":{"url":"https://portal.example/files/guide.pdf"}"#));
}

#[test]
fn tagged_elements_send_their_event_with_url_and_empty_revenue() {
    let mut page = Page::at(HOME);
    let mut t = tracker(&page, "tagged-events", None, None);
    t.tagged(&mut page, "plausible-event-name=Create+Service plausible-event-template=express", Some("https://portal.example/create"));
    t.tagged(&mut page, "plausible-event-template=no-name", None);
    assert_eq!(
        page.take(),
        [concat!(
            r#"{"n":"Create Service","v":1,"u":"https://portal.example/","d":"portal.example","r":null,"#,
            r#""p":{"template":"express","url":"https://portal.example/create"},"$":{}}"#
        )]
    );
}

#[test]
fn engagement_is_reported_on_blur_and_before_the_next_spa_pageview() {
    let mut page = Page::at("https://portal.example/a");
    let mut t = tracker(&page, "", None, None);
    t.attention(&mut page, false);
    assert!(page.sent.is_empty(), "no engagement before the first pageview");
    t.navigate(&mut page, Navigation::Load);
    page.scroll_y = 400.0;
    t.scrolled(&page);
    page.now += 5_000.0;
    t.attention(&mut page, false);
    page.now += 10_000.0;
    t.attention(&mut page, true);
    page.now += 4_000.0;
    page.href = "https://portal.example/b".to_string();
    t.navigate(&mut page, Navigation::History);
    let sent: Vec<_> = page.sent.drain(..).collect();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(
        sent[1],
        (r#"{"n":"engagement","sd":75,"d":"portal.example","u":"https://portal.example/a","e":5000,"v":1}"#.to_string(), false)
    );
    assert_eq!(
        sent[2],
        (r#"{"n":"engagement","sd":75,"d":"portal.example","u":"https://portal.example/a","e":4000,"v":1}"#.to_string(), false)
    );
    assert!(sent[3].0.contains(r#""u":"https://portal.example/b""#) && sent[3].1);
}

#[test]
fn navigation_codes_round_trip() {
    assert_eq!(Navigation::from_code(0), Some(Navigation::Load));
    assert_eq!(Navigation::from_code(3), Some(Navigation::HashChange));
    assert_eq!(Navigation::from_code(4), None);
}

//! Engagement: how long the page of the last pageview was visible and focused,
//! and how far down it was scrolled. Plausible's rules: a report goes out when
//! the page loses attention (hidden or blurred) and before the next SPA
//! pageview, but only if the visitor scrolled deeper than last reported or was
//! engaged for at least 3 s since the last report.
//!
//! Times are `Date.now()` milliseconds and lengths CSS pixels, given by the caller.

use crate::text::Text;

/// The longest page URL and pageview props kept for engagement reports; a
/// page with longer ones is not reported on.
pub const MAX_URL: usize = 4096;
pub const MAX_PROPS: usize = 8192;

/// Engagement shorter than this, without deeper scrolling, is not reported.
const MIN_REPORTED_MS: f64 = 3000.0;

/// What one report carries (the payload adds the page's URL and props).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// `sd`: the deepest point seen, in percent of the page height.
    pub scroll_depth: u32,
    /// `e`: milliseconds the page was visible and focused (a `u32` holds 49
    /// days; the adapter's port takes no 64-bit integers, which JS sees as
    /// `BigInt`).
    pub engaged_ms: u32,
}

#[derive(Default)]
pub struct Engagement {
    /// A pageview has been sent: attention changes now count.
    active: bool,
    /// The current page's pageview was ignored: nothing to report about it.
    ignored: bool,
    /// `u` and `p` of the current page's pageview.
    url: Text<MAX_URL>,
    props: Text<MAX_PROPS>,
    page_height: f64,
    /// The deepest visible point: scroll offset plus viewport height.
    max_depth: f64,
    /// `max_depth` at the last report; -1 before the first.
    reported_depth: f64,
    /// When the current engaged stretch began; `None` while paused.
    running_since: Option<f64>,
    /// Engagement accumulated before the current stretch.
    engaged_before: f64,
}

/// How far down the visitor can see: the whole page when it fits the viewport.
pub fn visible_depth(page_height: f64, scroll_y: f64, viewport_height: f64) -> f64 {
    if page_height <= viewport_height {
        page_height
    } else {
        scroll_y + viewport_height
    }
}

impl Engagement {
    /// The page's size when the tracker starts.
    pub fn measure(&mut self, page_height: f64, depth: f64) {
        self.page_height = page_height;
        self.max_depth = depth;
    }

    pub fn resized(&mut self, page_height: f64) {
        self.page_height = page_height;
    }

    pub fn page_height(&self) -> f64 {
        self.page_height
    }

    pub fn scrolled(&mut self, depth: f64) {
        if depth > self.max_depth {
            self.max_depth = depth;
        }
    }

    /// Before a pageview: report on the page being left, then measure the new one.
    pub fn before_pageview(&mut self, now: f64, page_height: f64, depth: f64) -> Option<Report> {
        if !self.active {
            return None;
        }
        let report = self.report(now);
        self.measure(page_height, depth);
        report
    }

    pub const fn new() -> Self {
        Engagement {
            active: false,
            ignored: false,
            url: Text::new(),
            props: Text::new(),
            page_height: 0.0,
            max_depth: 0.0,
            reported_depth: 0.0,
            running_since: None,
            engaged_before: 0.0,
        }
    }

    /// The page's URL and props, as its pageview sent them.
    pub fn page(&self) -> (&str, Option<&str>) {
        let props = self.props.as_str();
        (self.url.as_str(), (!props.is_empty()).then_some(props))
    }

    /// `props`: the pageview's props as JSON text.
    pub fn after_pageview(&mut self, url: &str, props: Option<&str>, now: f64) {
        self.active = true;
        let kept_url = self.url.set(url);
        let kept_props = self.props.set(props.unwrap_or(""));
        // a page whose URL or props do not fit is not reported on, rather than misreported
        self.ignored = !(kept_url && kept_props);
        self.reported_depth = -1.0;
        self.running_since = Some(now);
        self.engaged_before = 0.0;
    }

    pub fn pageview_ignored(&mut self) {
        self.ignored = true;
    }

    /// The page gained (`true`: visible and focused) or lost attention.
    pub fn attention(&mut self, engaged: bool, now: f64) -> Option<Report> {
        if !self.active {
            return None;
        }
        if engaged {
            self.running_since.get_or_insert(now);
            None
        } else {
            self.engaged_before = self.engaged_ms(now);
            self.running_since = None;
            self.report(now)
        }
    }

    fn engaged_ms(&self, now: f64) -> f64 {
        match self.running_since {
            Some(start) => self.engaged_before + (now - start),
            None => self.engaged_before,
        }
    }

    fn report(&mut self, now: f64) -> Option<Report> {
        let engaged = self.engaged_ms(now);
        if self.ignored || !(self.reported_depth < self.max_depth || engaged >= MIN_REPORTED_MS) {
            return None;
        }
        self.reported_depth = self.max_depth;
        self.running_since = None;
        self.engaged_before = 0.0;
        Some(Report {
            scroll_depth: round(self.max_depth / self.page_height * 100.0),
            engaged_ms: round(engaged),
        })
    }
}

/// `Math.round` for the non-negative numbers used here; NaN and negatives
/// give 0, and beyond `u32::MAX` it saturates.
fn round(x: f64) -> u32 {
    (x + 0.5) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn started(now: f64) -> Engagement {
        let mut e = Engagement::default();
        e.measure(2000.0, 800.0);
        assert_eq!(
            e.before_pageview(now, 2000.0, 800.0),
            None,
            "nothing to report before the first pageview"
        );
        e.after_pageview("https://a.b/", None, now);
        e
    }

    #[test]
    fn first_blur_reports_depth_even_when_short() {
        let mut e = started(1000.0);
        assert_eq!(
            e.attention(false, 1500.0),
            Some(Report {
                scroll_depth: 40,
                engaged_ms: 500
            })
        );
        // nothing new: no deeper scroll, under 3 s
        assert_eq!(e.attention(true, 2000.0), None);
        assert_eq!(e.attention(false, 2500.0), None);
    }

    #[test]
    fn deeper_scroll_or_three_seconds_report_again() {
        let mut e = started(0.0);
        e.attention(false, 100.0);
        e.attention(true, 1000.0);
        e.scrolled(1000.0);
        e.scrolled(900.0);
        assert_eq!(
            e.attention(false, 1200.0),
            Some(Report {
                scroll_depth: 50,
                engaged_ms: 200
            })
        );
        e.attention(true, 2000.0);
        assert_eq!(
            e.attention(false, 5000.0),
            Some(Report {
                scroll_depth: 50,
                engaged_ms: 3000
            })
        );
    }

    #[test]
    fn time_accumulates_across_short_stretches() {
        let mut e = started(0.0);
        e.attention(false, 0.0); // first report: depth
        for i in 0..4 {
            let t = 10_000.0 * f64::from(i + 1);
            e.attention(true, t);
            let r = e.attention(false, t + 1000.0);
            assert_eq!(
                r.is_some(),
                i == 2,
                "reported once 3 s have accumulated (i={i})"
            );
        }
    }

    #[test]
    fn before_the_next_pageview_report_then_measure_the_new_page() {
        let mut e = started(0.0);
        let r = e.before_pageview(4000.0, 500.0, visible_depth(500.0, 0.0, 800.0));
        assert_eq!(
            r,
            Some(Report {
                scroll_depth: 40,
                engaged_ms: 4000
            })
        );
        e.after_pageview("https://a.b/next", None, 4000.0);
        assert_eq!(
            e.attention(false, 4100.0),
            Some(Report {
                scroll_depth: 100,
                engaged_ms: 100
            })
        );
    }

    #[test]
    fn keeps_the_pageviews_url_and_props() {
        let mut e = Engagement::new();
        e.after_pageview("https://a.b/x", Some(r#"{"a":"1"}"#), 0.0);
        assert_eq!(e.page(), ("https://a.b/x", Some(r#"{"a":"1"}"#)));
        e.after_pageview("https://a.b/y", None, 0.0);
        assert_eq!(e.page(), ("https://a.b/y", None));
        let huge = "x".repeat(MAX_PROPS + 1);
        e.after_pageview("https://a.b/z", Some(&huge), 0.0);
        assert_eq!(
            e.attention(false, 10_000.0),
            None,
            "props too long to repeat: no report"
        );
    }

    #[test]
    fn an_ignored_pageview_reports_nothing() {
        let mut e = started(0.0);
        e.pageview_ignored();
        assert_eq!(e.attention(false, 10_000.0), None);
    }

    #[test]
    fn visible_depth_is_the_page_when_it_fits() {
        assert_eq!(visible_depth(500.0, 0.0, 800.0), 500.0);
        assert_eq!(visible_depth(3000.0, 1200.0, 800.0), 2000.0);
        assert_eq!(round(f64::NAN), 0);
    }
}

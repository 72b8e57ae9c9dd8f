//! The wire format: Plausible's event payload, `POST /api/event` as
//! `text/plain` JSON with one-letter keys (see ANCHORS.md for the protocol).
//!
//! Rust decides what a payload holds; the adapter (`send` in js/adapter.js)
//! writes it as JSON with the browser's `JSON.stringify`, and adds the two
//! facts of the page it already has: `d`, the configured domain(s), and `r`,
//! `document.referrer` (events only). A JSON writer in Wasm (string escaping,
//! keys, numbers) cost about a kilobyte of the default script tag's budget.

use crate::engagement::Report;

/// What one payload holds; the field comments name its JSON keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload<'a> {
    /// `n`: `pageview`, `engagement` or the custom event's name.
    pub name: &'a str,
    /// `u`: the page URL.
    pub url: &'a str,
    /// `p`: props, as JSON text (the page's `JSON.stringify` output, or an
    /// object this crate wrote).
    pub props: Option<&'a str>,
    /// `$`: revenue `{amount, currency}`, as JSON text.
    pub revenue: Option<&'a str>,
    /// `i: false` marks an event that does not count against bounce.
    pub interactive: bool,
    /// `h: 1`: hash-based routing.
    pub hash: bool,
    /// `sd` and `e` of an engagement report; `None` for events, which carry
    /// `r` instead.
    pub engagement: Option<Report>,
}

impl Payload<'_> {
    /// The flags the adapter's `send` port reads: 1 not interactive, 2 hash
    /// routing, 4 an engagement report.
    pub fn flags(&self) -> u32 {
        u32::from(!self.interactive)
            | u32::from(self.hash) << 1
            | u32::from(self.engagement.is_some()) << 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn flags_are_the_adapters_bits() {
        let event = Payload {
            name: "pageview",
            url: "https://p.example/",
            props: None,
            revenue: None,
            interactive: true,
            hash: false,
            engagement: None,
        };
        assert_eq!(event.flags(), 0);
        let report = Payload {
            interactive: false,
            hash: true,
            engagement: Some(Report {
                scroll_depth: 1,
                engaged_ms: 2,
            }),
            ..event
        };
        assert_eq!(report.flags(), 7);
    }
}

//! The wire format: Plausible's event payload, `POST /api/event` as
//! `text/plain` JSON with one-letter keys (see ANCHORS.md for the protocol).

use crate::json::{push_key, push_str, push_u64};
use alloc::string::String;

/// `v`: this tracker's protocol version, so the server can tell our script from
/// Plausible's (which sends its own numbers).
pub const TRACKER_VERSION: u64 = 1;

/// A pageview or custom event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// `n`: `pageview` or the custom event's name.
    pub name: &'a str,
    /// `u`: the page URL.
    pub url: &'a str,
    /// `d`: the site domain(s).
    pub domain: &'a str,
    /// `r`: `document.referrer`, `null` when empty.
    pub referrer: &'a str,
    /// `p`: props, JSON that `JSON.stringify` (or [`crate::json`]) produced.
    pub props: Option<&'a str>,
    /// `$`: revenue `{amount, currency}`, JSON as for props.
    pub revenue: Option<&'a str>,
    /// `i: false` marks an event that does not count against bounce.
    pub interactive: bool,
    /// `h: 1`: hash-based routing.
    pub hash: bool,
}

impl Event<'_> {
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        push_key(&mut out, "n");
        push_str(&mut out, self.name);
        push_key(&mut out, "v");
        push_u64(&mut out, TRACKER_VERSION);
        push_key(&mut out, "u");
        push_str(&mut out, self.url);
        push_key(&mut out, "d");
        push_str(&mut out, self.domain);
        push_key(&mut out, "r");
        if self.referrer.is_empty() {
            out.push_str("null");
        } else {
            push_str(&mut out, self.referrer);
        }
        push_raw(&mut out, "p", self.props);
        if !self.interactive {
            push_key(&mut out, "i");
            out.push_str("false");
        }
        push_raw(&mut out, "$", self.revenue);
        push_hash(&mut out, self.hash);
        out.push('}');
        out
    }
}

/// How long and how far the visitor engaged with the page of the last pageview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Engagement<'a> {
    /// `u` and `p` repeat the pageview's, so the server can join them.
    pub url: &'a str,
    pub props: Option<&'a str>,
    pub domain: &'a str,
    /// `sd`: the deepest point seen, in percent of the page height.
    pub scroll_depth: u64,
    /// `e`: milliseconds the page was visible and focused.
    pub engaged_ms: u64,
    pub hash: bool,
}

impl Engagement<'_> {
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"n\":\"engagement\"");
        push_key(&mut out, "sd");
        push_u64(&mut out, self.scroll_depth);
        push_key(&mut out, "d");
        push_str(&mut out, self.domain);
        push_key(&mut out, "u");
        push_str(&mut out, self.url);
        push_raw(&mut out, "p", self.props);
        push_key(&mut out, "e");
        push_u64(&mut out, self.engaged_ms);
        push_key(&mut out, "v");
        push_u64(&mut out, TRACKER_VERSION);
        push_hash(&mut out, self.hash);
        out.push('}');
        out
    }
}

fn push_raw(out: &mut String, key: &str, json: Option<&str>) {
    if let Some(json) = json {
        push_key(out, key);
        out.push_str(json);
    }
}

fn push_hash(out: &mut String, hash: bool) {
    if hash {
        push_key(out, "h");
        out.push('1');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_plain_pageview() {
        let e = Event {
            name: "pageview",
            url: "https://portal.example/catalog?x=\"1\"",
            domain: "portal.example",
            referrer: "",
            props: None,
            revenue: None,
            interactive: true,
            hash: false,
        };
        assert_eq!(
            e.to_json(),
            r#"{"n":"pageview","v":1,"u":"https://portal.example/catalog?x=\"1\"","d":"portal.example","r":null}"#
        );
    }

    #[test]
    fn a_custom_event_with_everything() {
        let e = Event {
            name: "Deploy Application",
            url: "https://p.example/#/deploy",
            domain: "p.example,rollup.example",
            referrer: "https://search.example/",
            props: Some(r#"{"language":"nodejs","template":"express"}"#),
            revenue: Some(r#"{"amount":10,"currency":"EUR"}"#),
            interactive: false,
            hash: true,
        };
        assert_eq!(
            e.to_json(),
            concat!(
                r#"{"n":"Deploy Application","v":1,"u":"https://p.example/#/deploy","d":"p.example,rollup.example","#,
                r#""r":"https://search.example/","p":{"language":"nodejs","template":"express"},"i":false,"#,
                r#""$":{"amount":10,"currency":"EUR"},"h":1}"#
            )
        );
    }

    #[test]
    fn an_engagement() {
        let e = Engagement {
            url: "https://p.example/a",
            props: Some(r#"{"k":"v"}"#),
            domain: "p.example",
            scroll_depth: 42,
            engaged_ms: 3100,
            hash: false,
        };
        assert_eq!(
            e.to_json(),
            r#"{"n":"engagement","sd":42,"d":"p.example","u":"https://p.example/a","p":{"k":"v"},"e":3100,"v":1}"#
        );
    }
}

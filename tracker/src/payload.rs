//! The wire format: Plausible's event payload, `POST /api/event` as
//! `text/plain` JSON with one-letter keys (see ANCHORS.md for the protocol).

use crate::json::Writer;

/// `v`: this tracker's protocol version, so the server can tell our script from
/// Plausible's (which sends its own numbers).
pub const TRACKER_VERSION: u64 = 1;

/// Writes a JSON value (props or revenue) into the payload: the page's own
/// `JSON.stringify` output, or an object this crate builds.
pub type Json<'a> = &'a dyn Fn(&mut Writer);

/// A pageview or custom event.
pub struct Event<'a> {
    /// `n`: `pageview` or the custom event's name.
    pub name: &'a str,
    /// The name comes from a CSS class, where `+` stands for a space.
    pub name_from_class: bool,
    /// `u`: the page URL.
    pub url: &'a str,
    /// `d`: the site domain(s).
    pub domain: &'a str,
    /// `r`: `document.referrer`, `null` when empty.
    pub referrer: &'a str,
    /// `p`: props.
    pub props: Option<Json<'a>>,
    /// `$`: revenue `{amount, currency}`.
    pub revenue: Option<Json<'a>>,
    /// `i: false` marks an event that does not count against bounce.
    pub interactive: bool,
    /// `h: 1`: hash-based routing.
    pub hash: bool,
}

impl Event<'_> {
    pub fn write(&self, w: &mut Writer) {
        w.raw("{");
        w.key("n");
        w.string(self.name, self.name_from_class);
        version(w);
        w.key("u");
        w.string(self.url, false);
        w.key("d");
        w.string(self.domain, false);
        w.key("r");
        if self.referrer.is_empty() {
            w.raw("null");
        } else {
            w.string(self.referrer, false);
        }
        json(w, "p", self.props);
        if !self.interactive {
            w.key("i");
            w.raw("false");
        }
        json(w, "$", self.revenue);
        end(w, self.hash);
    }
}

/// How long and how far the visitor engaged with the page of the last pageview.
pub struct Engagement<'a> {
    /// `u` and `p` repeat the pageview's, so the server can join them.
    pub url: &'a str,
    /// The pageview's props, as written into its payload.
    pub props: Option<&'a str>,
    pub domain: &'a str,
    /// `sd`: the deepest point seen, in percent of the page height.
    pub scroll_depth: u64,
    /// `e`: milliseconds the page was visible and focused.
    pub engaged_ms: u64,
    pub hash: bool,
}

impl Engagement<'_> {
    pub fn write(&self, w: &mut Writer) {
        w.raw("{\"n\":\"engagement\"");
        w.key("sd");
        w.number(self.scroll_depth);
        w.key("d");
        w.string(self.domain, false);
        w.key("u");
        w.string(self.url, false);
        if let Some(props) = self.props {
            w.key("p");
            w.raw(props);
        }
        w.key("e");
        w.number(self.engaged_ms);
        version(w);
        end(w, self.hash);
    }
}

fn version(w: &mut Writer) {
    w.key("v");
    w.number(TRACKER_VERSION);
}

fn json(w: &mut Writer, key: &str, value: Option<Json>) {
    if let Some(write) = value {
        w.key(key);
        write(w);
    }
}

fn end(w: &mut Writer, hash: bool) {
    if hash {
        w.raw(",\"h\":1");
    }
    w.raw("}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn json(f: impl FnOnce(&mut Writer)) -> String {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        f(&mut w);
        w.finish().unwrap().into()
    }

    fn pageview<'a>() -> Event<'a> {
        Event {
            name: "pageview",
            name_from_class: false,
            url: "https://portal.example/catalog?x=\"1\"",
            domain: "portal.example",
            referrer: "",
            props: None,
            revenue: None,
            interactive: true,
            hash: false,
        }
    }

    #[test]
    fn a_plain_pageview() {
        assert_eq!(
            json(|w| pageview().write(w)),
            r#"{"n":"pageview","v":1,"u":"https://portal.example/catalog?x=\"1\"","d":"portal.example","r":null}"#
        );
    }

    #[test]
    fn a_custom_event_with_everything() {
        let props = |w: &mut Writer| w.raw(r#"{"language":"nodejs","template":"express"}"#);
        let revenue = |w: &mut Writer| w.raw(r#"{"amount":10,"currency":"EUR"}"#);
        let e = Event {
            name: "Deploy+Application",
            name_from_class: true,
            url: "https://p.example/#/deploy",
            domain: "p.example,rollup.example",
            referrer: "https://search.example/",
            props: Some(&props),
            revenue: Some(&revenue),
            interactive: false,
            hash: true,
        };
        assert_eq!(
            json(|w| e.write(w)),
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
            json(|w| e.write(w)),
            r#"{"n":"engagement","sd":42,"d":"p.example","u":"https://p.example/a","p":{"k":"v"},"e":3100,"v":1}"#
        );
    }
}

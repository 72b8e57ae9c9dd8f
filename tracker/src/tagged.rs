//! Tagged events: CSS classes such as `plausible-event-name=Deploy+Application`
//! and `plausible-event-language=nodejs` turn a click or a form submit into a
//! custom event with props (and `plausible-revenue-amount=…` into revenue).
//!
//! The grammar is Plausible's regular expression `plausible-event-(.+)(=|--)(.+)`,
//! applied to each class; its greedy first group means the *last* separator
//! splits key from value, which this parser reproduces. Props follow JS object
//! semantics: a key set twice keeps its first position and its last value.

use crate::json::Writer;
use crate::text::{as_str, find_bytes};

const EVENT: &[u8] = b"plausible-event-";
const REVENUE: &[u8] = b"plausible-revenue-";
/// More classes than Plausible's 30 props are ignored.
const MAX_PAIRS: usize = 32;

type Pair<'a> = (&'a [u8], &'a [u8]);

/// The `plausible-event-*` and `plausible-revenue-*` classes of an element.
pub struct Tagged<'a> {
    /// The last `plausible-event-name=…`, still with `+` for spaces.
    pub name: Option<&'a str>,
    props: [Pair<'a>; MAX_PAIRS],
    props_len: usize,
    revenue: [Pair<'a>; MAX_PAIRS],
    revenue_len: usize,
}

/// Reads a `class` attribute (names split on ASCII whitespace).
pub fn parse(classes: &str) -> Tagged<'_> {
    let mut tagged = Tagged {
        name: None,
        props: [(&[], &[]); MAX_PAIRS],
        props_len: 0,
        revenue: [(&[], &[]); MAX_PAIRS],
        revenue_len: 0,
    };
    for class in classes.as_bytes().split(u8::is_ascii_whitespace) {
        if let Some((key, value)) = key_value(class, EVENT) {
            if key.eq_ignore_ascii_case(b"name") {
                tagged.name = Some(as_str(value));
            } else {
                push(&mut tagged.props, &mut tagged.props_len, (key, value));
            }
        }
        if let Some(pair) = key_value(class, REVENUE) {
            push(&mut tagged.revenue, &mut tagged.revenue_len, pair);
        }
    }
    tagged
}

fn push<'a>(pairs: &mut [Pair<'a>; MAX_PAIRS], len: &mut usize, pair: Pair<'a>) {
    if let Some(slot) = pairs.get_mut(*len) {
        *slot = pair;
        *len += 1;
    }
}

impl Tagged<'_> {
    /// Writes the props object, `+` read as a space, with `url` set to
    /// `link_href` when the element is (in) a link.
    pub fn write_props(&self, link_href: Option<&str>, w: &mut Writer) {
        write_object(
            w,
            self.props.get(..self.props_len).unwrap_or_default(),
            true,
            link_href,
        );
    }

    /// Writes the revenue object.
    pub fn write_revenue(&self, w: &mut Writer) {
        write_object(
            w,
            self.revenue.get(..self.revenue_len).unwrap_or_default(),
            false,
            None,
        );
    }
}

/// The event name of a class, `+` read as a space, written into `buf`;
/// `None` if it does not fit.
pub fn spaced<'b>(name: &str, buf: &'b mut [u8]) -> Option<&'b str> {
    let spaced = buf.get_mut(..name.len())?;
    for (to, &from) in spaced.iter_mut().zip(name.as_bytes()) {
        *to = if from == b'+' { b' ' } else { from };
    }
    // only ASCII `+` became ASCII ` `: still the UTF-8 of `name`
    Some(as_str(spaced))
}

/// True when one class names an event (`plausible-event-name=…`): the test
/// Plausible uses to decide that an element is tagged.
pub fn names_event(classes: &str) -> bool {
    const NAME: &[u8] = b"plausible-event-name";
    classes
        .as_bytes()
        .split(u8::is_ascii_whitespace)
        .any(|class| {
            find_bytes(class, NAME)
                .and_then(|at| class.get(at + NAME.len()..))
                .is_some_and(|rest| matches!(rest, [b'=', _, ..] | [b'-', b'-', _, ..]))
        })
}

/// A JSON object with JS assignment semantics: a key set twice keeps its first
/// position and its last value; `url`, when given, is set last.
fn write_object(w: &mut Writer, pairs: &[Pair], plus_as_space: bool, url: Option<&str>) {
    w.raw("{");
    let mut url_written = false;
    for (index, &(key, _)) in pairs.iter().enumerate() {
        if pairs.iter().take(index).any(|&(earlier, _)| earlier == key) {
            continue;
        }
        w.key(as_str(key));
        match url {
            Some(url) if key == b"url" => {
                url_written = true;
                w.string(url, false)
            }
            _ => {
                let value = pairs
                    .iter()
                    .rev()
                    .find(|&&(k, _)| k == key)
                    .map_or(&[][..], |&(_, v)| v);
                w.string(as_str(value), plus_as_space)
            }
        }
    }
    if let (Some(url), false) = (url, url_written) {
        w.key("url");
        w.string(url, false);
    }
    w.raw("}");
}

/// `prefix(.+)(=|--)(.+)` in `class`, with a greedy key: the last separator
/// that leaves a non-empty key and value splits them. (Plausible's RegExp
/// would also try later occurrences of the prefix; one per class suffices.)
fn key_value<'a>(class: &'a [u8], prefix: &[u8]) -> Option<Pair<'a>> {
    let rest = class.get(find_bytes(class, prefix)? + prefix.len()..)?;
    (1..rest.len()).rev().find_map(|split| {
        let separator = match rest.get(split..)? {
            [b'=', _, ..] => 1,
            [b'-', b'-', _, ..] => 2,
            _ => return None,
        };
        Some((rest.get(..split)?, rest.get(split + separator..)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn name(classes: &str) -> Option<&str> {
        parse(classes).name
    }

    fn write_props(classes: &str, link: Option<&str>, w: &mut Writer) {
        parse(classes).write_props(link, w)
    }

    fn write_revenue(classes: &str, w: &mut Writer) {
        parse(classes).write_revenue(w)
    }

    fn json(f: impl FnOnce(&mut Writer)) -> String {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        f(&mut w);
        w.finish().unwrap().into()
    }

    #[test]
    fn reads_name_props_and_revenue() {
        let classes = "btn plausible-event-name=Deploy+Application plausible-event-language=nodejs \
             plausible-event-template--express+app plausible-revenue-amount=10.5 plausible-revenue-currency=EUR";
        assert_eq!(name(classes), Some("Deploy+Application"));
        assert_eq!(
            json(|w| write_props(classes, None, w)),
            r#"{"language":"nodejs","template":"express app"}"#
        );
        assert_eq!(
            json(|w| write_revenue(classes, w)),
            r#"{"amount":"10.5","currency":"EUR"}"#
        );
    }

    #[test]
    fn names_read_plus_as_space_and_too_long_is_none() {
        let mut buf = [0u8; 16];
        assert_eq!(spaced("Deploy+App+é", &mut buf), Some("Deploy App é"));
        assert_eq!(spaced("x".repeat(17).as_str(), &mut buf), None);
    }

    #[test]
    fn a_link_adds_its_url_unchanged() {
        let classes = "plausible-event-name=Open plausible-event-url=mine plausible-event-a=1";
        assert_eq!(
            json(|w| write_props(classes, Some("https://a.b/x+y"), w)),
            r#"{"url":"https://a.b/x+y","a":"1"}"#,
            "url keeps its place, takes the link's value"
        );
        assert_eq!(
            json(|w| write_props("plausible-event-name=Open", Some("https://a.b/"), w)),
            r#"{"url":"https://a.b/"}"#
        );
    }

    #[test]
    fn the_last_separator_splits_like_plausibles_greedy_regex() {
        let classes = "plausible-event-a=b=c plausible-event-x--y--z";
        assert_eq!(
            json(|w| write_props(classes, None, w)),
            r#"{"a=b":"c","x--y":"z"}"#
        );
        assert_eq!(name(classes), None);
    }

    #[test]
    fn name_is_case_insensitive_and_later_classes_win() {
        let classes = "plausible-event-NAME=First plausible-event-k=1 plausible-event-name=Second plausible-event-j=0 plausible-event-k=2";
        assert_eq!(name(classes), Some("Second"));
        assert_eq!(
            json(|w| write_props(classes, None, w)),
            r#"{"k":"2","j":"0"}"#
        );
    }

    #[test]
    fn incomplete_classes_are_ignored() {
        let classes =
            "plausible-event-name= plausible-event-=x plausible-event-k plausible-event- other";
        assert_eq!(name(classes), None);
        assert_eq!(json(|w| write_props(classes, None, w)), "{}");
        assert_eq!(json(|w| write_revenue(classes, w)), "{}");
    }

    #[test]
    fn names_event_matches_plausibles_is_tagged() {
        assert!(names_event("a plausible-event-name=Signup b"));
        assert!(names_event("plausible-event-name--Signup"));
        assert!(!names_event("plausible-event-plan=pro"));
        assert!(!names_event("plausible-event-name"));
        assert!(!names_event("plausible-event-name="));
        assert!(!names_event(""));
    }

    #[test]
    fn the_prefix_may_appear_inside_a_class() {
        assert_eq!(name("xplausible-event-name=Odd"), Some("Odd"));
    }
}

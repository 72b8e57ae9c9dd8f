//! Tagged events: CSS classes such as `plausible-event-name=Deploy+Application`
//! and `plausible-event-language=nodejs` turn a click or a form submit into a
//! custom event with props (and `plausible-revenue-amount=…` into revenue).
//!
//! The grammar is Plausible's regular expression `plausible-event-(.+)(=|--)(.+)`,
//! applied to each class; its greedy first group means the *last* separator
//! splits key from value, which this parser reproduces. Props follow JS object
//! semantics: a key set twice keeps its first position and its last value.

use crate::json::Writer;

const EVENT: &str = "plausible-event-";
const REVENUE: &str = "plausible-revenue-";

/// The event name the classes give (the last `plausible-event-name=…`), still
/// with `+` for spaces.
pub fn name(classes: &str) -> Option<&str> {
    pairs(classes, EVENT)
        .filter(|(key, _)| key.eq_ignore_ascii_case("name"))
        .last()
        .map(|(_, value)| value)
}

/// Writes the props object: every `plausible-event-<key>=<value>` but the
/// name, `+` read as a space, and `url` set to `link_href` for a link.
pub fn write_props(classes: &str, link_href: Option<&str>, w: &mut Writer) {
    let props = pairs(classes, EVENT).filter(|(key, _)| !key.eq_ignore_ascii_case("name"));
    write_object(w, props, true, link_href.map(|href| ("url", href)));
}

/// Writes the revenue object: every `plausible-revenue-<key>=<value>`.
pub fn write_revenue(classes: &str, w: &mut Writer) {
    write_object(w, pairs(classes, REVENUE), false, None);
}

/// True when one class names an event (`plausible-event-name=…`): the test
/// Plausible uses to decide that an element is tagged.
pub fn names_event(classes: &str) -> bool {
    const NAME: &str = "plausible-event-name";
    classes_of(classes).any(|class| {
        (0..class.len()).any(|at| match class.as_bytes().get(at..) {
            Some(tail) if tail.starts_with(NAME.as_bytes()) => matches!(
                tail.get(NAME.len()..),
                Some([b'=', _, ..] | [b'-', b'-', _, ..])
            ),
            _ => false,
        })
    })
}

fn pairs<'a>(
    classes: &'a str,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> + Clone {
    classes_of(classes).filter_map(move |class| key_value(class, prefix))
}

/// The class names of a `class` attribute (split on spaces, tabs and newlines).
fn classes_of(classes: &str) -> impl Iterator<Item = &str> + Clone {
    crate::text::split_by(classes, |b| b.is_ascii_whitespace()).filter(|class| !class.is_empty())
}

/// A JSON object with JS assignment semantics over `pairs`, then `last` set.
fn write_object<'a>(
    w: &mut Writer,
    pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    plus_as_space: bool,
    last: Option<(&str, &str)>,
) {
    w.raw("{");
    for (index, (key, _)) in pairs.clone().enumerate() {
        if pairs.clone().take(index).any(|(earlier, _)| earlier == key) {
            continue; // already written at its first position
        }
        w.key(key);
        match last {
            Some((last_key, value)) if last_key == key => w.string(value, false),
            _ => {
                let value = pairs
                    .clone()
                    .filter(|(k, _)| *k == key)
                    .last()
                    .map_or("", |(_, v)| v);
                w.string(value, plus_as_space)
            }
        }
    }
    if let Some((key, value)) = last {
        if !pairs.clone().any(|(k, _)| k == key) {
            w.key(key);
            w.string(value, false);
        }
    }
    w.raw("}");
}

/// `prefix(.+)(=|--)(.+)`, anywhere in `class`, with a greedy key.
fn key_value<'a>(class: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let mut search_from = 0;
    while let Some(found) = crate::text::find_str(class.get(search_from..)?, prefix) {
        let start = search_from + found + prefix.len();
        let rest = class.get(start..)?;
        let bytes = rest.as_bytes();
        // the longest key that leaves a separator and a non-empty value
        for split in (1..bytes.len()).rev() {
            let separator = match bytes.get(split..) {
                Some([b'=', _, ..]) => 1,
                Some([b'-', b'-', _, ..]) => 2,
                _ => continue,
            };
            return Some((rest.get(..split)?, rest.get(split + separator..)?));
        }
        search_from = start;
    }
    None
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

//! Tagged events: CSS classes such as `plausible-event-name=Deploy+Application`
//! and `plausible-event-language=nodejs` turn a click or a form submit into a
//! custom event with props (and `plausible-revenue-amount=…` into revenue).
//!
//! The grammar is Plausible's regular expression `plausible-event-(.+)(=|--)(.+)`,
//! applied to each class; its greedy first group means the *last* separator
//! splits key from value, which this parser reproduces.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

const EVENT: &str = "plausible-event-";
const REVENUE: &str = "plausible-revenue-";

/// Ordered string pairs with JS object semantics: setting a key again replaces
/// its value in place.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    pub fn set(&mut self, key: &str, value: String) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    pub fn to_json(&self) -> String {
        crate::json::object(self.0.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

/// The event an element's classes describe.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub name: Option<String>,
    pub props: Pairs,
    pub revenue: Pairs,
}

/// Reads every `plausible-event-*` and `plausible-revenue-*` class of `classes`
/// (the `class` attribute: whitespace-separated).
pub fn parse(classes: &str) -> Tagged {
    let mut tagged = Tagged::default();
    for class in classes.split_ascii_whitespace() {
        if let Some((key, value)) = key_value(class, EVENT) {
            let value: String = value.chars().map(|c| if c == '+' { ' ' } else { c }).collect();
            if key.eq_ignore_ascii_case("name") {
                tagged.name = Some(value);
            } else {
                tagged.props.set(key, value);
            }
        }
        if let Some((key, value)) = key_value(class, REVENUE) {
            tagged.revenue.set(key, value.to_string());
        }
    }
    tagged
}

/// True when one class names an event (`plausible-event-name=…`): the test
/// Plausible uses to decide that an element is tagged.
pub fn names_event(classes: &str) -> bool {
    const NAME: &str = "plausible-event-name";
    classes.split_ascii_whitespace().any(|class| {
        (0..class.len()).any(|at| match class.as_bytes().get(at..) {
            Some(tail) if tail.starts_with(NAME.as_bytes()) => matches!(
                tail.get(NAME.len()..),
                Some([b'=', _, ..] | [b'-', b'-', _, ..])
            ),
            _ => false,
        })
    })
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
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pairs(p: &Pairs) -> Vec<(&str, &str)> {
        p.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn reads_name_props_and_revenue() {
        let t = parse(
            "btn plausible-event-name=Deploy+Application plausible-event-language=nodejs \
             plausible-event-template--express plausible-revenue-amount=10.5 plausible-revenue-currency=EUR",
        );
        assert_eq!(t.name.as_deref(), Some("Deploy Application"));
        assert_eq!(pairs(&t.props), [("language", "nodejs"), ("template", "express")]);
        assert_eq!(pairs(&t.revenue), [("amount", "10.5"), ("currency", "EUR")]);
        assert_eq!(t.props.to_json(), r#"{"language":"nodejs","template":"express"}"#);
    }

    #[test]
    fn the_last_separator_splits_like_plausibles_greedy_regex() {
        let t = parse("plausible-event-a=b=c plausible-event-x--y--z");
        assert_eq!(pairs(&t.props), [("a=b", "c"), ("x--y", "z")]);
        assert_eq!(t.name, None);
    }

    #[test]
    fn name_is_case_insensitive_and_later_classes_win() {
        let t = parse("plausible-event-NAME=First plausible-event-k=1 plausible-event-name=Second plausible-event-k=2");
        assert_eq!(t.name.as_deref(), Some("Second"));
        assert_eq!(pairs(&t.props), [("k", "2")]);
    }

    #[test]
    fn incomplete_classes_are_ignored() {
        let t = parse("plausible-event-name= plausible-event-=x plausible-event-k plausible-event- other");
        assert_eq!(t, Tagged::default());
        assert!(!names_event("plausible-event-name="));
        assert!(!names_event(""));
    }

    #[test]
    fn names_event_matches_plausibles_is_tagged() {
        assert!(names_event("a plausible-event-name=Signup b"));
        assert!(names_event("plausible-event-name--Signup"));
        assert!(!names_event("plausible-event-plan=pro"));
        assert!(!names_event("plausible-event-name"));
    }

    #[test]
    fn the_prefix_may_appear_inside_a_class() {
        let t = parse("xplausible-event-name=Odd");
        assert_eq!(t.name.as_deref(), Some("Odd"));
    }
}

//! Page exclusion globs, as Plausible's `data-exclude` / `data-include` define them:
//! `**` matches anything, `*` matches within one path segment (no `/`, no
//! whitespace), the whole path must match, and one trailing `/` is forgiven.
//!
//! Plausible turns the pattern into a RegExp without escaping, so there a `.` or
//! `?` in a pattern is a regex operator by accident; here every other character
//! is literal, which is what the documentation promises. Patterns are trimmed
//! of ASCII whitespace only (JS `trim()` also drops Unicode spaces). Hand-written because a
//! regex engine would cost more than the whole tracker.

/// True when `path` matches the trimmed `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_ascii().as_bytes();
    let path = path.as_bytes();
    match_from(pattern, path)
        || path
            .strip_suffix(b"/")
            .is_some_and(|shorter| match_from(pattern, shorter))
}

/// True when any of the comma-separated patterns matches `path`.
pub fn any_matches(patterns: &str, path: &str) -> bool {
    crate::text::split(patterns, b',').any(|p| matches(p, path))
}

fn match_from(pattern: &[u8], path: &[u8]) -> bool {
    match pattern {
        [] => path.is_empty(),
        [b'*', b'*', rest @ ..] => suffixes(path).any(|tail| match_from(rest, tail)),
        [b'*', rest @ ..] => {
            // the star eats a prefix of the current segment, shortest first
            let segment = path
                .iter()
                .position(|&c| c == b'/' || c.is_ascii_whitespace())
                .unwrap_or(path.len());
            suffixes(path)
                .take(segment + 1)
                .any(|tail| match_from(rest, tail))
        }
        [c, rest @ ..] => match path {
            [first, tail @ ..] => first == c && match_from(rest, tail),
            [] => false,
        },
    }
}

/// `path`, then `path` without its first byte, … down to the empty slice.
/// (Slicing with `get` keeps panic code, and its kilobytes, out of the build.)
fn suffixes(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    (0..=path.len()).filter_map(move |i| path.get(i..))
}

#[cfg(test)]
mod tests {
    use super::{any_matches, matches};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn literal_paths_match_whole_and_forgive_one_trailing_slash() {
        assert!(matches("/docs", "/docs"));
        assert!(matches("/docs", "/docs/"));
        assert!(!matches("/docs", "/docs/x"));
        assert!(!matches("/docs", "/doc"));
        assert!(matches(" /docs ", "/docs"));
    }

    #[test]
    fn one_star_stays_within_a_segment() {
        assert!(matches("/catalog/*", "/catalog/service-a"));
        assert!(matches("/catalog/*", "/catalog/"));
        assert!(!matches("/catalog/*", "/catalog/a/b"));
        assert!(matches("/catalog/*/docs", "/catalog/a/docs"));
        assert!(matches("/blog*", "/blog-post"));
    }

    #[test]
    fn two_stars_cross_segments() {
        assert!(matches("/admin/**", "/admin/users/1/edit"));
        assert!(matches("/**/settings", "/a/b/settings"));
        assert!(matches("**", "/anything"));
        assert!(!matches("/admin/**", "/public/admin/x"));
    }

    #[test]
    fn comma_separated_lists() {
        assert!(any_matches("/a, /b/*", "/b/c"));
        assert!(!any_matches("/a,/b/*", "/c"));
        assert!(!any_matches("", "/x"));
    }

    #[test]
    fn hash_routes_are_plain_characters() {
        assert!(matches("/#/admin*", "/#/admin-panel"));
        assert!(!matches("/#/admin", "/#/other"));
    }
}

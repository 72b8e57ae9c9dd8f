//! Byte-level `str` helpers that cannot panic. core's `str` searchers
//! (`find`, `split`, `rsplit`, `match_indices`) carry panic paths whose messages
//! pull `core::fmt` — about 5 KB — into the browser build, whose whole budget
//! is 4 KB gzip. Separators here are ASCII, so every split point is a char
//! boundary and `get` never returns `None` in practice.

/// Position of the first `byte`.
pub fn find(s: &str, byte: u8) -> Option<usize> {
    s.bytes().position(|b| b == byte)
}

/// Position of the last `byte`.
pub fn rfind(s: &str, byte: u8) -> Option<usize> {
    s.bytes().rposition(|b| b == byte)
}

/// Position of the first occurrence of `needle`.
pub fn find_str(s: &str, needle: &str) -> Option<usize> {
    (0..s.len()).find(|&i| s.as_bytes().get(i..).is_some_and(|tail| tail.starts_with(needle.as_bytes())))
}

/// `s` before and after position `at`; `(s, "")` if `at` is out of range.
pub fn split_at(s: &str, at: usize) -> (&str, &str) {
    match (s.get(..at), s.get(at..)) {
        (Some(head), Some(tail)) => (head, tail),
        _ => (s, ""),
    }
}

/// `s` up to the first `byte`, or all of `s`.
pub fn before(s: &str, byte: u8) -> &str {
    find(s, byte).map_or(s, |i| split_at(s, i).0)
}

/// `s` after the last `byte`, or all of `s`.
pub fn after_last(s: &str, byte: u8) -> &str {
    rfind(s, byte).and_then(|i| s.get(i + 1..)).unwrap_or(s)
}

/// `str::split` by one ASCII byte.
pub fn split(s: &str, separator: u8) -> impl Iterator<Item = &str> + Clone {
    let mut rest = Some(s);
    core::iter::from_fn(move || {
        let current = rest?;
        match find(current, separator) {
            Some(i) => {
                rest = current.get(i + 1..);
                current.get(..i)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn splits_like_str_split() {
        for (s, sep) in [("a,b,,c", b','), ("", b','), (",", b','), ("abc", b'x'), ("é,漢", b',')] {
            let ours: Vec<_> = split(s, sep).collect();
            let std: Vec<_> = s.split(sep as char).collect();
            assert_eq!(ours, std, "{s:?}");
        }
    }

    #[test]
    fn finds_like_str_find() {
        assert_eq!(find_str("xplausible-event-y", "plausible-event-"), Some(1));
        assert_eq!(find_str("abc", "abcd"), None);
        assert_eq!(before("https://a.b/x?q", b'?'), "https://a.b/x");
        assert_eq!(after_last("a.tar.gz", b'.'), "gz");
        assert_eq!(after_last("noext", b'.'), "noext");
        assert_eq!(split_at("abc", 9), ("abc", ""));
        assert_eq!(rfind("a:b:c", b':'), Some(3));
    }
}

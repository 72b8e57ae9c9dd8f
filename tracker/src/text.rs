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

/// Position of the first occurrence of `needle` (non-empty) in `haystack`.
pub fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len().max(1))
        .position(|window| window == needle)
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

/// The bytes as text.
#[inline(never)]
pub fn as_str(bytes: &[u8]) -> &str {
    // SAFETY: every byte stored or read here was copied from a `&str` or
    // written by the browser's `TextEncoder`, and every cut is at an ASCII
    // byte, so the bytes are always UTF-8. (`from_utf8` would check that for
    // ~700 bytes of the tracker's budget.)
    unsafe { core::str::from_utf8_unchecked(bytes) }
}

/// Copies `from` to the start of `to`; false if it does not fit. (A zip, not
/// `copy_from_slice`, whose length-mismatch panic formats its message.)
pub fn copy(to: &mut [u8], from: &[u8]) -> bool {
    match to.get_mut(..from.len()) {
        Some(to) => {
            to.iter_mut().zip(from).for_each(|(t, f)| *t = *f);
            true
        }
        None => false,
    }
}

/// A string in a fixed buffer: the browser build has no allocator.
pub struct Text<const N: usize> {
    len: usize,
    bytes: [u8; N],
}

impl<const N: usize> Text<N> {
    pub const fn new() -> Self {
        Text {
            len: 0,
            bytes: [0; N],
        }
    }

    /// Replaces the content with `s`; false, leaving it empty, if `s` is too long.
    pub fn set(&mut self, s: &str) -> bool {
        let fits = copy(&mut self.bytes, s.as_bytes());
        self.len = if fits { s.len() } else { 0 };
        fits
    }

    /// Replaces the content with what `fill` writes into the buffer (it
    /// returns the length, or `None` when it could not write); false, leaving
    /// it empty, on `None`.
    pub fn fill(&mut self, fill: impl FnOnce(&mut [u8]) -> Option<usize>) -> bool {
        self.len = fill(&mut self.bytes).filter(|&len| len <= N).unwrap_or(0);
        self.len > 0
    }

    pub fn as_str(&self) -> &str {
        as_str(self.bytes.get(..self.len).unwrap_or_default())
    }
}

impl<const N: usize> Default for Text<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn splits_like_str_split() {
        for (s, sep) in [
            ("a,b,,c", b','),
            ("", b','),
            (",", b','),
            ("abc", b'x'),
            ("é,漢", b','),
        ] {
            let ours: Vec<_> = split(s, sep).collect();
            let std: Vec<_> = s.split(sep as char).collect();
            assert_eq!(ours, std, "{s:?}");
        }
    }

    #[test]
    fn finds_like_str_find() {
        assert_eq!(
            find_bytes(b"xplausible-event-y", b"plausible-event-"),
            Some(1)
        );
        assert_eq!(find_bytes(b"abc", b"abcd"), None);
        assert_eq!(before("https://a.b/x?q", b'?'), "https://a.b/x");
        assert_eq!(after_last("a.tar.gz", b'.'), "gz");
        assert_eq!(after_last("noext", b'.'), "noext");
        assert_eq!(split_at("abc", 9), ("abc", ""));
        assert_eq!(rfind("a:b:c", b':'), Some(3));
    }

    #[test]
    fn text_holds_what_fits() {
        let mut t = Text::<4>::new();
        assert!(t.set("abcd"));
        assert_eq!(t.as_str(), "abcd");
        assert!(!t.set("abcde"));
        assert_eq!(t.as_str(), "");
        assert!(t.fill(|buf| copy(buf, b"xy").then_some(2)));
        assert_eq!(t.as_str(), "xy");
        assert!(!t.fill(|_| None));
        assert_eq!(t.as_str(), "");
    }
}

//! A writer into a fixed buffer, for the JSON objects this crate builds (the
//! props of link clicks and tagged events; the adapter writes the payloads
//! themselves) and the path that exclusions match: strings escaped as
//! `JSON.stringify` does, and raw text. Hand-written: serde costs ~28 KB gzip
//! in the browser build, and there is no allocator to write a `String` with.
//! The default build (no optional feature) leaves it out.

/// Writes into `buf`; once something does not fit, the writer is `full` and
/// [`Writer::finish`] gives `None`: a text is written whole or not at all.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
    full: bool,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer {
            buf,
            len: 0,
            full: false,
        }
    }

    /// Appends JSON text as it is.
    pub fn raw(&mut self, json: &str) {
        self.splice(|free| crate::text::copy(free, json.as_bytes()).then_some(json.len()))
    }

    /// Lets `fill` write raw JSON into the free space; it returns how many
    /// bytes it wrote, or `None` when they did not fit.
    pub fn splice(&mut self, fill: impl FnOnce(&mut [u8]) -> Option<usize>) {
        let written = self.buf.get_mut(self.len..).and_then(fill);
        match written {
            Some(n) if !self.full => self.len += n,
            _ => self.full = true,
        }
    }

    /// Appends `value` as a JSON string; `plus_as_space` turns `+` into ` `
    /// (the tagged-event class syntax).
    pub fn string(&mut self, value: &str, plus_as_space: bool) {
        self.byte(b'"');
        for &b in value.as_bytes() {
            match b {
                b'"' | b'\\' => {
                    self.byte(b'\\');
                    self.byte(b);
                }
                b'\n' => self.raw("\\n"),
                b'\r' => self.raw("\\r"),
                b'\t' => self.raw("\\t"),
                8 => self.raw("\\b"),
                12 => self.raw("\\f"),
                0..=31 => {
                    self.raw("\\u00");
                    self.byte(HEX[usize::from(b >> 4)]);
                    self.byte(HEX[usize::from(b & 15)]);
                }
                b'+' if plus_as_space => self.byte(b' '),
                // other ASCII and every byte of multi-byte UTF-8 pass through
                _ => self.byte(b),
            }
        }
        self.byte(b'"');
    }

    /// Appends `"key":`, after a comma unless the object just opened.
    pub fn key(&mut self, key: &str) {
        if self.last() != Some(b'{') {
            self.byte(b',');
        }
        self.string(key, false);
        self.byte(b':');
    }

    /// The JSON written, or `None` if anything did not fit.
    pub fn finish(&self) -> Option<&str> {
        if self.full {
            return None;
        }
        Some(crate::text::as_str(self.buf.get(..self.len)?))
    }

    /// How many bytes were written (for a caller that stores them).
    pub fn len(&self) -> Option<usize> {
        self.finish().map(str::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn byte(&mut self, b: u8) {
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
            }
            None => self.full = true,
        }
    }

    fn last(&self) -> Option<u8> {
        self.len
            .checked_sub(1)
            .and_then(|i| self.buf.get(i))
            .copied()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn written(f: impl FnOnce(&mut Writer)) -> Option<std::string::String> {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        f(&mut w);
        w.finish().map(Into::into)
    }

    fn s(v: &str) -> std::string::String {
        written(|w| w.string(v, false)).unwrap()
    }

    #[test]
    fn escapes_like_json_stringify() {
        assert_eq!(s("plain"), "\"plain\"");
        assert_eq!(s("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(s("\n\r\t\u{8}\u{c}"), "\"\\n\\r\\t\\b\\f\"");
        assert_eq!(s("\u{1}\u{1f}"), "\"\\u0001\\u001f\"");
        assert_eq!(s("é 漢 🚀 \u{2028}"), "\"é 漢 🚀 \u{2028}\"");
        assert_eq!(written(|w| w.string("a+b", true)).unwrap(), "\"a b\"");
    }

    #[test]
    fn keys_get_commas_after_the_first() {
        let json = written(|w| {
            w.raw("{");
            w.key("a");
            w.raw("1");
            w.key("b");
            w.raw("null}");
        });
        assert_eq!(json.unwrap(), r#"{"a":1,"b":null}"#);
    }

    #[test]
    fn what_does_not_fit_is_not_written_at_all() {
        assert_eq!(written(|w| w.raw(&"x".repeat(65))), None);
        assert_eq!(written(|w| w.string(&"x".repeat(63), false)), None);
        assert_eq!(written(|w| w.splice(|_| None)), None);
        let mut buf = [0u8; 4];
        let mut w = Writer::new(&mut buf);
        w.raw("abcd");
        assert_eq!(w.len(), Some(4));
        w.raw("e");
        assert_eq!(w.finish(), None, "stays full");
    }
}

//! A minimal JSON writer for payloads: strings escaped as `JSON.stringify` does,
//! raw splices of JSON that `JSON.stringify` already produced, and integers.
//! Hand-written: serde costs ~28 KB gzip in the browser build.

use alloc::string::String;

/// Appends `value` to `out` as a JSON string literal.
pub fn push_str(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(hex_digit(c as u32 >> 4));
                out.push(hex_digit(c as u32 & 0xf));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a non-negative integer (no `core::fmt`: it is kilobytes of code).
pub fn push_u64(out: &mut String, value: u64) {
    if value >= 10 {
        push_u64(out, value / 10);
    }
    out.push(char::from(b'0' + (value % 10) as u8));
}

/// Appends `"key":` (keys are ASCII literals chosen by this crate or the page).
pub fn push_key(out: &mut String, key: &str) {
    if !out.ends_with('{') {
        out.push(',');
    }
    push_str(out, key);
    out.push(':');
}

/// Builds a JSON object of string pairs, in order.
pub fn object<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("{");
    for (k, v) in pairs {
        push_key(&mut out, k);
        push_str(&mut out, v);
    }
    out.push('}');
    out
}

fn hex_digit(n: u32) -> char {
    char::from_digit(n, 16).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn s(v: &str) -> String {
        let mut out = String::new();
        push_str(&mut out, v);
        out
    }

    #[test]
    fn escapes_like_json_stringify() {
        assert_eq!(s("plain"), "\"plain\"");
        assert_eq!(s("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(s("\n\r\t\u{8}\u{c}"), "\"\\n\\r\\t\\b\\f\"");
        assert_eq!(s("\u{1}\u{1f}"), "\"\\u0001\\u001f\"");
        assert_eq!(s("é 漢 🚀 \u{2028}"), "\"é 漢 🚀 \u{2028}\"");
    }

    #[test]
    fn writes_integers() {
        for (n, text) in [(0, "0"), (7, "7"), (100, "100"), (u64::MAX, "18446744073709551615")] {
            let mut out = String::new();
            push_u64(&mut out, n);
            assert_eq!(out, text);
        }
    }

    #[test]
    fn builds_objects_in_order() {
        assert_eq!(object([].into_iter()), "{}");
        assert_eq!(
            object([("b", "1"), ("a", "x\"y")].into_iter()),
            "{\"b\":\"1\",\"a\":\"x\\\"y\"}"
        );
    }
}

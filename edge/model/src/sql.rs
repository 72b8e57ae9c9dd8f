//! SQL with bound parameters: the only way a value reaches ClickHouse, on the
//! write path and the read path alike. The text holds placeholders
//! (`{p0:String}`); the values travel as `param_p0=` in the URL, which
//! ClickHouse parses as data, never as SQL. One exception: a list of ids
//! (`u64`s this code formats) is written in the text ([`ids`]), because a
//! batch's ids in the URL would bound the batch by the URL's size limit.

/// SQL text and its bound parameters (name, value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sql {
    pub text: String,
    pub params: Vec<(String, String)>,
}

impl Sql {
    /// A placeholder for `value`, typed `ty`.
    pub fn bind(&mut self, ty: &str, value: &str) -> String {
        let name = format!("p{}", self.params.len());
        self.params.push((name.clone(), value.to_string()));
        format!("{{{name}:{ty}}}")
    }
}

/// `ids` as an array literal for a statement's text, e.g. `[7,9]`. Only
/// integers can reach it, so it cannot carry SQL; it is written in the text
/// (the POST body) rather than bound, because a bound value travels in the
/// URL, which servers limit (64 KiB in the local chDB server, 1 MiB in
/// ClickHouse's): 10,000 event ids are about 170 KB.
pub fn ids(ids: impl IntoIterator<Item = u64>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// A parameter's value as ClickHouse's HTTP interface reads it: in the
/// escaped (TabSeparated) form, where a backslash starts an escape. Without
/// this, `a\'b` would arrive as `a'b`.
pub fn escaped_param(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_an_array_literal() {
        assert_eq!(ids([]), "[]");
        assert_eq!(ids([7, u64::MAX]), "[7,18446744073709551615]");
    }

    #[test]
    fn parameter_values_escape_what_clickhouse_unescapes() {
        assert_eq!(escaped_param("a\\'b\tc\nd"), "a\\\\'b\\tc\\nd");
        assert_eq!(
            escaped_param("plain / 'quoted' %00"),
            "plain / 'quoted' %00"
        );
    }
}

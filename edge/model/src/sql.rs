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
    /// Each parameter's type, as bound (a value is bound once per type).
    types: Vec<String>,
}

impl Sql {
    /// A placeholder for `value`, typed `ty`. A value bound before is bound
    /// once: a statement that repeats its query (the privacy guard's
    /// complements) would otherwise send each value many times in the URL,
    /// whose size servers limit.
    pub fn bind(&mut self, ty: &str, value: &str) -> String {
        let bound = self
            .params
            .iter()
            .zip(&self.types)
            .find(|((_, v), t)| v == value && *t == ty);
        let name = match bound {
            Some(((name, _), _)) => name.clone(),
            None => {
                let name = format!("p{}", self.params.len());
                self.params.push((name.clone(), value.to_string()));
                self.types.push(ty.to_string());
                name
            }
        };
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
    fn a_value_is_bound_once_under_each_type() {
        let mut sql = Sql::default();
        let a = sql.bind("String", "Firefox");
        let b = sql.bind("String", "Safari");
        assert_eq!(sql.bind("String", "Firefox"), a);
        // the same text as another type: a parameter of its own
        assert_eq!(sql.bind("UInt64", "5"), "{p2:UInt64}");
        assert_eq!(sql.bind("String", "5"), "{p3:String}");
        assert_eq!((a.as_str(), b.as_str()), ("{p0:String}", "{p1:String}"));
        assert_eq!(sql.params.len(), 4);
    }

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

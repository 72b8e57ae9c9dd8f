//! SQL with bound parameters: the only way a value reaches ClickHouse, on the
//! write path and the read path alike. The text holds placeholders
//! (`{p0:String}`); the values travel as `param_p0=` in the URL, which
//! ClickHouse parses as data, never as SQL.

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
    fn parameter_values_escape_what_clickhouse_unescapes() {
        assert_eq!(escaped_param("a\\'b\tc\nd"), "a\\\\'b\\tc\\nd");
        assert_eq!(
            escaped_param("plain / 'quoted' %00"),
            "plain / 'quoted' %00"
        );
    }
}

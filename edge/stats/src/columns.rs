//! What every statement of a plan returns: one row per group, its
//! dimensions, then the integer [`Components`] the answer's metrics are made
//! from (ratios are divided and rounded once, in `answer`) — and how a row of
//! ClickHouse's `JSONCompact` answer is read back.

use serde_json::Value;

/// The columns after the dimensions, in order, of every statement's rows.
pub const COMPONENTS: [&str; 14] = [
    "visitors",
    "visits",
    "pageviews",
    "events",
    "bounces",
    "duration",
    "visit_pageviews",
    "scroll_sum",
    "scroll_count",
    "engaged_ms",
    "total_rows",
    "visitors_total",
    "hidden",
    "suppressed",
];

/// One group's integer components, as every statement returns them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Components {
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    pub events: u64,
    pub bounces: u64,
    pub duration: u64,
    pub visit_pageviews: u64,
    pub scroll_sum: u64,
    /// Visitors with an engagement event in the group (`scroll_depth` and
    /// `time_on_page` divide by them).
    pub scroll_count: u64,
    /// The group's engagement events' engaged time, in milliseconds.
    pub engaged_ms: u64,
    pub total_rows: u64,
    /// The sum of all groups' visitors (before pagination).
    pub visitors_total: u64,
    /// 1: this group's metrics are not to be shown (fewer visitors than the
    /// site's minimum group size; [`crate::privacy`]).
    pub hidden: u64,
    /// How many groups of the answer are hidden.
    pub suppressed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ClickHouse answered a row this code cannot read: {0}")]
pub struct RowError(pub String);

/// A count in a ClickHouse JSON answer: a number, or a string when 64-bit
/// numbers are quoted (`output_format_json_quote_64bit_integers`).
pub fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// One ClickHouse row (`JSONCompact`'s `data`): the dimensions as strings,
/// then the components (numbers, or strings when 64-bit numbers are quoted).
pub fn read_row(row: &Value, dimensions: usize) -> Result<(Vec<String>, Components), RowError> {
    let cells = row
        .as_array()
        .filter(|c| c.len() == dimensions + COMPONENTS.len())
        .ok_or_else(|| RowError(row.to_string()))?;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let number = |v: &Value| count(v).ok_or_else(|| RowError(v.to_string()));
    let dims = cells[..dimensions].iter().map(text).collect();
    let c = &cells[dimensions..];
    Ok((
        dims,
        Components {
            visitors: number(&c[0])?,
            visits: number(&c[1])?,
            pageviews: number(&c[2])?,
            events: number(&c[3])?,
            bounces: number(&c[4])?,
            duration: number(&c[5])?,
            visit_pageviews: number(&c[6])?,
            scroll_sum: number(&c[7])?,
            scroll_count: number(&c[8])?,
            engaged_ms: number(&c[9])?,
            total_rows: number(&c[10])?,
            visitors_total: number(&c[11])?,
            hidden: number(&c[12])?,
            suppressed: number(&c[13])?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_are_read_whether_64_bit_numbers_are_quoted_or_not() {
        let row = json!(["/docs", 5, "6", 7, 0, 1, 2, 3, 4, 5, 60000, 1, 9, 0, "2"]);
        let (dims, c) = read_row(&row, 1).unwrap();
        assert_eq!(dims, ["/docs"]);
        assert_eq!(
            (c.visitors, c.visits, c.engaged_ms, c.total_rows),
            (5, 6, 60000, 1)
        );
        assert!(read_row(&json!(["/docs", 5]), 1).is_err());
        assert!(read_row(
            &json!(["/docs", 5, "x", 7, 0, 1, 2, 3, 4, 5, 0, 1, 9, 0, 0]),
            1
        )
        .is_err());
        assert_eq!(read_row(&row, 1).unwrap().1.suppressed, 2);
    }
}

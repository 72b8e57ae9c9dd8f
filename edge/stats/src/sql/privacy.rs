//! The guard every statement's groups pass before their order and page: the
//! site's minimum group size applied in ClickHouse ([`crate::privacy`] has
//! the rules), so that a page, `total_rows` and the order only ever see the
//! groups that may be shown.
//!
//! ```text
//! base groups ┐
//! variant 1   ├ UNION ALL ─▶ per group: base components, visitors per day
//! …           ┘              of the base and of each variant
//!   ─▶ small: fewer than k visitors on every day, or a variant that differs
//!      by fewer than k on every day it differs            (primary)
//!   ─▶ per margin: the smallest shown group too, where one is small
//!                                                          (complementary)
//!   ─▶ hidden groups out (or kept, metrics to be null: time, top stats)
//! ```
//!
//! Every statement gains two columns after its components: `hidden` (this
//! row's metrics are not to be shown) and `suppressed` (how many groups of
//! the answer are hidden). Without a minimum group size both are 0.

use super::expression::Builder;
use crate::columns::COMPONENTS;
use crate::privacy::keeps_hidden_rows;
use crate::query::Query;

/// The components a group carries through the guard (the last two of
/// [`COMPONENTS`] are recomputed over the groups it keeps).
const CARRIED: usize = 10;

/// `base` (the groups of `query`, named `names`, with `daily` when the site
/// has a minimum group size) guarded against `variants` (the groups of each
/// [`crate::privacy::variants`] query, the same dimensions).
pub(super) fn guard(
    b: &mut Builder,
    query: &Query,
    names: &[String],
    base: String,
    variants: &[String],
) -> String {
    if !b.daily {
        return format!("SELECT *, 0 AS hidden, 0 AS suppressed FROM ({base})");
    }
    let k = b.sql.bind("UInt64", &b.site.min_group_size.to_string());
    let carried = &COMPONENTS[..CARRIED];
    // dimensions as text: a rolled base and a raw variant type them apart
    let dims: Vec<String> = names
        .iter()
        .map(|n| format!("toString({n}) AS {n}"))
        .collect();
    let union_part = |from: &str, components: &str, t: usize| {
        let mut columns = dims.clone();
        columns.push(components.to_string());
        columns.push("CAST(daily, 'Map(Date, UInt64)') AS m".into());
        columns.push(format!("{t} AS t"));
        format!("SELECT {} FROM ({from})", columns.join(", "))
    };
    let base_components: Vec<String> = carried
        .iter()
        .enumerate()
        .map(|(i, c)| format!("toUInt64({c}) AS c{i}"))
        .collect();
    let zeros: Vec<String> = (0..CARRIED)
        .map(|i| format!("toUInt64(0) AS c{i}"))
        .collect();
    let mut parts = vec![union_part(&base, &base_components.join(", "), 0)];
    for (i, variant) in variants.iter().enumerate() {
        parts.push(union_part(variant, &zeros.join(", "), i + 1));
    }

    // per group: the base's components and visitors per day, each variant's
    let mut merged: Vec<String> = names.to_vec();
    merged.extend((0..CARRIED).map(|i| format!("anyIf(c{i}, t = 0) AS x{i}")));
    merged.push("sumMapIf(m, t = 0) AS m0".into());
    merged.extend((1..=variants.len()).map(|i| format!("sumMapIf(m, t = {i}) AS m{i}")));
    let grouped = if names.is_empty() {
        String::new()
    } else {
        // a group only a variant has is not the query's
        format!(" GROUP BY {} HAVING countIf(t = 0) > 0", names.join(", "))
    };
    let level1 = format!(
        "SELECT {} FROM ({}){grouped}",
        merged.join(", "),
        parts.join(" UNION ALL ")
    );

    // primary: too few on every day, or a variant differing by too few
    let most = |values: &str| format!("arrayMax(arrayConcat([toUInt64(0)], {values}))");
    let mut small = vec![format!("{} < {k}", most("mapValues(m0)"))];
    for i in 1..=variants.len() {
        let differences = format!(
            "arrayMap(x -> toUInt64(abs(x)), mapValues(mapSubtract(CAST(m{i}, 'Map(Date, Int64)'), CAST(m0, 'Map(Date, Int64)'))))"
        );
        small.push(format!(
            "(arraySum({differences}) > 0 AND {} < {k})",
            most(&differences)
        ));
    }
    let level2 = format!(
        "SELECT *, {} AS size, {} AS small FROM ({level1})",
        most("mapValues(m0)"),
        small.join(" OR ")
    );

    // complementary, per margin: where a group is small, the smallest other too
    let mut windows: Vec<String> = Vec::new();
    let mut seconds: Vec<String> = Vec::new();
    for j in 0..names.len() {
        let others: Vec<&String> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != j)
            .map(|(_, n)| n)
            .collect();
        let partition = if others.is_empty() {
            String::new()
        } else {
            format!(
                "PARTITION BY {} ",
                others
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let tie = names
            .iter()
            .map(|n| format!("{n} ASC"))
            .collect::<Vec<_>>()
            .join(", ");
        windows.push(format!(
            "countIf(small) OVER ({partition}) AS h{j}, \
             row_number() OVER ({partition}ORDER BY small DESC, size ASC, {tie}) AS r{j}"
        ));
        seconds.push(format!("(h{j} > 0 AND r{j} = h{j} + 1)"));
    }
    let level3 = if windows.is_empty() {
        format!("SELECT *, small AS hide FROM ({level2})")
    } else {
        format!(
            "SELECT *, small OR {} AS hide FROM (SELECT *, {} FROM ({level2}))",
            seconds.join(" OR "),
            windows.join(", ")
        )
    };

    // out: the components under their names, the answer's own totals
    let mut out: Vec<String> = names.to_vec();
    out.extend(
        carried
            .iter()
            .enumerate()
            // a hidden group's are zeros, so that the order cannot rank it
            .map(|(i, c)| format!("if(hide, 0, x{i}) AS {c}")),
    );
    let level4 = format!(
        "SELECT *, sum(x0) OVER () AS all_visitors, countIf(hide) OVER () AS hidden_groups, \
         countIf(NOT hide) OVER () AS shown, row_number() OVER (ORDER BY hide ASC) AS carrier \
         FROM ({level3})"
    );
    if keeps_hidden_rows(query) {
        out.push("count() OVER () AS total_rows, all_visitors AS visitors_total".into());
        out.push("toUInt8(hide) AS hidden, hidden_groups AS suppressed".into());
        format!("SELECT {} FROM ({level4})", out.join(", "))
    } else {
        // hidden groups are left out; when none is shown, one stays (never
        // answered) to carry how many were hidden
        out.push("shown AS total_rows, all_visitors AS visitors_total".into());
        out.push("toUInt8(hide) AS hidden, hidden_groups AS suppressed".into());
        format!(
            "SELECT {} FROM ({level4}) WHERE NOT hide OR (shown = 0 AND carrier = 1)",
            out.join(", ")
        )
    }
}

//! The guard every statement's groups pass before their order and page: the
//! site's minimum group size applied in ClickHouse ([`crate::privacy`] has
//! the rules), so that a page, `total_rows` and the order only ever see the
//! groups that may be shown.
//!
//! ```text
//! base groups    ┐
//! complement 1   ├ UNION ALL ─▶ per group: the base's components, its
//! …              ┘              visitors per day, each complement's
//!   ─▶ small: fewer than k visitors on every day, or a complement with some
//!      visitors and on no day k                              (primary)
//!   ─▶ per margin: the smallest shown group too, where one is small
//!                                                          (complementary)
//!   ─▶ hidden groups out (the one row of a query without dimensions stays,
//!      its metrics to be null)
//! ```
//!
//! Every statement gains two columns after its components: `hidden` (this
//! row's metrics are not to be shown) and `suppressed` (how many groups of
//! the answer are hidden, said only when one is shown: an answer with none
//! shown looks the same whether its groups were hidden or empty). Without a
//! minimum group size both are 0.

use super::expression::Builder;
use crate::columns::COMPONENTS;
use crate::privacy::keeps_hidden_rows;
use crate::query::Query;

/// The components a group carries through the guard (the rest of
/// [`COMPONENTS`] is the answer's own, made over the groups it keeps).
const CARRIED: usize = 10;

/// The groups of a site without a minimum group size: none hidden.
pub(super) fn unguarded(base: String) -> String {
    format!("SELECT *, 0 AS hidden, 0 AS suppressed FROM ({base})")
}

/// `base` (the groups of `query`, named `names`, with `daily`) guarded
/// against `complements` (the groups of each
/// [`crate::privacy::complements`] query, the same dimensions) and
/// `checks` (conditions that hide every group: a value clause keeping a
/// group its breakdown hides).
pub(super) fn guard(
    b: &mut Builder,
    query: &Query,
    names: &[String],
    base: String,
    complements: &[String],
    checks: &[String],
) -> String {
    let k = b.sql.bind("UInt64", &b.site.min_group_size.to_string());
    let level3 = flags(b, names, base, complements, checks);
    answered(query, names, &level3, &k)
}

/// Every group of `base` with its components (`x0`…), its size and `hide`:
/// the primary, differencing and complementary rules, and `checks`.
pub(super) fn flags(
    b: &mut Builder,
    names: &[String],
    base: String,
    complements: &[String],
    checks: &[String],
) -> String {
    let k = b.sql.bind("UInt64", &b.site.min_group_size.to_string());
    let carried = &COMPONENTS[..CARRIED];
    // dimensions as text: a rolled base and a raw complement type them apart
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
    for (i, complement) in complements.iter().enumerate() {
        parts.push(union_part(complement, &zeros.join(", "), i + 1));
    }

    // per group: the base's components and visitors per day, each complement's
    let mut merged: Vec<String> = names.to_vec();
    merged.extend((0..CARRIED).map(|i| format!("anyIf(c{i}, t = 0) AS x{i}")));
    merged.push("sumMapIf(m, t = 0) AS m0".into());
    merged.extend((1..=complements.len()).map(|i| format!("sumMapIf(m, t = {i}) AS m{i}")));
    // a group only a complement has is not the query's (`own` = 0), but it
    // counts for the complementary rule: a filter that removed a whole small
    // group must not leave the total minus the shown rows to tell it
    merged.push("countIf(t = 0) > 0 AS own".into());
    let grouped = if names.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", names.join(", "))
    };
    let level1 = format!(
        "SELECT {} FROM ({}){grouped}",
        merged.join(", "),
        parts.join(" UNION ALL ")
    );

    // primary: too few on every day, or a complement of some, too few on every day
    let most = |values: &str| format!("arrayMax(arrayConcat([toUInt64(0)], {values}))");
    let differs: Vec<String> = (1..=complements.len())
        .map(|i| {
            format!(
                "(arraySum(mapValues(m{i})) > 0 AND {} < {k})",
                most(&format!("mapValues(m{i})"))
            )
        })
        .collect();
    let mut small = vec![format!("{} < {k}", most("mapValues(m0)"))];
    small.extend(differs.iter().cloned());
    small.extend(checks.iter().cloned());
    let phantom = if differs.is_empty() {
        "0".to_string()
    } else {
        differs.join(" OR ")
    };
    let level2 = format!(
        "SELECT *, {} AS size, if(own, {}, {phantom}) AS small FROM ({level1})",
        most("mapValues(m0)"),
        small.join(" OR ")
    );

    // complementary, per margin: where a group is small, the smallest other too
    let mut windows: Vec<String> = Vec::new();
    let mut seconds: Vec<String> = Vec::new();
    let tie = names
        .iter()
        .map(|n| format!("{n} ASC"))
        .collect::<Vec<_>>()
        .join(", ");
    for j in 0..names.len() {
        let others: Vec<&str> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != j)
            .map(|(_, n)| n.as_str())
            .collect();
        let partition = if others.is_empty() {
            String::new()
        } else {
            format!("PARTITION BY {} ", others.join(", "))
        };
        windows.push(format!(
            "countIf(small) OVER ({partition}) AS h{j}, \
                          row_number() OVER ({partition}ORDER BY small DESC, own DESC, size ASC, {tie}) AS r{j}"
        ));
        seconds.push(format!("(h{j} > 0 AND r{j} = h{j} + 1)"));
    }
    if windows.is_empty() {
        format!("SELECT *, small AS hide FROM ({level2})")
    } else {
        format!(
            "SELECT *, small OR {} AS hide FROM (SELECT *, {} FROM ({level2}))",
            seconds.join(" OR "),
            windows.join(", ")
        )
    }
}

/// The answer's rows from the flagged groups `level3`: the components
/// under their names, hidden groups out (but the one row of a query
/// without dimensions), the answer's own totals; `k` the bound minimum.
fn answered(query: &Query, names: &[String], level3: &str, k: &str) -> String {
    let carried = &COMPONENTS[..CARRIED];

    // out: the components under their names (a hidden group's are zeros, so
    // that the order cannot rank it; an average over engaged visitors —
    // scroll depth, time on page — is dropped below k of them), the
    // answer's own totals
    let mut out: Vec<String> = names.to_vec();
    out.extend(carried.iter().enumerate().map(|(i, c)| match *c {
        "scroll_sum" | "scroll_count" | "engaged_ms" => {
            format!("if(hide OR x8 < {k}, 0, x{i}) AS {c}")
        }
        _ => format!("if(hide, 0, x{i}) AS {c}"),
    }));
    let level4 = format!(
                "SELECT *, sum(x0) OVER () AS all_visitors, countIf(hide AND own) OVER () AS hidden_groups, \
         countIf(NOT hide AND own) OVER () AS shown FROM ({level3})"
    );
    if keeps_hidden_rows(query) {
        out.push("count() OVER () AS total_rows, all_visitors AS visitors_total".into());
        out.push("toUInt8(hide) AS hidden, hidden_groups AS suppressed".into());
        format!("SELECT {} FROM ({level4})", out.join(", "))
    } else {
        out.push("shown AS total_rows, all_visitors AS visitors_total".into());
        out.push("toUInt8(hide) AS hidden, hidden_groups AS suppressed".into());
        format!(
            "SELECT {} FROM ({level4}) WHERE own AND NOT hide",
            out.join(", ")
        )
    }
}

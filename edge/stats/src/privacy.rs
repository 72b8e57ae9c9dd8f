//! Privacy for small audiences: no number from fewer than a site's
//! `min_group_size` (k) visitors, on every read surface. The rules, pure;
//! the statement that applies them is [`crate::sql`]'s guard, and
//! docs/privacy.md says why each rule is what it is.
//!
//! - **Primary**: a group (a breakdown row, a time bucket, a top-stats row,
//!   a total a rate divides by) is shown only if on one UTC day at least k
//!   visitors were in it. A visitor id lives one UTC day (the daily salt),
//!   so that is the surest count of different browsers behind a number: a
//!   week of one person is seven visitor ids, never seven people.
//! - **Differencing**: a query's answer must not differ from that of a query
//!   with one filter clause (or one value of a list) less by fewer than k
//!   visitors on every day it differs: such a group is suppressed too.
//! - **Complementary**: where a breakdown hides a group, it hides at least
//!   one more (the smallest shown, per margin), so that a total minus the
//!   shown rows never isolates a hidden group.
//!
//! Rows of a breakdown that are hidden are left out (and counted in
//! `meta.suppressed`); a hidden time bucket or top-stats row keeps its place
//! with its metrics `null`.

use crate::query::{Filter, Query, QueryError};
use crate::schema::{Dimension, Metric};
use model::settings::Site;
use model::sql::Sql;
use model::tables::EVENTS;

/// The most queries one query is compared with ([`variants`]): each is a
/// statement's worth of work. More filter clauses and values than this are
/// refused while a minimum group size is set.
pub const MAX_VARIANTS: usize = 12;

/// What a site's settings forbid a query before it is planned: a breakdown
/// by a property the site does not allow, or more filter values than the
/// differencing check compares.
pub fn check(query: &Query, site: &Site) -> Result<(), QueryError> {
    if let Some(allowed) = &site.breakdown_props {
        for dimension in &query.dimensions {
            if let Dimension::Prop(key) = dimension {
                if !allowed.iter().any(|a| a == key) {
                    return Err(QueryError(format!(
                        "dimensions: {} is not one of the site's breakdown_props ({}); its values are counted, never listed",
                        dimension.name(),
                        allowed.join(", ")
                    )));
                }
            }
        }
    }
    if site.min_group_size > 1 && variants(query).len() > MAX_VARIANTS {
        return Err(QueryError(format!(
            "filters: with a minimum group size, at most {MAX_VARIANTS} filter clauses and values (each is checked against differencing)"
        )));
    }
    Ok(())
}

/// The queries an attacker would difference `query` with: each top-level
/// filter clause left out, and each value of a top-level list (or branch of
/// a top-level `or`) left out. Only their visitors per group and day are
/// read, so each asks for visitors alone.
pub fn variants(query: &Query) -> Vec<Query> {
    let mut filter_sets: Vec<Vec<Filter>> = Vec::new();
    for (i, filter) in query.filters.iter().enumerate() {
        let mut without = query.filters.clone();
        without.remove(i);
        filter_sets.push(without);
        for narrower in one_less(filter) {
            let mut with = query.filters.clone();
            with[i] = narrower;
            filter_sets.push(with);
        }
    }
    let mut out: Vec<Query> = Vec::new();
    for filters in filter_sets {
        let mut variant = query.clone();
        variant.filters = filters;
        variant.metrics = vec![Metric::Visitors];
        variant.order_by.clear();
        variant.time_labels = false;
        variant.total_rows = false;
        variant.offset = 0;
        if !out.contains(&variant) {
            out.push(variant);
        }
    }
    out
}

/// A filter with one of its values (or branches) left out, for each one.
fn one_less(filter: &Filter) -> Vec<Filter> {
    match filter {
        Filter::Condition { values, .. } if values.len() > 1 => (0..values.len())
            .map(|i| {
                let mut narrower = filter.clone();
                if let Filter::Condition { values, .. } = &mut narrower {
                    values.remove(i);
                }
                narrower
            })
            .collect(),
        Filter::Or(branches) if branches.len() > 1 => (0..branches.len())
            .map(|i| {
                let mut rest = branches.clone();
                rest.remove(i);
                match rest.len() {
                    1 => rest.remove(0),
                    _ => Filter::Or(rest),
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a query's hidden rows keep their place (metrics `null`) rather
/// than being left out: no dimension but time, whose buckets name no one.
pub fn keeps_hidden_rows(query: &Query) -> bool {
    query.dimensions.iter().all(Dimension::is_time)
}

/// Whether a number from `daily` (visitors per UTC day) may be shown at
/// minimum group size `k`: one day had k of them. The same rule as the
/// guard's SQL, for what is counted outside it (realtime, funnels).
pub fn large_enough(daily: impl IntoIterator<Item = u64>, k: u32) -> bool {
    k <= 1 || daily.into_iter().max().unwrap_or(0) >= u64::from(k)
}

/// Whether two counts of visitors per UTC day (a query's and a variant's,
/// day by day) differ in a way that points at fewer than `k` visitors: some
/// day differs, and no day by `k` or more.
pub fn differ_by_few(differences: impl IntoIterator<Item = u64>, k: u32) -> bool {
    let differences: Vec<u64> = differences.into_iter().collect();
    differences.iter().any(|d| *d > 0) && !large_enough(differences, k)
}

/// The custom properties of a site's last 30 days, for the settings'
/// warnings ([`personal`]): per key, its distinct values and visitors, how
/// many values look like e-mail addresses and like long ids, and its count.
/// Nothing of a value leaves ClickHouse but these counts.
pub fn props_sql(site: &Site) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", &site.domain);
    sql.text = format!(
        "SELECT key, uniqExact(value), uniqExact(visitor_id), \
         countIf(match(value, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$')), \
         countIf(match(value, '^[0-9A-Fa-f-]{{16,}}$') OR match(value, '^[0-9]{{9,}}$')), count() \
         FROM (SELECT visitor_id, `meta.key` AS keys, `meta.value` AS vals FROM {EVENTS} \
         WHERE site_domain = {site_p} AND timestamp >= now() - INTERVAL 30 DAY) \
         ARRAY JOIN keys AS key, vals AS value GROUP BY key ORDER BY key LIMIT 200"
    );
    sql
}

/// What [`props_sql`] counted of one property.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PropCounts {
    pub values: u64,
    pub visitors: u64,
    pub emails: u64,
    pub ids: u64,
    pub count: u64,
}

/// Words in a property's name that suggest it holds a person.
const PERSONAL_NAMES: [&str; 12] = [
    "mail", "user", "login", "name", "employee", "person", "owner", "author", "phone", "account",
    "member", "ip",
];

/// Why a property looks personal (an e-mail address, a user name, a long
/// id), or `None`: the settings' warning.
pub fn personal(key: &str, c: &PropCounts) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|ch: char| !ch.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if let Some(word) = PERSONAL_NAMES.iter().find(|p| {
        words
            .iter()
            .any(|w| w == *p || (p.len() > 3 && w.contains(*p)))
    }) {
        return Some(format!(
            "its name ({word}) suggests it holds a person: keep it out of breakdown_props, or do not send it"
        ));
    }
    if c.emails > 0 {
        return Some(format!(
            "{} of its values look like e-mail addresses",
            c.emails
        ));
    }
    if c.count > 0 && c.ids * 2 > c.count {
        return Some("most of its values look like long ids".into());
    }
    if c.values >= 10 && c.values * 10 >= c.visitors * 8 {
        return Some(format!(
            "{} values for {} visitors: nearly one value a visitor, like a user name",
            c.values, c.visitors
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(filters: serde_json::Value) -> Query {
        let body = json!({"site_id": "s", "metrics": ["visitors", "bounce_rate"], "date_range": "7d",
            "dimensions": ["visit:browser"], "filters": filters, "order_by": [["visitors", "asc"]]});
        crate::query::parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn variants_leave_out_one_clause_or_one_value() {
        let query = parse(json!([
            ["is", "visit:country", ["BR", "DE"]],
            ["is_not", "event:page", ["/admin"]]
        ]));
        let listed = variants(&query);
        let filters: Vec<serde_json::Value> = listed
            .iter()
            .map(|v| {
                json!(v
                    .filters
                    .iter()
                    .map(crate::answer::filter_json)
                    .collect::<Vec<_>>())
            })
            .collect();
        assert_eq!(
            filters,
            [
                json!([["is_not", "event:page", ["/admin"]]]),
                json!([
                    ["is", "visit:country", ["DE"]],
                    ["is_not", "event:page", ["/admin"]]
                ]),
                json!([
                    ["is", "visit:country", ["BR"]],
                    ["is_not", "event:page", ["/admin"]]
                ]),
                json!([["is", "visit:country", ["BR", "DE"]]]),
            ]
        );
        assert!(listed.iter().all(|v| v.metrics == [Metric::Visitors]
            && v.order_by.is_empty()
            && v.dimensions == query.dimensions));
        let or = parse(json!([[
            "or",
            [
                ["is", "visit:country", ["BR"]],
                ["is", "visit:browser", ["Firefox"]]
            ]
        ]]));
        assert_eq!(variants(&or).len(), 3, "none, and each branch alone");
        assert!(variants(&parse(json!([]))).is_empty());
    }

    #[test]
    fn sites_refuse_what_they_do_not_allow() {
        let mut site = Site::new("s");
        let body = json!({"site_id": "s", "metrics": ["visitors"], "date_range": "7d",
            "dimensions": ["event:props:user_email"]});
        let by_prop = crate::query::parse(body.to_string().as_bytes()).unwrap();
        assert!(check(&by_prop, &site).is_ok(), "no allowlist: every prop");
        site.breakdown_props = Some(vec!["language".into()]);
        let error = check(&by_prop, &site).unwrap_err();
        assert!(
            error
                .0
                .starts_with("dimensions: event:props:user_email is not one of the site's breakdown_props (language)"),
            "{}",
            error.0
        );
        let values: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
        let many = parse(json!([["is", "visit:country", values]]));
        assert_eq!(variants(&many).len(), 13);
        assert!(check(&many, &site)
            .unwrap_err()
            .0
            .starts_with("filters: with a minimum group size, at most 12"));
        site.min_group_size = 1;
        assert!(check(&many, &site).is_ok(), "off: nothing is compared");
    }

    #[test]
    fn personal_properties_are_named_or_look_so() {
        let plain = PropCounts {
            values: 4,
            visitors: 300,
            count: 900,
            ..PropCounts::default()
        };
        assert_eq!(personal("language", &plain), None);
        assert_eq!(personal("template", &plain), None);
        for key in ["user_email", "userName", "Owner", "author-id", "client_ip"] {
            assert!(personal(key, &plain).is_some(), "{key}");
        }
        let emails = PropCounts { emails: 3, ..plain };
        assert_eq!(
            personal("contact", &emails).unwrap(),
            "3 of its values look like e-mail addresses"
        );
        let ids = PropCounts { ids: 600, ..plain };
        assert!(personal("ref", &ids).unwrap().contains("long ids"));
        let per_visitor = PropCounts {
            values: 280,
            ..plain
        };
        assert!(personal("handle", &per_visitor)
            .unwrap()
            .contains("nearly one value a visitor"));
        let sql = props_sql(&Site::new("portal.example"));
        assert!(sql.text.contains("ARRAY JOIN") && !sql.text.contains("portal.example"));
    }

    #[test]
    fn a_number_needs_k_visitors_on_one_day() {
        assert!(large_enough([5], 5));
        assert!(
            !large_enough([4, 4, 4, 4], 5),
            "16 visitor ids, maybe 4 people"
        );
        assert!(!large_enough([], 5));
        assert!(
            large_enough([], 0) && large_enough([], 1),
            "off: every number"
        );
        assert!(differ_by_few([0, 1, 0], 5));
        assert!(!differ_by_few([0, 0], 5), "the same answer");
        assert!(!differ_by_few([5, 1], 5), "one day of five");
    }
}

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
//!   with one filter clause, value or branch less (at any depth) by what
//!   fewer than k visitors did: per group, the visitors of the events one
//!   holds for and the other not ([`complements`]) are none, or k on a day.
//! - **Complementary**: where a breakdown hides a group, it hides at least
//!   one more (the smallest shown, per margin), so that a total minus the
//!   shown rows never isolates a hidden group.
//!
//! Rows of a breakdown that are hidden are left out (and counted in
//! `meta.suppressed`); a hidden time bucket or top-stats row keeps its place
//! with its metrics `null`.

use crate::query::{Filter, Query, QueryError};
use crate::schema::{Dimension, Metric, Operator};
use model::settings::Site;
use model::sql::Sql;
use model::tables::EVENTS;

/// The most groupings one query's guard computes besides its own
/// ([`comparisons`]: its complements, and its value clauses' breakdowns
/// with theirs): each is a statement's worth of work. A query that needs
/// more is refused while a minimum group size is set.
pub const MAX_VARIANTS: usize = 32;

/// What a site's settings forbid a query before it is planned: a breakdown
/// by a property the site does not allow, or more filter values than the
/// differencing check compares.
pub fn check(query: &Query, site: &Site) -> Result<(), QueryError> {
    if let Some(allowed) = &site.breakdown_props {
        for dimension in &query.dimensions {
            if let Dimension::Prop(key) = dimension {
                if !site.may_list_prop(key) {
                    return Err(QueryError(format!(
                        "dimensions: {} is not one of the site's breakdown_props ({}); its values are counted, never listed",
                        dimension.name(),
                        allowed.join(", ")
                    )));
                }
            }
        }
    }
    if site.min_group_size > 1 && comparisons(query) > MAX_VARIANTS {
        return Err(QueryError(format!(
            "filters: with a minimum group size, too many filter clauses and values: each is checked against differencing, at most {MAX_VARIANTS} checks (this query needs {})",
            comparisons(query)
        )));
    }
    Ok(())
}

/// For each query an attacker could difference `query` with — one filter
/// clause, one value of a list or one branch of an `and`/`or` left out, at
/// any depth (under `not` and `has_done` too) — the query of what the two
/// differ by: the events one's filters hold for and the other's do not
/// (their symmetric difference). A group is hidden when such a query's
/// visitors are some, and on no day k ([`differ_by_few`]): not its visitors
/// alone but every metric of the two answers then differs only by what
/// fewer than k visitors did. Only visitors per group and day are read.
pub fn complements(query: &Query) -> Vec<Query> {
    let Some(original) = all(query.filters.clone()) else {
        return Vec::new();
    };
    let mut out: Vec<Query> = Vec::new();
    for other in list_alternatives(&query.filters) {
        let only_original =
            |other: Filter| Filter::And(vec![original.clone(), Filter::Not(Box::new(other))]);
        let difference = match all(other) {
            // a clause left out of one clause: what it excluded
            None => Filter::Not(Box::new(original.clone())),
            Some(other) => Filter::Or(vec![
                only_original(other.clone()),
                Filter::And(vec![other, Filter::Not(Box::new(original.clone()))]),
            ]),
        };
        let mut complement = query.clone();
        complement.filters = vec![difference];
        complement.metrics = vec![Metric::Visitors];
        complement.order_by.clear();
        complement.time_labels = false;
        complement.total_rows = false;
        complement.offset = 0;
        if !out.contains(&complement) {
            out.push(complement);
        }
    }
    out
}

/// For each top-level clause that keeps some values of a dimension (`is`,
/// `contains`, `matches`), the breakdown by that dimension of the rest of
/// the query, and the clause. The clause's values must not be a group that
/// breakdown hides: else asking for a group the complementary rule hid, by
/// its value, and subtracting it and the shown ones from the total would
/// give the small group it was hidden with. (One level: the breakdown's own
/// clauses are not checked so.)
pub fn clause_breakdowns(query: &Query) -> Vec<(Query, Filter)> {
    // by meaning, not by shape: `and`s flattened, a one-branch `and`/`or`
    // unwrapped, `not` of a negative clause read as the positive one
    let mut clauses = Vec::new();
    for filter in &query.filters {
        flatten(filter, &mut clauses);
    }
    let mut out = Vec::new();
    for (i, clause) in clauses.iter().enumerate() {
        let Filter::Condition {
            operator: Operator::Is | Operator::Contains | Operator::Matches,
            dimension,
            ..
        } = clause
        else {
            continue;
        };
        let mut breakdown = query.clone();
        breakdown.filters = clauses.clone();
        breakdown.filters.remove(i);
        breakdown.dimensions = vec![dimension.clone()];
        breakdown.metrics = vec![Metric::Visitors];
        breakdown.order_by.clear();
        breakdown.time_labels = false;
        breakdown.total_rows = false;
        breakdown.offset = 0;
        out.push((breakdown, clause.clone()));
    }
    out
}

/// `filter` as clauses joined by `and`, each in its plainest form.
fn flatten(filter: &Filter, out: &mut Vec<Filter>) {
    match filter {
        Filter::And(list) => list.iter().for_each(|f| flatten(f, out)),
        Filter::Or(list) if list.len() == 1 => flatten(&list[0], out),
        Filter::Not(inner) => match inner.as_ref() {
            Filter::Not(twice) => flatten(twice, out),
            Filter::Condition {
                operator,
                dimension,
                values,
                case_sensitive,
            } => match operator.positive() {
                Some(positive) => out.push(Filter::Condition {
                    operator: positive,
                    dimension: dimension.clone(),
                    values: values.clone(),
                    case_sensitive: *case_sensitive,
                }),
                None => out.push(filter.clone()),
            },
            Filter::Or(list) if list.len() == 1 => {
                flatten(&Filter::Not(Box::new(list[0].clone())), out)
            }
            Filter::And(list) if list.len() == 1 => {
                flatten(&Filter::Not(Box::new(list[0].clone())), out)
            }
            _ => out.push(filter.clone()),
        },
        other => out.push(other.clone()),
    }
}

/// How many groupings the guard of `query` computes besides its own.
pub fn comparisons(query: &Query) -> usize {
    complements(query).len()
        + clause_breakdowns(query)
            .iter()
            .map(|(breakdown, _)| 1 + complements(breakdown).len())
            .sum::<usize>()
}

/// The conjunction of `filters`: `None` for none (every event), the filter
/// itself for one.
fn all(mut filters: Vec<Filter>) -> Option<Filter> {
    match filters.len() {
        0 => None,
        1 => filters.pop(),
        _ => Some(Filter::And(filters)),
    }
}

/// The filter lists that differ from `filters` (a query's, joined by `and`)
/// by one clause left out, or one clause changed as [`alternatives`] says.
fn list_alternatives(filters: &[Filter]) -> Vec<Vec<Filter>> {
    let mut out = Vec::new();
    for (i, filter) in filters.iter().enumerate() {
        let mut without = filters.to_vec();
        without.remove(i);
        out.push(without);
        for changed in alternatives(filter) {
            let mut with = filters.to_vec();
            with[i] = changed;
            out.push(with);
        }
    }
    out
}

/// The filters that differ from `filter` by one value of a list, or one
/// branch of an `and` or `or`, left out, at any depth.
fn alternatives(filter: &Filter) -> Vec<Filter> {
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
        Filter::Condition { .. } => Vec::new(),
        Filter::And(list) => list_alternatives(list)
            .into_iter()
            .filter_map(all)
            .collect(),
        Filter::Or(list) => {
            let any = |mut items: Vec<Filter>| match items.len() {
                0 => None,
                1 => items.pop(),
                _ => Some(Filter::Or(items)),
            };
            list_alternatives(list)
                .into_iter()
                .filter_map(any)
                .collect()
        }
        Filter::Not(inner) => alternatives(inner)
            .into_iter()
            .map(|a| Filter::Not(Box::new(a)))
            .collect(),
        Filter::HasDone { inner, negated } => alternatives(inner)
            .into_iter()
            .map(|a| Filter::HasDone {
                inner: Box::new(a),
                negated: *negated,
            })
            .collect(),
    }
}

/// Whether a query's hidden row keeps its place (metrics `null`) rather
/// than being left out: only the one row of a query without dimensions,
/// which is there whether anyone was or not. A hidden group of a breakdown
/// or time series is left out like an empty one, so that an answer never
/// tells that someone is in a group too small to show.
pub fn keeps_hidden_rows(query: &Query) -> bool {
    query.dimensions.is_empty()
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
    // (no counts in the words: a count of one would tell of one person)
    if c.emails > 0 {
        return Some("some of its values look like e-mail addresses".into());
    }
    if c.count > 0 && c.ids * 2 > c.count {
        return Some("most of its values look like long ids".into());
    }
    if c.values >= 10 && c.values * 10 >= c.visitors * 8 {
        return Some("nearly one value a visitor, like a user name".into());
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
    fn complements_are_what_one_clause_or_value_less_differs_by() {
        let query = parse(json!([
            ["is", "visit:country", ["BR", "DE"]],
            ["is_not", "event:page", ["/admin"]]
        ]));
        let listed = complements(&query);
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
        let country = json!(["is", "visit:country", ["BR", "DE"]]);
        let page = json!(["is_not", "event:page", ["/admin"]]);
        let both = json!(["and", [country, page]]);
        let xor = |other: serde_json::Value| {
            json!([
                "or",
                [
                    ["and", [both, ["not", other]]],
                    ["and", [other, ["not", both]]]
                ]
            ])
        };
        assert_eq!(
            filters,
            [
                json!([xor(page.clone())]),
                json!([xor(json!(["and", [["is", "visit:country", ["DE"]], page]]))]),
                json!([xor(json!(["and", [["is", "visit:country", ["BR"]], page]]))]),
                json!([xor(country.clone())]),
            ]
        );
        assert!(listed.iter().all(|v| v.metrics == [Metric::Visitors]
            && v.order_by.is_empty()
            && v.dimensions == query.dimensions));
        // one clause: what it excluded
        let one = complements(&parse(json!([["is", "visit:country", ["BR"]]])));
        assert_eq!(
            crate::answer::filter_json(&one[0].filters[0]),
            json!(["not", ["is", "visit:country", ["BR"]]])
        );
        // nested: wrapping the clauses in an `and`, a `not` or an `or` hides nothing
        let nested = parse(json!([[
            "and",
            [
                ["is", "visit:country", ["BR"]],
                ["not", ["is", "visit:browser", ["Firefox", "Safari"]]]
            ]
        ]]));
        // the whole clause, each of the two, and each browser
        assert_eq!(complements(&nested).len(), 5);
        assert!(complements(&parse(json!([]))).is_empty());
    }

    #[test]
    fn a_value_clause_is_found_whatever_its_shape() {
        let team = json!(["is", "event:props:team", ["a"]]);
        for shape in [
            json!([team]),
            json!([["or", [team]]]),
            json!([["and", [team, ["is", "visit:device", ["Desktop"]]]]]),
            json!([["not", ["is_not", "event:props:team", ["a"]]]]),
            json!([["not", ["not", team]]]),
            json!([["not", ["or", [["is_not", "event:props:team", ["a"]]]]]]),
        ] {
            let found = clause_breakdowns(&parse(shape.clone()));
            assert!(
                found
                    .iter()
                    .any(|(b, c)| crate::answer::filter_json(c) == team
                        && b.dimensions[0].name() == "event:props:team"),
                "{shape}"
            );
        }
        assert!(
            clause_breakdowns(&parse(json!([["is_not", "event:props:team", ["a"]]]))).is_empty()
        );
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
        let values: Vec<String> = (0..16).map(|i| format!("c{i}")).collect();
        let many = parse(json!([["is", "visit:country", values]]));
        // 17 complements, and the breakdown by country of the rest (none): 18
        assert_eq!(comparisons(&many), 18);
        assert!(check(&many, &site).is_ok());
        let clauses: Vec<serde_json::Value> = [
            "visit:country",
            "visit:browser",
            "visit:os",
            "visit:device",
            "event:page",
        ]
        .iter()
        .map(|d| json!(["is", d, ["x"]]))
        .collect();
        let five = parse(json!(clauses));
        // 5 complements, and 5 breakdowns each with 4 complements of their own
        assert_eq!(comparisons(&five), 30);
        let six = parse(json!([
            ["is", "visit:country", ["a", "b"]],
            clauses[1],
            clauses[2],
            clauses[3],
            clauses[4]
        ]));
        assert!(check(&six, &site)
            .unwrap_err()
            .0
            .starts_with("filters: with a minimum group size, too many filter clauses and values"));
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
            "some of its values look like e-mail addresses"
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

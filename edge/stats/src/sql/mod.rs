//! A plan's statements in ClickHouse SQL. Every value from the request or
//! the settings is a bound parameter (`{p0:String}`, sent as `param_p0`): the
//! SQL text holds only names from [`schema`](crate::schema), the table names
//! and this folder. Each statement reads along its [`Path`] (crate::plan):
//! [`source`] what it reads, [`expression`] its dimensions, goals and
//! filters, [`rollup`] the rollup path; this file groups, orders and pages.
//!
//! The general path groups three times: per visit (L2: filters applied),
//! per visitor (L3), per group of the dimensions (L4). Every path returns the
//! same columns: the dimensions, then [`crate::columns::COMPONENTS`].

mod days;
mod expression;
mod funnel;
mod order;
mod privacy;
mod rollup;
mod source;

pub(crate) use days::fresh_days_sql;
pub use days::{due_sql, goals_rolled, logged_sql, read_numbers, roll_sql, version_sql};
pub use expression::page_pattern;
pub use funnel::{funnel_furthest_statement, funnel_privacy_statements, funnel_statement};

use crate::plan::{path, rolled, Path};
use crate::query::{Filter, Query};
use crate::range::Resolved;
use crate::schema::{Dimension, EventDimension, Metric};
use expression::{goal_join, Builder};
use model::settings::Site;
use model::sql::Sql;
use model::tables::EVENTS;
use order::finish;
use source::{event_columns, stored_visits};

/// The main statement: one row per group, the dimensions then
/// [`crate::columns::COMPONENTS`] — the groups of the query, guarded by the
/// site's minimum group size ([`privacy`]), ordered and paged.
pub fn statement(query: &Query, site: &Site, range: &Resolved) -> Sql {
    let mut b = Builder::new(site, query);
    let scope = Scope::bind(&mut b.sql, site, range);
    let (names, result) = unordered(&mut b, query, range, &scope);
    if !b.daily {
        let guarded = privacy::unguarded(result);
        return finish(b, query, &names, guarded);
    }
    let complements = complements_of(&mut b, query, range, &scope);
    // each value clause: whether a group it keeps is one its breakdown hides
    let mut checks = Vec::new();
    for (breakdown, clause) in crate::privacy::clause_breakdowns(query) {
        let (names_i, base_i) = unordered(&mut b, &breakdown, range, &scope);
        let complements_i = complements_of(&mut b, &breakdown, range, &scope);
        let flags = privacy::flags(&mut b, &names_i, base_i, &complements_i, &[]);
        if let Filter::Condition {
            operator,
            values,
            case_sensitive,
            ..
        } = &clause
        {
            let keeps = b.keeps(*operator, "d0", values, *case_sensitive);
            checks.push(format!(
                "((SELECT count() FROM ({flags}) WHERE own AND hide AND {keeps}) > 0)"
            ));
        }
    }
    let guarded = privacy::guard(&mut b, query, &names, result, &complements, &checks);
    finish(b, query, &names, guarded)
}

/// The groups of each of `query`'s complements ([`crate::privacy::complements`]).
fn complements_of(b: &mut Builder, query: &Query, range: &Resolved, scope: &Scope) -> Vec<String> {
    crate::privacy::complements(query)
        .iter()
        .map(|complement| unordered(b, complement, range, scope).1)
        .collect()
}

/// The groups of `query` along its cheapest path, before the guard, the
/// order and the page: the dimensions' names, and the statement.
fn unordered(
    b: &mut Builder,
    query: &Query,
    range: &Resolved,
    scope: &Scope,
) -> (Vec<String>, String) {
    // the builder writes several queries' groups (the guard's): this one's goals
    b.goal_dimension = query
        .dimensions
        .contains(&Dimension::Event(EventDimension::Goal));
    if let Some(set) = rolled(query, range) {
        let rolled_days = days::rolled_days(range, &set);
        if !rolled_days.is_empty() {
            return days::read(b, query, range, &set, &rolled_days, scope);
        }
    }
    if path(query) == Path::Rollup {
        return rollup::rollup(b, query, range, &scope.site_p, &scope.from_p, &scope.to_p);
    }
    groups(b, query, range, scope, None, false)
}

/// The placeholders of what every statement reads: the site and `[from, to)`.
pub(super) struct Scope {
    pub site_p: String,
    pub from_p: String,
    pub to_p: String,
}

impl Scope {
    fn bind(sql: &mut Sql, site: &Site, range: &Resolved) -> Scope {
        Scope {
            site_p: sql.bind("String", &site.domain),
            from_p: sql.bind("UInt32", &range.from.to_string()),
            to_p: sql.bind("UInt32", &range.to.to_string()),
        }
    }
}

/// The groups of `query` along its [`Path`] (not the rollup's): the
/// dimensions' names, and the statement before its order and page. With
/// `only_days` (a statement listing UTC dates), the events and visits of
/// those days alone. A group only of engagement events is not one of the
/// answer's, unless `summed`: the groups are then a part of a sum over days
/// (a page with only engagement events one day still counts that day's
/// scroll depth), and the sum leaves it out ([`days`]).
fn groups(
    b: &mut Builder,
    query: &Query,
    range: &Resolved,
    scope: &Scope,
    only_days: Option<&str>,
    summed: bool,
) -> (Vec<String>, String) {
    // the rollup path is the read of whole days: its cut days are events
    let path = match path(query) {
        Path::Rollup => Path::Events,
        other => other,
    };
    let source = source(b, query, range, scope, only_days, path);

    let dims: Vec<String> = query
        .dimensions
        .iter()
        .map(|d| b.dimension(d, range))
        .collect();
    // a breakdown by goal reads only the events that complete one
    let source = if b.goal_dimension && path != Path::Visits {
        let goals = b.site.goals.clone();
        let any: Vec<String> = goals.iter().map(|g| b.goal_condition(g)).collect();
        if any.is_empty() {
            format!("SELECT * FROM ({source}) WHERE 0")
        } else {
            format!("SELECT * FROM ({source}) WHERE {}", any.join(" OR "))
        }
    } else {
        source
    };
    let goal_join = if b.goal_dimension {
        goal_join(b)
    } else {
        String::new()
    };
    let filter = b.all(&query.filters, range);

    let names: Vec<String> = (0..dims.len()).map(|i| format!("d{i}")).collect();
    let selected: Vec<String> = dims
        .iter()
        .zip(&names)
        .map(|(e, n)| format!("{e} AS {n}"))
        .collect();
    let group = |extra: &str| {
        let mut keys = names.clone();
        keys.extend(
            extra
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        if keys.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", keys.join(", "))
        }
    };
    let lead = |more: &str| {
        if names.is_empty() {
            more.to_string()
        } else {
            format!("{}, {more}", names.join(", "))
        }
    };
    let having = |condition: &str| {
        if names.is_empty() || summed {
            String::new()
        } else {
            format!(" HAVING {condition}")
        }
    };
    // each group's visitors per UTC day, for the privacy guard
    let with_daily = b.daily;
    let daily = |per_day: &str| {
        if with_daily {
            format!(", {per_day} AS daily")
        } else {
            String::new()
        }
    };
    // engagement read per visitor: only the general statement's stages have them
    let scroll = query
        .metrics
        .iter()
        .any(|m| matches!(m, Metric::ScrollDepth | Metric::TimeOnPage));
    let result = match path {
        Path::Visits => format!(
            "SELECT {} FROM ({source}) WHERE {filter}{}",
            {
                let mut s = selected.clone();
                s.push(
                    "uniqExact(v_visitor) AS visitors, count() AS visits, 0 AS pageviews, \
                     0 AS events, countIf(s_pageviews = 1 AND s_interactions = 0) AS bounces, \
                     sum(dateDiff('second', s_start, s_end)) AS duration, \
                     sum(s_pageviews) AS visit_pageviews, 0 AS scroll_sum, 0 AS scroll_count, \
                     0 AS engaged_ms, \
                     count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total"
                        .to_string()
                        + &daily("uniqExactMap(map(v_date, v_visitor))"),
                );
                s.join(", ")
            },
            group(""),
        ),
        Path::Events if !scroll => format!(
            "SELECT {} FROM ({source}){goal_join} WHERE {filter}{}{}",
            {
                let mut s = selected.clone();
                s.push(
                    "uniqExactIf(visitor_id, name != 'engagement') AS visitors, 0 AS visits, \
                     countIf(name = 'pageview') AS pageviews, \
                     countIf(name != 'engagement') AS events, 0 AS bounces, \
                     0 AS duration, 0 AS visit_pageviews, 0 AS scroll_sum, 0 AS scroll_count, \
                     0 AS engaged_ms, \
                     count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total"
                        .to_string()
                        + &daily("uniqExactMapIf(map(toDate(timestamp), visitor_id), name != 'engagement')"),
                );
                s.join(", ")
            },
            group(""),
            having("countIf(name != 'engagement') > 0"),
        ),
        _ => {
            // each stage names its columns apart (…2, …3): a ClickHouse alias
            // would otherwise shadow the column of the same name inside its
            // own aggregate
            let (visit_key, visit_columns) = if path == Path::General {
                (
                    "s_start",
                    "any(s_pageviews) AS spv2, any(s_pageviews = 1 AND s_interactions = 0) AS bounced2, \
                     any(dateDiff('second', s_start, s_end)) AS dur2",
                )
            } else {
                ("", "0 AS spv2, 0 AS bounced2, 0 AS dur2")
            };
            let l2 = format!(
                "SELECT {}, countIf(name != 'engagement') AS a2, countIf(name = 'pageview') AS pv2, \
                 countIf(name != 'engagement') AS ev2, {visit_columns}, \
                 maxIf(scroll_depth, name = 'engagement') AS sd2, countIf(name = 'engagement') > 0 AS hsd2, \
                 sumIf(engagement_time, name = 'engagement') AS et2, min(toDate(timestamp)) AS day2 \
                 FROM ({source}){goal_join} WHERE {filter}{}",
                {
                    let mut s = selected.clone();
                    s.push("visitor_id".into());
                    if !visit_key.is_empty() {
                        s.push(visit_key.into());
                    }
                    s.join(", ")
                },
                group(&format!("visitor_id,{visit_key}")),
            );
            let l3 = format!(
                "SELECT {}, countIf(a2 > 0) AS visits3, sum(a2) AS a3, sum(pv2) AS pv3, sum(ev2) AS ev3, \
                 countIf(a2 > 0 AND bounced2) AS b3, sumIf(dur2, a2 > 0) AS dur3, \
                 sumIf(spv2, a2 > 0) AS spv3, max(sd2) AS sd3, max(hsd2) AS hsd3, sum(et2) AS et3, \
                 min(day2) AS day3 \
                 FROM ({l2}){}",
                lead("visitor_id"),
                group("visitor_id"),
            );
            format!(
                "SELECT {}{} FROM ({l3}){}{}",
                lead(if path == Path::General {
                    "countIf(a3 > 0) AS visitors, sum(visits3) AS visits, sum(pv3) AS pageviews, \
                     sum(ev3) AS events, sum(b3) AS bounces, sum(dur3) AS duration, \
                     sum(spv3) AS visit_pageviews, sumIf(sd3, hsd3) AS scroll_sum, \
                     countIf(hsd3) AS scroll_count, sum(et3) AS engaged_ms, \
                     count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total"
                } else {
                    "countIf(a3 > 0) AS visitors, 0 AS visits, sum(pv3) AS pageviews, \
                     sum(ev3) AS events, 0 AS bounces, 0 AS duration, 0 AS visit_pageviews, \
                     sumIf(sd3, hsd3) AS scroll_sum, countIf(hsd3) AS scroll_count, \
                     sum(et3) AS engaged_ms, \
                     count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total"
                }),
                daily("uniqExactMapIf(map(day3, visitor_id), a3 > 0)"),
                group(""),
                having("sum(a3) > 0"),
            )
        }
    };
    (names, result)
}

/// The rows a statement groups, along `path` (not the rollup's): the
/// range's events, with their stored visit on the general path (and only
/// the visits that match the query's visit filters), or the stored visits
/// alone on the visits path. With `only_days`, those UTC days alone.
fn source(
    b: &mut Builder,
    query: &Query,
    range: &Resolved,
    scope: &Scope,
    only_days: Option<&str>,
    path: Path,
) -> String {
    let Scope {
        site_p,
        from_p,
        to_p,
    } = scope;
    let (event_days, visit_days) = match only_days {
        Some(days) => (
            format!(" AND toDate(timestamp) IN ({days})"),
            format!(" AND date IN ({days})"),
        ),
        None => (String::new(), String::new()),
    };
    let rows = format!(
        "SELECT {} FROM {EVENTS} WHERE site_domain = {site_p} \
         AND timestamp >= toDateTime({from_p}, 'UTC') AND timestamp < toDateTime({to_p}, 'UTC'){event_days}",
        event_columns(query).join(", ")
    );
    match path {
        Path::Events | Path::Rollup => rows,
        Path::Visits => format!(
            "SELECT * FROM ({}{visit_days}) WHERE s_active > 0 AND s_first_active < toDateTime({to_p}, 'UTC') \
             AND s_last_active >= toDateTime({from_p}, 'UTC')",
            stored_visits(site_p, from_p, to_p, true)
        ),
        // each event's visit: the visitor's latest visit started at or
        // before it. Top-level filters on visit properties are applied to
        // the visits first (a smaller join); then only events inside a
        // matching visit may join, hence the end check.
        Path::General => {
            let visit_only = |f: &Filter| !f.mentions(|d| !d.is_visit_level());
            let pushed: Vec<Filter> = query
                .filters
                .iter()
                .filter(|f| visit_only(f))
                .cloned()
                .collect();
            let visits = format!("{}{visit_days}", stored_visits(site_p, from_p, to_p, false));
            if pushed.is_empty() {
                format!(
                    "SELECT * FROM ({rows}) AS e LEFT ASOF JOIN ({visits}) AS v \
                     ON e.visitor_id = v.v_visitor AND e.timestamp >= v.s_start"
                )
            } else {
                let condition = b.all(&pushed, range);
                format!(
                    "SELECT * FROM ({rows}) AS e ASOF JOIN (SELECT * FROM ({visits}) WHERE {condition}) AS v \
                     ON e.visitor_id = v.v_visitor AND e.timestamp >= v.s_start WHERE e.timestamp <= v.s_end"
                )
            }
        }
    }
}

/// How often the placeholders bound to `value` appear in `sql`'s text.
#[cfg(test)]
fn placeholder_uses(sql: &Sql, value: &str) -> usize {
    sql.params
        .iter()
        .filter(|(_, v)| v == value)
        .map(|(name, _)| sql.text.matches(&format!("{{{name}:")).count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::split;
    use model::settings::Goal;

    fn site() -> Site {
        Site {
            timezone: "Europe/Berlin".into(),
            goals: vec![
                Goal::Event {
                    event_name: "Deploy Application".into(),
                },
                Goal::Page {
                    page_path: "/docs/**".into(),
                },
            ],
            // the paths themselves; the guard has its own test
            min_group_size: 1,
            ..Site::new("backstage.example")
        }
    }

    #[test]
    fn a_site_with_a_minimum_group_size_guards_every_statement() {
        let body = serde_json::json!({"site_id": "backstage.example", "metrics": ["visitors"],
            "date_range": "7d", "dimensions": ["visit:source"],
            "filters": [["is", "visit:device", ["Mobile"]]]});
        let query = crate::query::parse(body.to_string().as_bytes()).unwrap();
        let open = statement(&query, &site(), &range());
        assert!(open.text.contains("0 AS hidden") && !open.text.contains("sumMapIf"));
        let guarded_site = Site {
            min_group_size: 5,
            ..site()
        };
        let guarded = statement(&query, &guarded_site, &range());
        // the base and its one complement (device is not Mobile), and the
        // clause's breakdown by device (no filter left, no complement): three
        // groupings, each with its visitors per day
        assert_eq!(
            guarded.text.matches("AS daily").count(),
            3,
            "{}",
            guarded.text
        );
        assert!(guarded.text.contains("sumMapIf(m, t = 1) AS m1"));
        assert!(guarded
            .text
            .contains("row_number() OVER (ORDER BY small DESC, own DESC, size ASC, d0 ASC)"));
        assert!(guarded.text.contains("WHERE own AND NOT hide"));
        // every value still a parameter, bound once
        assert_eq!(
            guarded.params.iter().filter(|(_, v)| v == "Mobile").count(),
            1
        );
        assert!(guarded.params.iter().any(|(_, v)| v == "5"));
    }

    fn range() -> Resolved {
        Resolved {
            from: 1_774_738_800,
            to: 1_774_825_200,
            ..Resolved::default()
        }
    }

    #[test]
    fn every_request_string_is_a_parameter() {
        let hostile = "x' OR 1=1 --\\'); DROP TABLE events; {p0:String}";
        let body = serde_json::json!({
            "site_id": "backstage.example",
            "metrics": ["visitors", "bounce_rate", "conversion_rate"],
            "date_range": "7d",
            "dimensions": ["event:goal", format!("event:props:{hostile}"), "visit:source", "time"],
            "filters": [["is", "event:page", [hostile]], ["not", ["matches", "event:goal", [hostile]]],
                        ["contains", format!("event:props:{hostile}"), [hostile]]],
        });
        let query = crate::query::parse(body.to_string().as_bytes()).unwrap();
        let sql = statement(&query, &site(), &range());
        assert!(!sql.text.contains("DROP") && !sql.text.contains("1=1"));
        assert!(!sql.text.contains("Deploy") && !sql.text.contains("docs"));
        // bound once (per type), used at each place it is compared
        let uses = super::placeholder_uses(&sql, hostile);
        assert!(uses >= 4, "{uses}");
    }

    #[test]
    fn each_query_takes_the_cheapest_exact_path() {
        let parse =
            |body: serde_json::Value| crate::query::parse(body.to_string().as_bytes()).unwrap();
        let q = |metrics: &[&str],
                 dimensions: &[&str],
                 filters: serde_json::Value,
                 range: serde_json::Value| {
            parse(
                serde_json::json!({"site_id": "s", "metrics": metrics, "date_range": range,
                "dimensions": dimensions, "filters": filters}),
            )
        };
        let none = serde_json::json!([]);
        let day = serde_json::json!("day");
        // unfiltered uniques per page, name or goal: whole days from the rollup
        let top_pages = q(
            &["visitors", "pageviews"],
            &["event:page"],
            none.clone(),
            day.clone(),
        );
        assert_eq!(path(&top_pages), Path::Rollup);
        // … and rolled days first, when the range holds some: then only the
        // other days (here the two cut days) are read from events
        assert!(!statement(&top_pages, &site(), &range())
            .text
            .contains("day_rollups"));
        let rolled = Resolved {
            to: 1_774_742_400 + 86_400 + 3_600,
            rolled: vec![crate::range::RolledDay {
                day: 1_774_742_400,
                version: 7,
                same_goals: true,
            }],
            ..range()
        };
        let both = statement(&top_pages, &site(), &rolled);
        assert!(both.text.contains("FROM day_rollups") && both.text.contains("FROM events"));
        let p = |v: &str| both.params.iter().any(|(_, x)| x == v);
        assert!(p("[('2026-03-29',7)]") && p("['2026-03-28','2026-03-30']"));
        let whole = Resolved {
            from: 1_774_742_400,
            to: 1_774_742_400 + 86_400,
            ..rolled
        };
        let only = statement(&top_pages, &site(), &whole);
        assert!(only.text.contains("FROM day_rollups") && !only.text.contains("FROM events"));
        let goals = q(&["visitors"], &["event:goal"], none.clone(), day.clone());
        assert!(statement(&goals, &site(), &range())
            .text
            .contains("FROM page_days"));
        let filtered = q(
            &["visitors"],
            &["event:page"],
            serde_json::json!([["is", "visit:device", ["Mobile"]]]),
            day.clone(),
        );
        assert_eq!(path(&filtered), Path::Events);
        // no visit in sight: events only, no stored visits read
        let pages = q(
            &["visitors", "pageviews"],
            &["event:page", "visit:browser"],
            none.clone(),
            day.clone(),
        );
        assert_eq!(path(&pages), Path::Events);
        assert!(!statement(&pages, &site(), &range())
            .text
            .contains("visitor_days"));
        // visit metrics by visit properties: the stored visits alone
        let sources = q(
            &["visitors", "visits", "bounce_rate"],
            &["visit:source"],
            serde_json::json!([["is", "visit:device", ["Mobile"]]]),
            day.clone(),
        );
        assert_eq!(path(&sources), Path::Visits);
        assert!(!statement(&sources, &site(), &range())
            .text
            .contains("FROM events"));
        // a visit property with an event metric, or a range shorter than a day: both joined
        let mixed = q(
            &["pageviews"],
            &["event:page"],
            serde_json::json!([["is", "visit:source", ["Google"]]]),
            day.clone(),
        );
        assert_eq!(path(&mixed), Path::General);
        assert!(statement(&mixed, &site(), &range())
            .text
            .contains("ASOF JOIN"));
        let short = q(
            &["visits"],
            &[],
            none.clone(),
            serde_json::json!(["2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"]),
        );
        assert_eq!(path(&short), Path::General);
        // top stats: split into an events part and a visits part
        let top = q(
            &["visitors", "visits", "pageviews", "bounce_rate"],
            &[],
            none.clone(),
            day.clone(),
        );
        let (events, visits) = split(&top).expect("split");
        assert_eq!((path(&events), path(&visits)), (Path::Events, Path::Visits));
        assert_eq!(split(&pages), None);
    }
}

//! A validated [`Query`] into ClickHouse SQL. Every value from the request
//! or the settings is a bound parameter (`{p0:String}`, sent as `param_p0`):
//! the SQL text holds only names from [`schema`](super::schema) and this file.
//!
//! Visits are stored (`visitor_days`, `sink::visits`). A query takes one of
//! three paths, the cheapest that can answer it ([`path`]):
//!
//! ```text
//! Events   no visit metric, no visit property: one GROUP BY over `events`
//! Visits   visit metrics by visit properties, over whole days: one GROUP BY
//!          over the stored visits, no event read at all
//! General  anything else: each event in range joined to its visit
//!          (ASOF JOIN on visitor and start), then
//!          L2 WHERE filters, GROUP BY dimensions, visitor, visit
//!          L3 GROUP BY dimensions, visitor
//!          L4 GROUP BY dimensions
//! ```
//!
//! Every path returns the same columns: the dimensions, then [`COMPONENTS`].
//! Ratios (bounce rate, visit duration, views per visit, scroll depth,
//! percentage, conversion rate) are made from L4's integer components by
//! [`answer`](super::answer), so that rounding is done once, in Rust.

use super::query::{DateRange, Direction, Filter, OrderKey, Query};
use super::range::{auto_granularity, bucket, Resolved};
use super::schema::{Dimension, EventDimension, Granularity, Metric, Operator, VisitDimension};
pub use crate::bound::{escaped_param, Sql};
use crate::settings::{Goal, Site};

/// L4's columns after the dimensions, in order: what [`answer`](super::answer) reads.
pub const COMPONENTS: [&str; 11] = [
    "visitors",
    "visits",
    "pageviews",
    "events",
    "bounces",
    "duration",
    "visit_pageviews",
    "scroll_sum",
    "scroll_count",
    "total_rows",
    "visitors_total",
];

/// Whether the query needs L1 (visits): a visit metric, or a dimension or
/// filter that is a property of the visit rather than of the event.
pub fn needs_visits(query: &Query) -> bool {
    query.metrics.iter().any(is_visit_metric)
        || query.dimensions.iter().any(is_visit_level)
        || query.filters.iter().any(|f| f.mentions(is_visit_level))
}

/// Dimensions taken from a visit's first (or last) event. Device, browser,
/// OS and country are the visitor's own and so on every event already.
fn is_visit_level(dimension: &Dimension) -> bool {
    matches!(
        dimension,
        Dimension::Visit(
            VisitDimension::Source
                | VisitDimension::Referrer
                | VisitDimension::UtmMedium
                | VisitDimension::UtmSource
                | VisitDimension::UtmCampaign
                | VisitDimension::UtmContent
                | VisitDimension::UtmTerm
                | VisitDimension::EntryPage
                | VisitDimension::ExitPage
        )
    )
}

/// The granularity a time dimension buckets by, for this range.
pub fn granularity(dimension: &Dimension, range: &Resolved) -> Option<Granularity> {
    match dimension {
        Dimension::Time(Granularity::Auto) => Some(auto_granularity(range.to - range.from)),
        Dimension::Time(g) => Some(*g),
        _ => None,
    }
}

/// A page goal's path pattern as an anchored RE2 expression: `**` any
/// characters, `*` any but `/` (Plausible's page goals).
pub fn page_pattern(path: &str) -> String {
    let mut out = String::from("^");
    let mut rest = path;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("**") {
            out.push_str(".*");
            rest = after;
            continue;
        }
        if c == '*' {
            out.push_str("[^/]*");
        } else if c.is_ascii_alphanumeric() || c == '/' || c == '-' || c == '_' {
            out.push(c);
        } else if c.is_ascii() {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push('$');
    out
}

/// What L2 filters and groups by, once the visit columns exist.
struct Builder<'a> {
    sql: Sql,
    site: &'a Site,
    tz_p: String,
    /// `event:goal` is a dimension: rows are repeated per completed goal, as `goal`.
    goal_dimension: bool,
}

impl Builder<'_> {
    /// The expression of a dimension on an L1 row.
    fn dimension(&mut self, dimension: &Dimension, range: &Resolved) -> String {
        let or_direct = |column: &str| format!("if({column} = '', 'Direct / None', {column})");
        match dimension {
            Dimension::Event(EventDimension::Name) => "name".into(),
            Dimension::Event(EventDimension::Page) => "pathname".into(),
            Dimension::Event(EventDimension::Hostname) => "hostname".into(),
            Dimension::Event(EventDimension::Goal) => "goal".into(),
            Dimension::Prop(key) => {
                let key_p = self.sql.bind("String", key);
                format!("if(has(`meta.key`, {key_p}), `meta.value`[indexOf(`meta.key`, {key_p})], '(none)')")
            }
            Dimension::Visit(v) => match v {
                VisitDimension::Source => or_direct("s_source"),
                VisitDimension::Referrer => or_direct("s_referrer"),
                VisitDimension::UtmMedium => "s_utm_medium".into(),
                VisitDimension::UtmSource => "s_utm_source".into(),
                VisitDimension::UtmCampaign => "s_utm_campaign".into(),
                VisitDimension::UtmContent => "s_utm_content".into(),
                VisitDimension::UtmTerm => "s_utm_term".into(),
                VisitDimension::Device => "device".into(),
                VisitDimension::Browser => "browser".into(),
                VisitDimension::BrowserVersion => "browser_version".into(),
                VisitDimension::Os => "operating_system".into(),
                VisitDimension::OsVersion => "operating_system_version".into(),
                VisitDimension::Country => "replaceAll(toString(country_code), '\\0', '')".into(),
                VisitDimension::EntryPage => "s_entry_page".into(),
                VisitDimension::ExitPage => "s_exit_page".into(),
            },
            Dimension::Time(_) => {
                let g = granularity(dimension, range).unwrap_or(Granularity::Day);
                bucket(g, "timestamp", &self.tz_p)
            }
        }
    }

    /// Whether a row completes goal `goal`.
    fn goal_condition(&mut self, goal: &Goal) -> String {
        match goal {
            Goal::Event { event_name } => {
                let p = self.sql.bind("String", event_name);
                format!("name = {p}")
            }
            Goal::Page { page_path } => {
                let p = self.sql.bind("String", &page_pattern(page_path));
                format!("(name = 'pageview' AND match(pathname, {p}))")
            }
        }
    }

    /// Placeholders for a filter's values, bound once however often used.
    fn bind_values(&mut self, values: &[String]) -> Vec<String> {
        values.iter().map(|v| self.sql.bind("String", v)).collect()
    }

    /// `expression` compared with the bound values by a positive operator.
    fn compare(operator: Operator, expression: &str, placeholders: &[String]) -> String {
        let parts: Vec<String> = placeholders
            .iter()
            .map(|p| match operator {
                Operator::Is | Operator::IsNot => format!("{expression} = {p}"),
                Operator::Contains | Operator::ContainsNot => {
                    format!("position({expression}, {p}) > 0")
                }
                Operator::Matches | Operator::MatchesNot => format!("match({expression}, {p})"),
            })
            .collect();
        format!("({})", parts.join(" OR "))
    }

    fn filter(&mut self, filter: &Filter, range: &Resolved) -> String {
        match filter {
            Filter::And(list) => self.all(list, range),
            Filter::Or(list) => {
                let parts: Vec<String> = list.iter().map(|f| self.filter(f, range)).collect();
                format!("({})", parts.join(" OR "))
            }
            Filter::Not(inner) => format!("NOT {}", self.filter(inner, range)),
            Filter::Condition {
                operator,
                dimension,
                values,
            } => {
                let positive = if *dimension == Dimension::Event(EventDimension::Goal)
                    && !self.goal_dimension
                {
                    // a row completing any goal whose name compares true
                    let goals = self.site.goals.clone();
                    let placeholders = self.bind_values(values);
                    let parts: Vec<String> = goals
                        .iter()
                        .map(|goal| {
                            let completes = self.goal_condition(goal);
                            let name_p = self.sql.bind("String", &goal.display_name());
                            let named = Self::compare(*operator, &name_p, &placeholders);
                            format!("({completes} AND {named})")
                        })
                        .collect();
                    if parts.is_empty() {
                        "0".to_string()
                    } else {
                        format!("({})", parts.join(" OR "))
                    }
                } else {
                    let expression = self.dimension(dimension, range);
                    let placeholders = self.bind_values(values);
                    Self::compare(*operator, &expression, &placeholders)
                };
                match operator {
                    Operator::Is | Operator::Contains | Operator::Matches => positive,
                    _ => format!("NOT {positive}"),
                }
            }
        }
    }

    fn all(&mut self, list: &[Filter], range: &Resolved) -> String {
        if list.is_empty() {
            return "1".into();
        }
        let parts: Vec<String> = list.iter().map(|f| self.filter(f, range)).collect();
        format!("({})", parts.join(" AND "))
    }
}

/// How a query is answered; see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Unique visitors and counts per page, event name or goal, unfiltered:
    /// whole UTC days from `page_days`, the range's partial days from `events`.
    Rollup,
    Events,
    Visits,
    General,
}

fn is_event_level(dimension: &Dimension) -> bool {
    matches!(
        dimension,
        Dimension::Event(_) | Dimension::Prop(_) | Dimension::Time(_)
    )
}

fn is_visit_metric(metric: &Metric) -> bool {
    matches!(
        metric,
        Metric::Visits | Metric::BounceRate | Metric::VisitDuration | Metric::ViewsPerVisit
    )
}

/// The cheapest path that answers `query` exactly.
pub fn path(query: &Query) -> Path {
    let event_metric = query
        .metrics
        .iter()
        .any(|m| matches!(m, Metric::Pageviews | Metric::Events | Metric::ScrollDepth));
    let event_level = query.dimensions.iter().any(is_event_level)
        || query.filters.iter().any(|f| f.mentions(is_event_level));
    // a visit counts when it has an interaction inside the range; stored
    // visits tell that exactly unless one visit spans the whole range, which
    // only a range shorter than a day (datetimes) allows
    let whole_days =
        !matches!(&query.date_range, DateRange::Between { from, .. } if from.len() > 10);
    let rollup_dimension = matches!(
        query.dimensions.as_slice(),
        [Dimension::Event(
            EventDimension::Page | EventDimension::Name | EventDimension::Goal
        )]
    );
    let rollup_metrics = query.metrics.iter().all(|m| {
        matches!(
            m,
            Metric::Visitors
                | Metric::Pageviews
                | Metric::Events
                | Metric::Percentage
                | Metric::ConversionRate
        )
    });
    if rollup_dimension && rollup_metrics && query.filters.is_empty() {
        Path::Rollup
    } else if !needs_visits(query) {
        Path::Events
    } else if !event_metric && !event_level && whole_days {
        Path::Visits
    } else {
        Path::General
    }
}

/// For a query without dimensions that needs the general path only because
/// it asks both event and visit metrics (a dashboard's top stats): the two
/// queries whose components together answer it, each on a fast path.
pub fn split(query: &Query) -> Option<(Query, Query)> {
    if !query.dimensions.is_empty() || path(query) != Path::General {
        return None;
    }
    let (visit, event): (Vec<Metric>, Vec<Metric>) =
        query.metrics.iter().partition(|m| is_visit_metric(m));
    let mut events = query.clone();
    events.metrics = event;
    events.metrics.push(Metric::Visitors);
    let mut visits = query.clone();
    visits.metrics = visit;
    (path(&events) == Path::Events && path(&visits) == Path::Visits).then_some((events, visits))
}

/// The UTC days `visitor_days` holds for the range's events.
fn day_bounds(from_p: &str, to_p: &str) -> String {
    format!(
        "date BETWEEN toDate(toDateTime({from_p}, 'UTC')) AND toDate(toDateTime({to_p} - 1, 'UTC'))"
    )
}

/// The stored visits of the range's days, one row each, under the names the
/// dimensions use (`s_…` for the visit's, the visitor's own as in `events`).
fn stored_visits(site_p: &str, from_p: &str, to_p: &str, with_visitor: bool) -> String {
    let visitor = if with_visitor {
        "device, browser, browser_version, operating_system, operating_system_version, country_code, "
    } else {
        ""
    };
    format!(
        "SELECT visitor_id AS v_visitor, {visitor}`visit.start` AS s_start, `visit.end` AS s_end, \
         `visit.first_active` AS s_first_active, `visit.last_active` AS s_last_active, \
         `visit.pageviews` AS s_pageviews, `visit.interactions` AS s_interactions, \
         `visit.active` AS s_active, `visit.entry_page` AS s_entry_page, \
         `visit.exit_page` AS s_exit_page, `visit.source` AS s_source, \
         `visit.referrer` AS s_referrer, `visit.utm_medium` AS s_utm_medium, \
         `visit.utm_source` AS s_utm_source, `visit.utm_campaign` AS s_utm_campaign, \
         `visit.utm_content` AS s_utm_content, `visit.utm_term` AS s_utm_term \
         FROM visitor_days FINAL ARRAY JOIN visit \
         WHERE site_domain = {site_p} AND {}",
        day_bounds(from_p, to_p)
    )
}

/// Every dimension a query names, in its dimensions and filters.
fn named_dimensions(query: &Query) -> Vec<&Dimension> {
    let mut out: Vec<&Dimension> = query.dimensions.iter().collect();
    out.extend(query.filters.iter().flat_map(Filter::dimensions));
    out
}

/// The columns of `events` a query reads: fewer columns, less to scan and join.
fn event_columns(query: &Query) -> Vec<&'static str> {
    let mut columns = vec![
        "timestamp",
        "name",
        "visitor_id",
        "interactive",
        "scroll_depth",
    ];
    for dimension in named_dimensions(query) {
        let needed: &[&'static str] = match dimension {
            // goals match names and paths
            Dimension::Event(EventDimension::Page | EventDimension::Goal) => &["pathname"],
            Dimension::Event(EventDimension::Hostname) => &["hostname"],
            Dimension::Prop(_) => &["`meta.key`", "`meta.value`"],
            Dimension::Visit(VisitDimension::Device) => &["device"],
            Dimension::Visit(VisitDimension::Browser) => &["browser"],
            Dimension::Visit(VisitDimension::BrowserVersion) => &["browser_version"],
            Dimension::Visit(VisitDimension::Os) => &["operating_system"],
            Dimension::Visit(VisitDimension::OsVersion) => &["operating_system_version"],
            Dimension::Visit(VisitDimension::Country) => &["country_code"],
            // name and timestamp are always read; visit properties come from the visits
            _ => &[],
        };
        for column in needed {
            if !columns.contains(column) {
                columns.push(column);
            }
        }
    }
    columns
}

/// The main statement: one row per group, the dimensions then [`COMPONENTS`].
pub fn statement(query: &Query, site: &Site, range: &Resolved) -> Sql {
    let path = path(query);
    let mut b = Builder {
        sql: Sql::default(),
        site,
        tz_p: String::new(),
        goal_dimension: query
            .dimensions
            .contains(&Dimension::Event(EventDimension::Goal)),
    };
    b.tz_p = b.sql.bind("String", &site.timezone);
    let site_p = b.sql.bind("String", &site.domain);
    let from_p = b.sql.bind("UInt32", &range.from.to_string());
    let to_p = b.sql.bind("UInt32", &range.to.to_string());

    if path == Path::Rollup {
        return rollup(b, query, range, &site_p, &from_p, &to_p);
    }
    let rows = format!(
        "SELECT {} FROM events WHERE site_domain = {site_p} \
         AND timestamp >= toDateTime({from_p}, 'UTC') AND timestamp < toDateTime({to_p}, 'UTC')",
        event_columns(query).join(", ")
    );
    let source = match path {
        Path::Events | Path::Rollup => rows,
        Path::Visits => format!(
            "SELECT * FROM ({}) WHERE s_active > 0 AND s_first_active < toDateTime({to_p}, 'UTC') \
             AND s_last_active >= toDateTime({from_p}, 'UTC')",
            stored_visits(&site_p, &from_p, &to_p, true)
        ),
        // each event's visit: the visitor's latest visit started at or
        // before it. Top-level filters on visit properties are applied to
        // the visits first (a smaller join); then only events inside a
        // matching visit may join, hence the end check.
        Path::General => {
            let visit_only = |f: &Filter| !f.mentions(|d| !is_visit_level(d));
            let pushed: Vec<Filter> = query
                .filters
                .iter()
                .filter(|f| visit_only(f))
                .cloned()
                .collect();
            let visits = stored_visits(&site_p, &from_p, &to_p, false);
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
    };

    let dims: Vec<String> = query
        .dimensions
        .iter()
        .map(|d| b.dimension(d, range))
        .collect();
    // a breakdown by goal reads only the events that complete one
    let source = if b.goal_dimension && path != Path::Visits {
        let goals = site.goals.clone();
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
        goal_join(&mut b)
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
        if names.is_empty() {
            String::new()
        } else {
            format!(" HAVING {condition}")
        }
    };
    let scroll = query.metrics.contains(&Metric::ScrollDepth);
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
                     count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total"
                        .into(),
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
                     count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total"
                        .into(),
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
                 maxIf(scroll_depth, name = 'engagement') AS sd2, countIf(name = 'engagement') > 0 AS hsd2 \
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
                 sumIf(spv2, a2 > 0) AS spv3, max(sd2) AS sd3, max(hsd2) AS hsd3 FROM ({l2}){}",
                lead("visitor_id"),
                group("visitor_id"),
            );
            format!(
                "SELECT {} FROM ({l3}){}{}",
                lead(if path == Path::General {
                    "countIf(a3 > 0) AS visitors, sum(visits3) AS visits, sum(pv3) AS pageviews, \
                     sum(ev3) AS events, sum(b3) AS bounces, sum(dur3) AS duration, \
                     sum(spv3) AS visit_pageviews, sumIf(sd3, hsd3) AS scroll_sum, \
                     countIf(hsd3) AS scroll_count, count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total"
                } else {
                    "countIf(a3 > 0) AS visitors, 0 AS visits, sum(pv3) AS pageviews, \
                     sum(ev3) AS events, 0 AS bounces, 0 AS duration, 0 AS visit_pageviews, \
                     sumIf(sd3, hsd3) AS scroll_sum, countIf(hsd3) AS scroll_count, \
                     count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total"
                }),
                group(""),
                having("sum(a3) > 0"),
            )
        }
    };
    finish(b, query, &names, result)
}

/// The goals a row completes, as the `goal` column (rows completing none
/// are dropped), for a breakdown by `event:goal`.
fn goal_join(b: &mut Builder) -> String {
    let goals = b.site.goals.clone();
    let items: Vec<String> = goals
        .iter()
        .map(|goal| {
            let completes = b.goal_condition(goal);
            let name_p = b.sql.bind("String", &goal.display_name());
            format!("if({completes}, {name_p}, '')")
        })
        .collect();
    format!(
        " ARRAY JOIN arrayFilter(g -> g != '', CAST([{}], 'Array(String)')) AS goal",
        items.join(", ")
    )
}

/// [`Path::Rollup`]: per group and UTC day, unique visitors and counts —
/// from `page_days` for the days wholly inside the range, from `events` for
/// the (at most two) days the range cuts — then summed over the days. The
/// sum is exact because a visitor id lives one UTC day.
fn rollup(
    mut b: Builder,
    query: &Query,
    range: &Resolved,
    site_p: &str,
    from_p: &str,
    to_p: &str,
) -> Sql {
    let dimension = b.dimension(&query.dimensions[0], range);
    let goal_join = if b.goal_dimension {
        goal_join(&mut b)
    } else {
        String::new()
    };
    // whole days: from the first UTC midnight at or after `from` to the last at or before `to`
    let first = format!("toDate(toDateTime({from_p}, 'UTC') + 86399)");
    let end = format!("toDate(toDateTime({to_p}, 'UTC'))");
    let stored = format!(
        "SELECT {dimension} AS d0, date AS day, uniqExactMerge(visitors) AS v, \
         sumIf(events, name = 'pageview') AS pv, sum(events) AS ev \
         FROM page_days{goal_join} WHERE site_domain = {site_p} AND date >= {first} AND date < {end} \
         GROUP BY d0, day"
    );
    let cut = format!(
        "SELECT {dimension} AS d0, toDate(timestamp) AS day, uniqExact(visitor_id) AS v, \
         countIf(name = 'pageview') AS pv, count() AS ev \
         FROM (SELECT timestamp, name, visitor_id, pathname FROM events WHERE site_domain = {site_p} \
         AND timestamp >= toDateTime({from_p}, 'UTC') AND timestamp < toDateTime({to_p}, 'UTC') \
         AND name != 'engagement' AND NOT (toDate(timestamp) >= {first} AND toDate(timestamp) < {end})){goal_join} \
         GROUP BY d0, day"
    );
    let result = format!(
        "SELECT d0, sum(v) AS visitors, 0 AS visits, sum(pv) AS pageviews, sum(ev) AS events, \
         0 AS bounces, 0 AS duration, 0 AS visit_pageviews, 0 AS scroll_sum, 0 AS scroll_count, \
         count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total \
         FROM ({stored} UNION ALL {cut}) GROUP BY d0"
    );
    finish(b, query, &["d0".to_string()], result)
}

/// The order and the page.
fn finish(mut b: Builder, query: &Query, names: &[String], result: String) -> Sql {
    let order = order_by(query, names);
    let limit_p = b.sql.bind("UInt64", &query.limit.to_string());
    let offset_p = b.sql.bind("UInt64", &query.offset.to_string());
    b.sql.text = format!("{result} ORDER BY {order} LIMIT {limit_p} OFFSET {offset_p}");
    b.sql
}

/// The metric's sort expression over L4's components (ratios as the same
/// floating-point division [`answer`](super::answer) makes).
pub fn metric_order(metric: Metric) -> &'static str {
    match metric {
        Metric::Visitors | Metric::Percentage | Metric::ConversionRate => "visitors",
        Metric::Visits => "visits",
        Metric::Pageviews => "pageviews",
        Metric::Events => "events",
        Metric::BounceRate => "if(visits = 0, 0, bounces * 100 / visits)",
        Metric::VisitDuration => "if(visits = 0, 0, duration / visits)",
        Metric::ViewsPerVisit => "if(visits = 0, 0, visit_pageviews / visits)",
        Metric::ScrollDepth => "if(scroll_count = 0, 0, scroll_sum / scroll_count)",
    }
}

/// The query's order, then every dimension ascending, so that ties (and so
/// pages) are always cut the same way. Without an order: time ascending,
/// else the first metric descending.
fn order_by(query: &Query, names: &[String]) -> String {
    let mut keys: Vec<String> = query
        .order_by
        .iter()
        .map(|(key, direction)| {
            let expression = match key {
                OrderKey::Metric(m) => metric_order(*m).to_string(),
                OrderKey::Dimension(d) => {
                    let i = query.dimensions.iter().position(|x| x == d).unwrap_or(0);
                    names.get(i).cloned().unwrap_or_else(|| "1".into())
                }
            };
            let dir = match direction {
                Direction::Asc => "ASC",
                Direction::Desc => "DESC",
            };
            format!("{expression} {dir}")
        })
        .collect();
    if query.order_by.is_empty() {
        match query.dimensions.iter().position(Dimension::is_time) {
            Some(i) => keys.push(format!("{} ASC", names[i])),
            None => keys.push(format!("{} DESC", metric_order(query.metrics[0]))),
        }
    }
    keys.extend(names.iter().map(|n| format!("{n} ASC")));
    keys.join(", ")
}

/// Whether every visitor is in exactly one group of `query`'s dimensions:
/// the visitor's own properties (the visitor id hashes User-Agent and IP,
/// so device, browser, OS and country are the same on all its events). The
/// groups' visitors then add up to the total `percentage` divides by.
pub fn partitions_visitors(query: &Query) -> bool {
    !query.dimensions.is_empty()
        && query.dimensions.iter().all(|d| {
            matches!(
                d,
                Dimension::Visit(
                    VisitDimension::Device
                        | VisitDimension::Browser
                        | VisitDimension::BrowserVersion
                        | VisitDimension::Os
                        | VisitDimension::OsVersion
                        | VisitDimension::Country
                )
            )
        })
}

/// The query whose visitors divide a group's for `percentage` (no
/// dimensions) or `conversion_rate` (no goal dimension, no goal filter).
pub fn total_query(query: &Query, for_conversions: bool) -> Query {
    let mut total = query.clone();
    total.metrics = vec![Metric::Visitors];
    total.order_by.clear();
    total.time_labels = false;
    total.limit = super::query::MAX_LIMIT * 10;
    total.offset = 0;
    if for_conversions {
        let goal = Dimension::Event(EventDimension::Goal);
        total.dimensions.retain(|d| *d != goal);
        total
            .filters
            .retain(|f| !matches!(f, Filter::Condition { dimension, .. } if *dimension == goal));
    } else {
        total.dimensions.clear();
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Retention;

    fn site() -> Site {
        Site {
            domain: "backstage.example".into(),
            timezone: "Europe/Berlin".into(),
            retention: Retention::Indefinite,
            goals: vec![
                Goal::Event {
                    event_name: "Deploy Application".into(),
                },
                Goal::Page {
                    page_path: "/docs/**".into(),
                },
            ],
            props: vec![],
        }
    }

    fn range() -> Resolved {
        Resolved {
            from: 1_774_738_800,
            to: 1_774_825_200,
            from_local: String::new(),
            to_local: String::new(),
        }
    }

    #[test]
    fn page_patterns_are_anchored_globs() {
        assert_eq!(page_pattern("/docs/**"), "^/docs/.*$");
        assert_eq!(page_pattern("/catalog/*/about"), "^/catalog/[^/]*/about$");
        assert_eq!(page_pattern("/a.b?(c)"), "^/a\\.b\\?\\(c\\)$");
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
        let query = super::super::query::parse(body.to_string().as_bytes()).unwrap();
        let sql = statement(&query, &site(), &range());
        assert!(!sql.text.contains("DROP") && !sql.text.contains("1=1"));
        assert!(!sql.text.contains("Deploy") && !sql.text.contains("docs"));
        assert!(sql.params.iter().filter(|(_, v)| v == hostile).count() >= 4);
    }

    #[test]
    fn each_query_takes_the_cheapest_exact_path() {
        let parse = |body: serde_json::Value| {
            super::super::query::parse(body.to_string().as_bytes()).unwrap()
        };
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
        assert!(statement(&top_pages, &site(), &range())
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

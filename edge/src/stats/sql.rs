//! A validated [`Query`] into ClickHouse SQL. Every value from the request
//! or the settings is a bound parameter (`{p0:String}`, sent as `param_p0`):
//! the SQL text holds only names from [`schema`](super::schema) and this file.
//!
//! The statement's stages, innermost first:
//!
//! ```text
//! L0 rows      the site's events in [from, to)
//! L1 visits    (only when asked) each row's visit: a visitor's events with
//!              gaps ≤ 30 min; the visit's entry/exit page, source, UTM,
//!              pageviews, interactions, start and end on every row
//! L2 filter    WHERE the filters; GROUP BY dimensions, visitor, visit
//! L3 visitor   GROUP BY dimensions, visitor
//! L4 result    GROUP BY dimensions: the components every metric is made of;
//!              ORDER BY, LIMIT, OFFSET
//! ```
//!
//! Ratios (bounce rate, visit duration, views per visit, scroll depth,
//! percentage, conversion rate) are made from L4's integer components by
//! [`answer`](super::answer), so that rounding is done once, in Rust.

use super::query::{Direction, Filter, OrderKey, Query};
use super::range::{auto_granularity, bucket, Resolved};
use super::schema::{Dimension, EventDimension, Granularity, Metric, Operator, VisitDimension};
use crate::settings::{Goal, Site};

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

/// A visit ends after this many seconds without an event (Plausible's 30 minutes).
pub const VISIT_GAP_SECONDS: u32 = 1800;

/// L4's columns after the dimensions, in order: what [`answer`](super::answer) reads.
pub const COMPONENTS: [&str; 10] = [
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
];

/// Whether the query needs L1 (visits): a visit metric, or a dimension or
/// filter that is a property of the visit rather than of the event.
pub fn needs_visits(query: &Query) -> bool {
    let visit_metric = query.metrics.iter().any(|m| {
        matches!(
            m,
            Metric::Visits | Metric::BounceRate | Metric::VisitDuration | Metric::ViewsPerVisit
        )
    });
    visit_metric
        || query.dimensions.iter().any(is_visit_level)
        || query.filters.iter().any(filter_needs_visits)
}

fn filter_needs_visits(filter: &Filter) -> bool {
    match filter {
        Filter::Condition { dimension, .. } => is_visit_level(dimension),
        Filter::And(list) | Filter::Or(list) => list.iter().any(filter_needs_visits),
        Filter::Not(inner) => filter_needs_visits(inner),
    }
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
    visits: bool,
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

/// The main statement: one row per group, the dimensions then [`COMPONENTS`].
pub fn statement(query: &Query, site: &Site, range: &Resolved) -> Sql {
    let mut b = Builder {
        sql: Sql::default(),
        site,
        tz_p: String::new(),
        visits: needs_visits(query),
        goal_dimension: query
            .dimensions
            .contains(&Dimension::Event(EventDimension::Goal)),
    };
    b.tz_p = b.sql.bind("String", &site.timezone);
    let site_p = b.sql.bind("String", &site.domain);
    let from_p = b.sql.bind("UInt32", &range.from.to_string());
    let to_p = b.sql.bind("UInt32", &range.to.to_string());

    let rows = format!(
        "SELECT timestamp, name, visitor_id, hostname, pathname, referrer, referrer_source, \
         utm_medium, utm_source, utm_campaign, utm_content, utm_term, country_code, device, \
         browser, browser_version, operating_system, operating_system_version, `meta.key`, \
         `meta.value`, scroll_depth, interactive \
         FROM events WHERE site_domain = {site_p} \
         AND timestamp >= toDateTime({from_p}, 'UTC') AND timestamp < toDateTime({to_p}, 'UTC')"
    );
    let rows = if b.visits {
        visits(&rows)
    } else {
        format!("SELECT *, 0 AS session_no FROM ({rows})")
    };

    let dims: Vec<String> = query
        .dimensions
        .iter()
        .map(|d| b.dimension(d, range))
        .collect();
    let goal_join = if b.goal_dimension {
        let goals = site.goals.clone();
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
    // each stage names its columns apart (…2, …3): a ClickHouse alias would
    // otherwise shadow the column of the same name inside its own aggregate
    let visit_columns = if b.visits {
        "any(s_pageviews) AS spv2, any(s_pageviews = 1 AND s_interactions = 0) AS bounced2, \
         any(dateDiff('second', s_start, s_end)) AS dur2"
    } else {
        "0 AS spv2, 0 AS bounced2, 0 AS dur2"
    };
    let l2 = format!(
        "SELECT {}, countIf(name != 'engagement') AS a2, countIf(name = 'pageview') AS pv2, \
         countIf(name NOT IN ('pageview', 'engagement')) AS ev2, {visit_columns}, \
         maxIf(scroll_depth, name = 'engagement') AS sd2, countIf(name = 'engagement') > 0 AS hsd2 \
         FROM ({rows}){goal_join} WHERE {filter}{}",
        {
            let mut s = selected.clone();
            s.push("visitor_id".into());
            s.push("session_no".into());
            s.join(", ")
        },
        group("visitor_id,session_no"),
    );
    let l3 = format!(
        "SELECT {}, countIf(a2 > 0) AS visits3, sum(a2) AS a3, sum(pv2) AS pv3, sum(ev2) AS ev3, \
         countIf(a2 > 0 AND bounced2) AS b3, sumIf(dur2, a2 > 0) AS dur3, \
         sumIf(spv2, a2 > 0) AS spv3, max(sd2) AS sd3, max(hsd2) AS hsd3 FROM ({l2}){}",
        lead("visitor_id"),
        group("visitor_id"),
    );
    let having = if names.is_empty() {
        ""
    } else {
        " HAVING sum(a3) > 0"
    };
    let l4 = format!(
        "SELECT {} FROM ({l3}){}{having}",
        lead(
            "countIf(a3 > 0) AS visitors, sum(visits3) AS visits, sum(pv3) AS pageviews, \
             sum(ev3) AS events, sum(b3) AS bounces, sum(dur3) AS duration, \
             sum(spv3) AS visit_pageviews, sumIf(sd3, hsd3) AS scroll_sum, \
             countIf(hsd3) AS scroll_count, count() OVER () AS total_rows"
        ),
        group(""),
    );
    let order = order_by(query, &names);
    let limit_p = b.sql.bind("UInt64", &query.limit.to_string());
    let offset_p = b.sql.bind("UInt64", &query.offset.to_string());
    b.sql.text = format!("{l4} ORDER BY {order} LIMIT {limit_p} OFFSET {offset_p}");
    b.sql
}

/// L1: the rows with their visit's number and properties (window functions
/// over each visitor's events in time order).
fn visits(rows: &str) -> String {
    let gap = VISIT_GAP_SECONDS;
    // a visit starts at a visitor's first event and after every gap; events
    // of one second share a visit (RANGE counts the tied rows together)
    let flagged = format!(
        "SELECT *, ifNull(toUInt32(dateDiff('second', lagInFrame(toNullable(timestamp)) OVER \
         (PARTITION BY visitor_id ORDER BY timestamp ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), \
         timestamp) > {gap}), 1) AS is_new FROM ({rows})"
    );
    let numbered = format!(
        "SELECT *, sum(is_new) OVER (PARTITION BY visitor_id ORDER BY timestamp \
         RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no FROM ({flagged})"
    );
    // the first (last) interactive event of the visit, ties broken by name,
    // path and then the value itself, so the answer is one and the same
    let first = |column: &str| {
        format!(
            "argMinIf({column}, (timestamp, name, pathname, {column}), name != 'engagement') OVER s AS s_{column}"
        )
    };
    format!(
        "SELECT *, min(timestamp) OVER s AS s_start, max(timestamp) OVER s AS s_end, \
         countIf(name = 'pageview') OVER s AS s_pageviews, \
         countIf(name NOT IN ('pageview', 'engagement') AND interactive) OVER s AS s_interactions, \
         argMinIf(pathname, (timestamp, name, pathname), name != 'engagement') OVER s AS s_entry_page, \
         argMaxIf(pathname, (timestamp, name, pathname), name != 'engagement') OVER s AS s_exit_page, \
         {}, {}, {}, {}, {}, {}, {} \
         FROM ({numbered}) WINDOW s AS (PARTITION BY visitor_id, session_no)",
        first("referrer_source").replace("s_referrer_source", "s_source"),
        first("referrer"),
        first("utm_medium"),
        first("utm_source"),
        first("utm_campaign"),
        first("utm_content"),
        first("utm_term"),
    )
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
    fn parameter_values_escape_what_clickhouse_unescapes() {
        assert_eq!(escaped_param("a\\'b\tc\nd"), "a\\\\'b\\tc\\nd");
        assert_eq!(
            escaped_param("plain / 'quoted' %00"),
            "plain / 'quoted' %00"
        );
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
    fn visits_are_computed_only_when_asked() {
        let parse = |body: serde_json::Value| {
            super::super::query::parse(body.to_string().as_bytes()).unwrap()
        };
        let events_only = parse(
            serde_json::json!({"site_id": "s", "metrics": ["visitors", "pageviews"], "date_range": "day", "dimensions": ["visit:browser"]}),
        );
        assert!(!needs_visits(&events_only));
        assert!(!statement(&events_only, &site(), &range())
            .text
            .contains("lagInFrame"));
        let by_source = parse(
            serde_json::json!({"site_id": "s", "metrics": ["visitors"], "date_range": "day", "filters": [["is", "visit:source", ["Google"]]]}),
        );
        assert!(needs_visits(&by_source));
    }
}

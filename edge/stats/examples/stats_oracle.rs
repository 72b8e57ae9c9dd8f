//! The Stats API's brute-force oracle: the answers to Stats API queries
//! computed by looping over the events in plain Rust — its own visits, goals,
//! filters, time zones (chrono-tz) and regular expressions (regex) — so that
//! the end-to-end tests can compare ClickHouse's answers with answers made
//! another way. Shares only the request parser with the Worker.
//!
//! Usage: cargo run -p stats --example stats_oracle -- <input.json>
//! input: `{"sites": [Site], "events": [Row], "queries": [{"body": body, "now": <unix seconds>}]}`,
//! each query with the time it was sent (its named range ends with that day)
//! output (stdout): one `{"results", "meta"}` or `{"error"}` per query; for a
//! funnel body (with `steps`), `{"funnel"}`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use model::funnel::Step;
use model::row::Row;
use model::settings::{Goal, Site};
use serde_json::{json, Value};
use stats::funnel::Funnel;
use stats::query::{parse, DateRange, Direction, Filter, OrderKey, Query};
use stats::schema::{Dimension, EventDimension, Granularity, Metric, Operator, VisitDimension};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(serde::Deserialize)]
struct Input {
    sites: Vec<Site>,
    events: Vec<Row>,
    queries: Vec<Sent>,
}

/// A query as the Worker got it: its body, and when it was sent.
#[derive(serde::Deserialize)]
struct Sent {
    body: Value,
    now: i64,
}

/// An event with its time and its visit.
struct Event<'a> {
    row: &'a Row,
    at: i64,
    visit: usize,
}

/// A visit as the oracle sees it.
#[derive(Default)]
struct Visit {
    start: i64,
    end: i64,
    pageviews: u64,
    interactions: u64,
    entry_page: String,
    exit_page: String,
    source: String,
    referrer: String,
    utm: [String; 5],
    channel: String,
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: stats_oracle <input.json>");
    let input: Input = serde_json::from_str(&std::fs::read_to_string(path).expect("read input"))
        .expect("parse input");
    let answers: Vec<Value> = input
        .queries
        .iter()
        .map(|sent| {
            // a body with steps is a funnel (`POST /api/v2/funnel`)
            if sent.body.get("steps").is_some() {
                return match stats::funnel::parse(sent.body.to_string().as_bytes()) {
                    Err(e) => json!({ "error": e.0 }),
                    Ok(funnel) => match input
                        .sites
                        .iter()
                        .find(|s| s.domain == funnel.query.site_id)
                    {
                        None => json!({ "error": "no such site" }),
                        Some(site) => funnel_answer(&funnel, site, &input.events, sent.now),
                    },
                };
            }
            match parse(sent.body.to_string().as_bytes()) {
                Err(e) => json!({ "error": e.0 }),
                Ok(query) => match input.sites.iter().find(|s| s.domain == query.site_id) {
                    None => json!({ "error": "no such site" }),
                    Some(site) => answer(&query, site, &input.events, sent.now),
                },
            }
        })
        .collect();
    println!("{}", serde_json::to_string(&answers).expect("json"));
}

fn seconds(timestamp: &str) -> i64 {
    NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%d %H:%M:%S")
        .expect("timestamp")
        .and_utc()
        .timestamp()
}

fn local_midnight(tz: Tz, day: NaiveDate) -> i64 {
    // the earliest instant of that local day (a DST gap never falls at midnight in the zones tested)
    tz.from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .expect("local midnight exists")
        .timestamp()
}

fn first_of_month(day: NaiveDate, months_back: i32) -> NaiveDate {
    let index = day.year() * 12 + day.month0() as i32 - months_back;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .expect("month")
}

/// `[from, to)` in Unix seconds.
fn resolve(range: &DateRange, tz: Tz, now: i64, first_event: Option<i64>) -> (i64, i64) {
    let today = Utc
        .timestamp_opt(now, 0)
        .unwrap()
        .with_timezone(&tz)
        .date_naive();
    let days = |first: NaiveDate, last: NaiveDate| {
        (
            local_midnight(tz, first),
            local_midnight(tz, last + Duration::days(1)),
        )
    };
    let last_of_month = first_of_month(today, -1) - Duration::days(1);
    match range {
        DateRange::Named("day") => days(today, today),
        DateRange::Named("7d") => days(today - Duration::days(6), today),
        DateRange::Named("30d") => days(today - Duration::days(29), today),
        DateRange::Named("month") => days(first_of_month(today, 0), last_of_month),
        DateRange::Named("6mo") => days(first_of_month(today, 5), last_of_month),
        DateRange::Named("12mo") => days(first_of_month(today, 11), last_of_month),
        DateRange::Named("year") => days(
            NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap(),
        ),
        DateRange::Named(_) => {
            let first = first_event
                .map(|t| {
                    Utc.timestamp_opt(t, 0)
                        .unwrap()
                        .with_timezone(&tz)
                        .date_naive()
                })
                .map_or(today, |d| d.min(today));
            days(first, today)
        }
        DateRange::Between { from, to } if from.len() == 10 => days(
            NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap(),
            NaiveDate::parse_from_str(to, "%Y-%m-%d").unwrap(),
        ),
        DateRange::Between { from, to } => {
            let instant = |s: &str| {
                DateTime::parse_from_rfc3339(s)
                    .map(|d| d.timestamp())
                    .unwrap_or_else(|_| {
                        let naive =
                            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").unwrap();
                        tz.from_local_datetime(&naive)
                            .earliest()
                            .unwrap()
                            .timestamp()
                    })
            };
            (instant(from), instant(to) + 1)
        }
    }
}

fn granularity(g: Granularity, from: i64, to: i64) -> Granularity {
    match g {
        Granularity::Auto if to - from <= 2 * 86_400 => Granularity::Hour,
        Granularity::Auto if to - from <= 92 * 86_400 => Granularity::Day,
        Granularity::Auto => Granularity::Month,
        g => g,
    }
}

fn bucket(g: Granularity, at: i64, tz: Tz) -> String {
    let local = Utc.timestamp_opt(at, 0).unwrap().with_timezone(&tz);
    let day = local.date_naive();
    match g {
        Granularity::Hour | Granularity::Auto => format!("{} {:02}:00:00", day, local.hour()),
        Granularity::Day => day.to_string(),
        Granularity::Week => {
            (day - Duration::days(day.weekday().num_days_from_monday() as i64)).to_string()
        }
        Granularity::Month => first_of_month(day, 0).to_string(),
    }
}

/// Splits each visitor-day's events (a visitor id lives one UTC day) into
/// visits: a gap of more than 30 minutes starts a new one.
fn visits<'a>(rows: &[&'a Row]) -> (Vec<Event<'a>>, Vec<Visit>) {
    let mut by_visitor: BTreeMap<(u64, &str), Vec<&Row>> = BTreeMap::new();
    for row in rows {
        by_visitor
            .entry((row.visitor_id, &row.timestamp[..10]))
            .or_default()
            .push(row);
    }
    let mut events = Vec::new();
    let mut all_visits = Vec::new();
    for (_, mut list) in by_visitor {
        list.sort_by_key(|r| seconds(&r.timestamp));
        let mut previous: Option<i64> = None;
        for row in list {
            let at = seconds(&row.timestamp);
            if previous.is_none_or(|p| at - p > 1800) {
                all_visits.push(Visit {
                    start: at,
                    ..Visit::default()
                });
            }
            previous = Some(at);
            let index = all_visits.len() - 1;
            events.push(Event {
                row,
                at,
                visit: index,
            });
        }
    }
    for (index, visit) in all_visits.iter_mut().enumerate() {
        let members: Vec<&Event> = events.iter().filter(|e| e.visit == index).collect();
        visit.end = members.iter().map(|e| e.at).max().unwrap();
        visit.pageviews = members.iter().filter(|e| e.row.name == "pageview").count() as u64;
        visit.interactions = members
            .iter()
            .filter(|e| {
                !["pageview", "engagement"].contains(&e.row.name.as_str()) && e.row.interactive
            })
            .count() as u64;
        let mut views: Vec<&&Event> = members
            .iter()
            .filter(|e| e.row.name == "pageview")
            .collect();
        views.sort_by(|a, b| (a.at, &a.row.pathname).cmp(&(b.at, &b.row.pathname)));
        if let (Some(first), Some(last)) = (views.first(), views.last()) {
            visit.entry_page = first.row.pathname.clone();
            visit.exit_page = last.row.pathname.clone();
        }
        // the first interactive event: pageviews first within a second, then by name and path
        let order = |e: &Event| {
            (
                e.at,
                e.row.name != "pageview",
                e.row.name.clone(),
                e.row.pathname.clone(),
            )
        };
        let Some(first) = members
            .iter()
            .filter(|e| e.row.name != "engagement")
            .map(|e| order(e))
            .min()
        else {
            continue;
        };
        // among events tied for first, the smallest value (as the SQL's argMin)
        let tied: Vec<&Row> = members
            .iter()
            .filter(|e| e.row.name != "engagement" && order(e) == first)
            .map(|e| e.row)
            .collect();
        let min = |f: fn(&Row) -> &String| tied.iter().map(|r| f(r).clone()).min().unwrap();
        visit.source = min(|r| &r.attribution.referrer_source);
        visit.referrer = min(|r| &r.attribution.referrer);
        visit.channel = min(|r| &r.attribution.channel);
        visit.utm = [
            min(|r| &r.attribution.utm_medium),
            min(|r| &r.attribution.utm_source),
            min(|r| &r.attribution.utm_campaign),
            min(|r| &r.attribution.utm_content),
            min(|r| &r.attribution.utm_term),
        ];
    }
    (events, all_visits)
}

/// Whether `path` matches a page goal's glob (`**` anything, `*` anything but `/`).
fn glob(pattern: &[u8], path: &[u8]) -> bool {
    match pattern {
        [] => path.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=path.len()).any(|i| glob(rest, &path[i..])),
        [b'*', rest @ ..] => (0..=path.len())
            .take_while(|i| !path[..*i].contains(&b'/'))
            .any(|i| glob(rest, &path[i..])),
        [c, rest @ ..] => path.first() == Some(c) && glob(rest, &path[1..]),
    }
}

fn completes(goal: &Goal, row: &Row) -> bool {
    match goal {
        Goal::Event { event_name } => row.name == *event_name,
        Goal::Page { page_path } => {
            row.name == "pageview" && glob(page_path.as_bytes(), row.pathname.as_bytes())
        }
    }
}

struct Context<'a> {
    site: &'a Site,
    /// The events of the range (for `has_done`).
    events: &'a [Event<'a>],
    tz: Tz,
    visits: &'a [Visit],
    from: i64,
    to: i64,
}

fn value(ctx: &Context, dimension: &Dimension, event: &Event, goal: Option<&str>) -> String {
    let row = event.row;
    let visit = &ctx.visits[event.visit];
    let direct = |s: &str| {
        if s.is_empty() {
            "Direct / None".to_string()
        } else {
            s.to_string()
        }
    };
    match dimension {
        Dimension::Event(EventDimension::Name) => row.name.clone(),
        Dimension::Event(EventDimension::Page) => row.pathname.clone(),
        Dimension::Event(EventDimension::Hostname) => row.hostname.clone(),
        Dimension::Event(EventDimension::Goal) => goal.unwrap_or_default().to_string(),
        Dimension::Prop(key) => row
            .meta_key
            .iter()
            .position(|k| k == key)
            .map_or("(none)".to_string(), |i| row.meta_value[i].clone()),
        Dimension::Visit(v) => match v {
            VisitDimension::Source => direct(&visit.source),
            VisitDimension::Referrer => direct(&visit.referrer),
            VisitDimension::UtmMedium => visit.utm[0].clone(),
            VisitDimension::UtmSource => visit.utm[1].clone(),
            VisitDimension::UtmCampaign => visit.utm[2].clone(),
            VisitDimension::UtmContent => visit.utm[3].clone(),
            VisitDimension::UtmTerm => visit.utm[4].clone(),
            VisitDimension::Device => row.device.clone(),
            VisitDimension::Browser => row.browser.clone(),
            VisitDimension::BrowserVersion => row.browser_version.clone(),
            VisitDimension::Os => row.operating_system.clone(),
            VisitDimension::OsVersion => row.operating_system_version.clone(),
            VisitDimension::Country => row.country_code.clone(),
            VisitDimension::EntryPage => visit.entry_page.clone(),
            VisitDimension::ExitPage => visit.exit_page.clone(),
            VisitDimension::Channel => visit.channel.clone(),
        },
        Dimension::Time(g) => bucket(granularity(*g, ctx.from, ctx.to), event.at, ctx.tz),
    }
}

fn compare(operator: Operator, actual: &str, values: &[String]) -> bool {
    values.iter().any(|v| match operator {
        Operator::Is | Operator::IsNot => actual == v,
        Operator::Contains | Operator::ContainsNot => actual.contains(v.as_str()),
        Operator::Matches | Operator::MatchesNot => {
            regex::Regex::new(v).is_ok_and(|r| r.is_match(actual))
        }
    })
}

fn holds(ctx: &Context, filter: &Filter, event: &Event, goal: Option<&str>) -> bool {
    match filter {
        Filter::And(list) => list.iter().all(|f| holds(ctx, f, event, goal)),
        Filter::Or(list) => list.iter().any(|f| holds(ctx, f, event, goal)),
        Filter::Not(inner) => !holds(ctx, inner, event, goal),
        Filter::HasDone { inner, negated } => {
            // the same visitor (one UTC day) has an event in range that the filter holds for
            let done = ctx.events.iter().any(|other| {
                other.row.visitor_id == event.row.visitor_id
                    && other.row.timestamp[..10] == event.row.timestamp[..10]
                    && other.row.name != "engagement"
                    && holds(ctx, inner, other, None)
            });
            done != *negated
        }
        Filter::Condition {
            operator,
            dimension,
            values,
            case_sensitive,
        } => {
            // Plausible's `{"case_sensitive": false}`: both sides in lower case
            let lower: Vec<String>;
            let values = if *case_sensitive {
                values
            } else {
                lower = values.iter().map(|v| v.to_lowercase()).collect();
                &lower
            };
            let seen = |actual: String| {
                if *case_sensitive {
                    actual
                } else {
                    actual.to_lowercase()
                }
            };
            let positive = if *dimension == Dimension::Event(EventDimension::Goal) && goal.is_none()
            {
                ctx.site.goals.iter().any(|g| {
                    completes(g, event.row) && compare(*operator, &seen(g.display_name()), values)
                })
            } else {
                compare(*operator, &seen(value(ctx, dimension, event, goal)), values)
            };
            matches!(
                operator,
                Operator::Is | Operator::Contains | Operator::Matches
            ) == positive
        }
    }
}

/// A group's dimension values, and its metrics as (sort key, shown value).
type Ranked = (Vec<String>, Vec<(f64, Value)>);

/// A group's numbers, counted the long way.
#[derive(Default)]
struct Group {
    visitors: BTreeSet<u64>,
    visits: BTreeSet<usize>,
    pageviews: u64,
    events: u64,
    scroll: HashMap<u64, u8>,
    /// The engagement events' engaged time, in milliseconds.
    engaged_ms: u64,
    /// (UTC day, visitor id) of its events that are not engagements: its
    /// visitors per day, which the minimum group size counts.
    days: BTreeSet<(i64, u64)>,
}

impl Group {
    fn daily(&self) -> BTreeMap<i64, u64> {
        let mut out = BTreeMap::new();
        for (day, _) in &self.days {
            *out.entry(*day).or_default() += 1;
        }
        out
    }
}

/// The groups of `query` that the minimum group size `k` hides, worked out
/// the long way over every group ([`stats::privacy`] states the rules; the
/// complements are its list): fewer than k visitors on every day; or a
/// complement (what one filter less differs by) with some visitors, and on
/// no day k; then, per margin, the smallest other group where one is hidden.
fn hidden_groups(
    query: &Query,
    ctx: &Context,
    events: &[Event],
    grouped: &BTreeMap<Vec<String>, Group>,
    k: u32,
) -> BTreeSet<Vec<String>> {
    hidden_by(query, ctx, events, grouped, k, true)
}

/// [`hidden_groups`], with the value clauses' check or (for a clause's own
/// breakdown, one level deep) without: a clause that keeps a value its
/// breakdown of the rest hides hides every group.
fn hidden_by(
    query: &Query,
    ctx: &Context,
    events: &[Event],
    grouped: &BTreeMap<Vec<String>, Group>,
    k: u32,
    clause_checks: bool,
) -> BTreeSet<Vec<String>> {
    if k <= 1 {
        return BTreeSet::new();
    }
    let clause_hides = clause_checks
        && stats::privacy::clause_breakdowns(query)
            .iter()
            .any(|(breakdown, clause)| {
                let Filter::Condition {
                    operator,
                    values,
                    case_sensitive,
                    ..
                } = clause
                else {
                    return false;
                };
                let rows = groups(breakdown, ctx, events);
                let hidden = hidden_by(breakdown, ctx, events, &rows, k, false);
                let lower: Vec<String>;
                let wanted: &[String] = if *case_sensitive {
                    values
                } else {
                    lower = values.iter().map(|v| v.to_lowercase()).collect();
                    &lower
                };
                hidden.iter().any(|key| {
                    let value = if *case_sensitive {
                        key[0].clone()
                    } else {
                        key[0].to_lowercase()
                    };
                    compare(*operator, &value, wanted)
                })
            });
    let complements: Vec<BTreeMap<Vec<String>, Group>> = stats::privacy::complements(query)
        .iter()
        .map(|c| groups(c, ctx, events))
        .collect();
    let size = |g: &Group| g.daily().values().copied().max().unwrap_or(0);
    let small: BTreeSet<Vec<String>> = grouped
        .iter()
        .filter(|(key, g)| {
            clause_hides
                || size(g) < u64::from(k)
                || complements.iter().any(|complement| {
                    let daily = complement.get(*key).map(Group::daily).unwrap_or_default();
                    stats::privacy::differ_by_few(daily.into_values(), k)
                })
        })
        .map(|(key, _)| key.clone())
        .collect();
    // a group only a complement has, of some visitors but on no day k: a
    // whole small group the filter removed, which the complementary rule
    // must cover as if it were hidden here
    let mut phantoms: BTreeSet<Vec<String>> = BTreeSet::new();
    for complement in &complements {
        for (key, g) in complement {
            if !grouped.contains_key(key)
                && stats::privacy::differ_by_few(g.daily().into_values(), k)
            {
                phantoms.insert(key.clone());
            }
        }
    }
    let mut hidden = small.clone();
    for j in 0..query.dimensions.len() {
        let margin = |key: &Vec<String>| -> Vec<String> {
            key.iter()
                .enumerate()
                .filter(|(i, _)| *i != j)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let margins: BTreeSet<Vec<String>> = small.iter().chain(&phantoms).map(margin).collect();
        for m in margins {
            let smallest = grouped
                .iter()
                .filter(|(key, _)| margin(key) == m && !small.contains(*key))
                .min_by(|a, b| size(a.1).cmp(&size(b.1)).then_with(|| a.0.cmp(b.0)));
            if let Some((key, _)) = smallest {
                hidden.insert(key.clone());
            }
        }
    }
    hidden
}

fn groups(query: &Query, ctx: &Context, events: &[Event]) -> BTreeMap<Vec<String>, Group> {
    let goal_dimension = query
        .dimensions
        .contains(&Dimension::Event(EventDimension::Goal));
    let mut out: BTreeMap<Vec<String>, Group> = BTreeMap::new();
    for event in events {
        let goals: Vec<Option<String>> = if goal_dimension {
            ctx.site
                .goals
                .iter()
                .filter(|g| completes(g, event.row))
                .map(|g| Some(g.display_name()))
                .collect()
        } else {
            vec![None]
        };
        for goal in goals {
            let goal = goal.as_deref();
            if !query.filters.iter().all(|f| holds(ctx, f, event, goal)) {
                continue;
            }
            let key: Vec<String> = query
                .dimensions
                .iter()
                .map(|d| value(ctx, d, event, goal))
                .collect();
            let group = out.entry(key).or_default();
            let row = event.row;
            match row.name.as_str() {
                "engagement" => {
                    let best = group.scroll.entry(row.visitor_id).or_default();
                    *best = (*best).max(row.scroll_depth);
                    group.engaged_ms += u64::from(row.engagement_time);
                }
                name => {
                    group.visitors.insert(row.visitor_id);
                    group
                        .days
                        .insert((event.at.div_euclid(86_400), row.visitor_id));
                    group.visits.insert(event.visit);
                    // Plausible's `events`: pageviews and custom events
                    group.events += 1;
                    if name == "pageview" {
                        group.pageviews += 1;
                    }
                }
            }
        }
    }
    if !query.dimensions.is_empty() {
        out.retain(|_, g| !g.visitors.is_empty());
    } else {
        out.entry(Vec::new()).or_default();
    }
    out
}

fn ratio(numerator: u64, denominator: u64, scale: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        (numerator * scale) as f64 / denominator as f64
    }
}

/// A metric as the sort key (unrounded) and as the answer shows it.
fn metric(m: Metric, g: &Group, visits: &[Visit], total: u64, k: u32) -> (f64, Value) {
    // an average over engaged visitors: not below k of them
    if matches!(m, Metric::ScrollDepth | Metric::TimeOnPage)
        && k > 1
        && (g.scroll.len() as u64) < u64::from(k)
    {
        return (0.0, Value::Null);
    }
    let in_visits = |f: fn(&Visit) -> u64| g.visits.iter().map(|i| f(&visits[*i])).sum::<u64>();
    let n_visits = g.visits.len() as u64;
    let scroll_sum: u64 = g.scroll.values().map(|s| *s as u64).sum();
    let whole = |x: f64| (x, json!(x.round() as u64));
    let round = |x: f64, d: i32| (x, json!((x * 10f64.powi(d)).round() / 10f64.powi(d)));
    match m {
        Metric::Visitors => whole(g.visitors.len() as f64),
        Metric::Visits => whole(n_visits as f64),
        Metric::Pageviews => whole(g.pageviews as f64),
        Metric::Events => whole(g.events as f64),
        Metric::BounceRate => whole(ratio(
            in_visits(|v| (v.pageviews == 1 && v.interactions == 0) as u64),
            n_visits,
            100,
        )),
        Metric::VisitDuration => whole(ratio(in_visits(|v| (v.end - v.start) as u64), n_visits, 1)),
        Metric::ViewsPerVisit => round(ratio(in_visits(|v| v.pageviews), n_visits, 1), 2),
        Metric::ScrollDepth if g.scroll.is_empty() => (0.0, Value::Null),
        Metric::ScrollDepth => whole(ratio(scroll_sum, g.scroll.len() as u64, 1)),
        Metric::TimeOnPage if g.scroll.is_empty() => (0.0, Value::Null),
        Metric::TimeOnPage => whole(ratio(g.engaged_ms, g.scroll.len() as u64, 1) / 1000.0),
        Metric::Percentage => round(ratio(g.visitors.len() as u64, total, 100), 1),
        Metric::ConversionRate | Metric::GroupConversionRate => {
            round(ratio(g.visitors.len() as u64, total, 100), 2)
        }
    }
}

/// A site's events in a date range, each with its visit (visits are whole:
/// all the visitor-day's events; the range picks events), and the range.
struct Ranged<'a> {
    events: Vec<Event<'a>>,
    visits: Vec<Visit>,
    tz: Tz,
    from: i64,
    to: i64,
}

impl<'a> Ranged<'a> {
    fn of(site: &Site, all: &'a [Row], range: &DateRange, now: i64) -> Ranged<'a> {
        let tz: Tz = site.timezone.parse().expect("time zone");
        let mine: Vec<&Row> = all
            .iter()
            .filter(|r| r.site_domain == site.domain)
            .collect();
        let first = mine.iter().map(|r| seconds(&r.timestamp)).min();
        let (from, to) = resolve(range, tz, now, first);
        let (mut events, visits) = visits(&mine);
        events.retain(|e| (from..to).contains(&e.at));
        Ranged {
            events,
            visits,
            tz,
            from,
            to,
        }
    }

    fn context<'b>(&'b self, site: &'b Site) -> Context<'b> {
        Context {
            site,
            events: &self.events,
            tz: self.tz,
            visits: &self.visits,
            from: self.from,
            to: self.to,
        }
    }
}

fn answer(query: &Query, site: &Site, all: &[Row], now: i64) -> Value {
    let ranged = Ranged::of(site, all, &query.date_range, now);
    let (ctx, events, visit_list) = (ranged.context(site), &ranged.events, &ranged.visits);
    let (tz, from, to) = (ranged.tz, ranged.from, ranged.to);
    let grouped = groups(query, &ctx, events);
    let k = site.min_group_size;
    let hidden = hidden_groups(query, &ctx, events, &grouped, k);
    // a total, or None where the guard hides it (a rate over it would tell it)
    let total_of = |q: &Query| -> BTreeMap<Vec<String>, Option<u64>> {
        let totals = groups(q, &ctx, events);
        let hidden = hidden_groups(q, &ctx, events, &totals, k);
        totals
            .iter()
            .map(|(key, g)| {
                let shown = !hidden.contains(key);
                (key.clone(), shown.then_some(g.visitors.len() as u64))
            })
            .collect()
    };

    // the groups partition the visitors: their sum is the total, every group's
    // (with a minimum group size, never: the sum holds hidden groups a filter
    // could difference)
    let partitions = k <= 1
        && !query.dimensions.is_empty()
        && query.dimensions.iter().all(Dimension::is_visitors_own);
    let total_visitors: Option<u64> = if partitions {
        Some(grouped.values().map(|g| g.visitors.len() as u64).sum())
    } else {
        let mut q = query.clone();
        q.dimensions.clear();
        total_of(&q).values().next().copied().unwrap_or(Some(0))
    };
    let goal = Dimension::Event(EventDimension::Goal);
    let conversion_totals: BTreeMap<Vec<String>, Option<u64>> = {
        let mut q = query.clone();
        q.dimensions.retain(|d| *d != goal);
        q.filters.retain(|f| {
            !matches!(f, Filter::Condition { dimension, .. }
                if *dimension == goal || matches!(dimension, Dimension::Prop(_)))
        });
        total_of(&q)
    };
    let goal_index = query.dimensions.iter().position(|d| *d == goal);
    // Plausible's conversion_rate: of every visitor of the range and filters but the goal's
    let conversion_total: Option<u64> = {
        let mut q = query.clone();
        q.dimensions.clear();
        q.filters.retain(|f| {
            !matches!(f, Filter::Condition { dimension, .. }
                if *dimension == goal || matches!(dimension, Dimension::Prop(_)))
        });
        total_of(&q).values().next().copied().unwrap_or(Some(0))
    };

    // a hidden group is left out, as an empty one; the top stats keep their
    // one row, metrics null
    let keeps_hidden = query.dimensions.is_empty();
    let mut rows: Vec<Ranked> = grouped
        .iter()
        .filter(|(key, _)| keeps_hidden || !hidden.contains(*key))
        .map(|(key, g)| {
            if hidden.contains(key) {
                return (
                    key.clone(),
                    query.metrics.iter().map(|_| (0.0, Value::Null)).collect(),
                );
            }
            let conversion_key: Vec<String> = key
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != goal_index)
                .map(|(_, v)| v.clone())
                .collect();
            let metrics = query
                .metrics
                .iter()
                .map(|m| {
                    let total = match m {
                        Metric::Percentage => total_visitors,
                        Metric::ConversionRate => conversion_total,
                        Metric::GroupConversionRate => conversion_totals
                            .get(&conversion_key)
                            .copied()
                            .unwrap_or(None),
                        _ => Some(0),
                    };
                    match total {
                        Some(total) => metric(*m, g, visit_list, total, k),
                        None => (metric(*m, g, visit_list, 1, k).0, Value::Null),
                    }
                })
                .collect();
            (key.clone(), metrics)
        })
        .collect();

    let mut order: Vec<(Option<usize>, Option<usize>, Direction)> = query
        .order_by
        .iter()
        .map(|(key, dir)| match key {
            OrderKey::Metric(m) => (query.metrics.iter().position(|x| x == m), None, *dir),
            OrderKey::Dimension(d) => (None, query.dimensions.iter().position(|x| x == d), *dir),
        })
        .collect();
    if order.is_empty() {
        match query.dimensions.iter().position(Dimension::is_time) {
            Some(i) => order.push((None, Some(i), Direction::Asc)),
            None => order.push((Some(0), None, Direction::Desc)),
        }
    }
    order.extend((0..query.dimensions.len()).map(|i| (None, Some(i), Direction::Asc)));
    rows.sort_by(|a, b| {
        for (metric, dimension, dir) in &order {
            let ordering = match (metric, dimension) {
                (Some(m), _) => a.1[*m].0.partial_cmp(&b.1[*m].0).unwrap(),
                (_, Some(d)) => a.0[*d].cmp(&b.0[*d]),
                _ => std::cmp::Ordering::Equal,
            };
            let ordering = if *dir == Direction::Desc {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        std::cmp::Ordering::Equal
    });
    let total_rows = rows.len();
    let results: Vec<Value> = rows
        .into_iter()
        .skip(query.offset as usize)
        .take(query.limit as usize)
        .map(|(key, metrics)| json!({ "metrics": metrics.into_iter().map(|m| m.1).collect::<Vec<_>>(), "dimensions": key }))
        .collect();
    let mut meta = serde_json::Map::new();
    if query.time_labels {
        if let Some(g) = query.dimensions.iter().find_map(|d| match d {
            Dimension::Time(g) => Some(granularity(*g, from, to)),
            _ => None,
        }) {
            let labels: BTreeSet<String> =
                (from..to).step_by(3600).map(|t| bucket(g, t, tz)).collect();
            meta.insert("time_labels".into(), json!(labels));
        }
    }
    if query.total_rows {
        meta.insert("total_rows".into(), json!(total_rows));
    }
    // how many are hidden: said only beside a shown group (or of the top stats)
    let shown_any = grouped.keys().any(|key| !hidden.contains(key));
    if !hidden.is_empty() && (keeps_hidden || shown_any) {
        meta.insert("suppressed".into(), json!(hidden.len()));
    }
    json!({ "results": results, "meta": meta })
}

/// Plausible's percentage: two decimals, 0 when either side is 0.
fn percent(part: u64, whole: u64) -> f64 {
    if part == 0 || whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 100.0 * 100.0).round() / 100.0
    }
}

fn step_completes(step: &Step, ctx: &Context, event: &Event) -> bool {
    completes(&step.goal, event.row)
        && step
            .props
            .iter()
            .all(|(key, wanted)| value(ctx, &Dimension::Prop(key.clone()), event, None) == *wanted)
}

/// A funnel the long way: each visit's events in range that match the
/// filters, in time order (in a second, by the first step each completes),
/// walked step by step.
/// Per visit's furthest step (`furthest[level]`: the visits), and per
/// visitor their UTC day and the furthest step of their visits, for the
/// funnel's steps over the events `filters` hold for.
fn walk(
    funnel: &Funnel,
    filters: &[Filter],
    ctx: &Context,
    events: &[Event],
) -> (Vec<u64>, BTreeMap<u64, (i64, usize)>) {
    let mut by_visit: BTreeMap<usize, Vec<&Event>> = BTreeMap::new();
    for event in events {
        if filters.iter().all(|f| holds(ctx, f, event, None)) {
            by_visit.entry(event.visit).or_default().push(event);
        }
    }
    let n = funnel.steps.len();
    let mut furthest = vec![0u64; n + 1];
    let mut visitor_top: BTreeMap<u64, (i64, usize)> = BTreeMap::new();
    for list in by_visit.values() {
        if list.iter().all(|e| e.row.name == "engagement") {
            continue;
        }
        let matched = |e: &Event| -> Vec<usize> {
            (0..n)
                .filter(|&i| step_completes(&funnel.steps[i], ctx, e))
                .collect()
        };
        let mut ordered: Vec<(i64, Vec<usize>)> = list
            .iter()
            .map(|e| {
                let steps = matched(e);
                (e.at * 8 + steps.first().copied().unwrap_or(0) as i64, steps)
            })
            .collect();
        ordered.sort_by_key(|(at, _)| *at);
        let mut reached = vec![false; n];
        for (_, steps) in &ordered {
            // in step order: an event completing several steps counts for each (windowFunnel)
            for &i in steps {
                if i == 0 || reached[i - 1] {
                    reached[i] = true;
                }
            }
        }
        let level = reached.iter().rposition(|r| *r).map_or(0, |i| i + 1);
        furthest[level] += 1;
        let first = list[0];
        let top = visitor_top
            .entry(first.row.visitor_id)
            .or_insert((first.at.div_euclid(86_400), 0));
        top.1 = top.1.max(level);
    }
    (furthest, visitor_top)
}

fn funnel_answer(funnel: &Funnel, site: &Site, all: &[Row], now: i64) -> Value {
    let ranged = Ranged::of(site, all, &funnel.query.date_range, now);
    let (ctx, events) = (ranged.context(site), &ranged.events);
    let n = funnel.steps.len();
    let (furthest, visitor_top) = walk(funnel, &funnel.query.filters, &ctx, events);
    let all_visits: u64 = furthest.iter().sum();
    let at = |k: usize| furthest[k..].iter().sum::<u64>();
    let entering = at(1);
    let steps: Vec<Value> = (0..n)
        .map(|i| {
            let visits = at(i + 1);
            let previous = if i == 0 { 0 } else { at(i) };
            let dropoff = if i == 0 { 0 } else { previous - visits };
            json!({
                "label": funnel.steps[i].label(),
                "visits": visits,
                "dropoff": dropoff,
                "dropoff_percentage": percent(dropoff, previous),
                "conversion_rate": percent(visits, entering),
                "conversion_rate_step": percent(visits, previous),
            })
        })
        .collect();
    let mut answer = json!({
        "funnel": {
            "steps": steps,
            "all_visits": all_visits,
            "entering_visits": entering,
            "entering_visits_percentage": percent(entering, all_visits),
            "never_entering_visits": all_visits - entering,
            "never_entering_visits_percentage": percent(all_visits - entering, all_visits),
        }
    });
    let k = site.min_group_size;
    if k > 1 {
        // the privacy rule, the long way: a step shows while its visitors
        // had k on one day, and its drop-off is none or the visits of k
        // visitors on one day whose furthest step is the one before
        let per_day = |tops: &BTreeMap<u64, (i64, usize)>, from: usize, to: usize| -> Vec<u64> {
            let mut per_day: BTreeMap<i64, u64> = BTreeMap::new();
            for (day, top) in tops.values() {
                if (from..=to).contains(top) {
                    *per_day.entry(*day).or_default() += 1;
                }
            }
            per_day.into_values().collect()
        };
        let most = |days: Vec<u64>| days.into_iter().max().unwrap_or(0);
        // what one filter less differs by: the visitors per day of its events
        // that complete a step (counted, not walked); some but on no day k
        // hides every step
        let touched = stats::privacy::complements(&funnel.query).iter().any(|c| {
            let mut seen: BTreeSet<(i64, u64)> = BTreeSet::new();
            for e in events {
                if c.filters.iter().all(|f| holds(&ctx, f, e, None))
                    && funnel
                        .steps
                        .iter()
                        .any(|step| step_completes(step, &ctx, e))
                {
                    seen.insert((e.at.div_euclid(86_400), e.row.visitor_id));
                }
            }
            let mut daily: BTreeMap<i64, u64> = BTreeMap::new();
            for (day, _) in seen {
                *daily.entry(day).or_default() += 1;
            }
            stats::privacy::differ_by_few(daily.into_values(), k)
        });
        let mut shown = if touched { 0 } else { n };
        for step in 1..=n {
            if touched {
                break;
            }
            let dropoff = step > 1 && at(step - 1) > at(step);
            if most(per_day(&visitor_top, step, n)) < u64::from(k)
                || (dropoff && most(per_day(&visitor_top, step - 1, step - 1)) < u64::from(k))
            {
                shown = step - 1;
                break;
            }
        }
        let f = &mut answer["funnel"];
        for step in f["steps"].as_array_mut().unwrap().iter_mut().skip(shown) {
            for field in stats::funnel::STEP_NUMBERS {
                step[field] = Value::Null;
            }
        }
        // the visits that never entered, and so all of them, are not counted
        // by visitors: never shown with a minimum group size
        for field in [
            "all_visits",
            "entering_visits_percentage",
            "never_entering_visits",
            "never_entering_visits_percentage",
        ] {
            f[field] = Value::Null;
        }
        if shown == 0 {
            f["entering_visits"] = Value::Null;
        }
        answer["meta"] = json!({ "min_group_size": k, "suppressed": n - shown });
    }
    answer
}

//! Funnels: `POST /api/v2/funnel`, 2–8 ordered steps, each a page goal or a
//! custom-event goal (with props), counted within a visit.
//!
//! ```text
//! body ─▶ funnel::parse ─▶ range (as a query's) ─▶ sql::funnel_statement ──(ClickHouse)──▶ funnel::answer
//! ```
//!
//! A visit reaches step k when it has events completing steps 1 … k in that
//! order (other events between them are allowed; in the same second, steps
//! count in their order; an event that completes several steps, when their
//! patterns overlap, counts for each), as ClickHouse's `windowFunnel` counts
//! them — the function Plausible's funnels use. Plausible counts per visitor within
//! 24 hours; here a visit is the unit, so "open a template → Create Service →
//! Deploy Application" means within one sitting. The visits counted are those
//! with an interactive event in the range that matches the filters, as the
//! `visits` metric counts them. Step percentages are Plausible's.

use crate::privacy::{differ_by_few, large_enough};
use crate::query::{self, fail, shown, DateRange, Filter, Query, QueryError};
use crate::range::Resolved;
use crate::schema::{Dimension, EventDimension, Metric, Operator};
use model::funnel::{self as steps, Step};
use model::settings::{Goal, Site};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const FIELDS: [&str; 5] = ["site_id", "date_range", "filters", "steps", "funnel"];

/// The props of a step as filters on an event: each `is` its value.
pub fn prop_filters(step: &Step) -> Vec<Filter> {
    step.props
        .iter()
        .map(|(key, value)| Filter::Condition {
            operator: Operator::Is,
            dimension: Dimension::Prop(key.clone()),
            values: vec![value.clone()],
            case_sensitive: true,
        })
        .collect()
}

/// A validated funnel request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funnel {
    /// The site, range and filters, as a query of visits: the range, the
    /// limits and the filters' SQL are a query's.
    pub query: Query,
    /// The name of one of the site's saved funnels, when the request named
    /// one rather than giving steps ([`Funnel::saved`] reads its steps).
    pub name: Option<String>,
    pub steps: Vec<Step>,
}

impl Funnel {
    /// The query whose columns the statement reads: the funnel's, with the
    /// steps' pages and props as dimensions (only to select their columns).
    pub fn reading(&self) -> Query {
        let mut dimensions = vec![Dimension::Event(EventDimension::Page)];
        for step in &self.steps {
            for key in step.props.keys() {
                let prop = Dimension::Prop(key.clone());
                if !dimensions.contains(&prop) {
                    dimensions.push(prop);
                }
            }
        }
        Query {
            dimensions,
            ..self.query.clone()
        }
    }

    /// The funnel with its steps: a named one's from the site's settings.
    pub fn saved(mut self, site: &Site) -> Result<Funnel, QueryError> {
        if let Some(name) = &self.name {
            let Some(saved) = site.funnels.iter().find(|f| f.name == *name) else {
                let names: Vec<&str> = site.funnels.iter().map(|f| f.name.as_str()).collect();
                return fail(format!(
                    "funnel: {name:?} is not a funnel of {} (its funnels: {})",
                    site.domain,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ));
            };
            self.steps = saved.steps.clone();
        }
        Ok(self)
    }
}

/// A funnel request body, or a 400 naming the field: `steps`, or `funnel`,
/// the name of a saved one.
pub fn parse(body: &[u8]) -> Result<Funnel, QueryError> {
    let object = query::object(body, &FIELDS)?;
    let site_id = query::site_id(object.get("site_id"))?;
    let date_range = query::date_range(object.get("date_range"))?;
    let filters = match object.get("filters") {
        None => Vec::new(),
        Some(Value::Array(list)) => query::filters(list, "filters")?,
        Some(other) => return fail(format!("filters: {} is not a list", shown(other))),
    };
    let (name, steps) = match (object.get("funnel"), object.get("steps")) {
        (Some(Value::String(name)), None) => (Some(name.clone()), Vec::new()),
        (Some(other), None) => {
            return fail(format!(
                "funnel: {} is not the name of a saved funnel",
                shown(other)
            ))
        }
        (None, given) => (None, steps::steps(given, "steps").map_err(QueryError)?),
        (Some(_), Some(_)) => return fail("steps and funnel: give one, not both"),
    };
    Ok(Funnel {
        query: Query {
            site_id,
            metrics: vec![Metric::Visits],
            date_range,
            dimensions: Vec::new(),
            filters,
            order_by: Vec::new(),
            time_labels: false,
            total_rows: false,
            limit: query::MAX_LIMIT,
            offset: 0,
        },
        name,
        steps,
    })
}

/// Plausible's percentage: two decimals, 0 when either side is 0.
fn percentage(part: u64, whole: u64) -> f64 {
    if part == 0 || whole == 0 {
        return 0.0;
    }
    (part as f64 * 10_000.0 / whole as f64).round() / 100.0
}

/// The answer from the statement's rows, `[step, visits]` for each step
/// reached (1 or later), and `all_visits`: the `visits` metric of the
/// funnel's range and filters ([`Funnel::query`]), whose visits that entered
/// no step are the rest (`None`: the privacy guard hid it). With a minimum
/// group size `k` above 1, `furthest` are the answers of
/// [`crate::sql::funnel_privacy_statements`]: rows `[step, day, visitors]`
/// of the funnel's furthest steps, then (when it has filters) rows
/// `[complement, day, visitors]`.
pub fn answer(
    funnel: &Funnel,
    range: &Resolved,
    rows: &[Value],
    all_visits: Option<u64>,
    furthest: &[Vec<Value>],
    k: u32,
) -> Result<Value, crate::columns::RowError> {
    let mut reached = vec![0u64; funnel.steps.len() + 1];
    for row in rows {
        let cells = row.as_array().filter(|c| c.len() == 2);
        let read = cells
            .and_then(|c| Some((crate::columns::count(&c[0])?, crate::columns::count(&c[1])?)));
        let Some((step, visits)) = read else {
            return Err(crate::columns::RowError(row.to_string()));
        };
        let slot = usize::try_from(step)
            .ok()
            .and_then(|s| reached.get_mut(s))
            .ok_or_else(|| crate::columns::RowError(row.to_string()))?;
        *slot += visits;
    }
    // the visits that entered no step: the others of the range and filters
    let entered: u64 = reached.iter().skip(1).sum();
    reached[0] = all_visits.unwrap_or(0).saturating_sub(entered);
    let shown = match furthest.split_first().filter(|_| k > 1) {
        Some((own, complements)) => shown_steps(funnel.steps.len(), &reached, own, complements, k)?,
        None => funnel.steps.len(),
    };
    let mut answered = compose(funnel, range, &reached);
    if k > 1 {
        hide(&mut answered, shown);
        answered["meta"] = json!({
            "min_group_size": k,
            "suppressed": funnel.steps.len() - shown,
        });
    }
    Ok(answered)
}

/// Furthest step → UTC day → visitors, from a furthest statement's rows.
fn by_step(
    steps: usize,
    furthest: &[Value],
) -> Result<Vec<BTreeMap<String, u64>>, crate::columns::RowError> {
    let mut by_step: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); steps + 1];
    for row in furthest {
        let cells = row.as_array().filter(|c| c.len() == 3);
        let read = cells.and_then(|c| {
            let step = usize::try_from(crate::columns::count(&c[0])?).ok()?;
            Some((
                step,
                c[1].as_str()?.to_string(),
                crate::columns::count(&c[2])?,
            ))
        });
        let Some((step, day, visitors)) = read.filter(|(step, _, _)| *step <= steps) else {
            return Err(crate::columns::RowError(row.to_string()));
        };
        *by_step[step].entry(day).or_default() += visitors;
    }
    Ok(by_step)
}

/// Per UTC day, the visitors whose furthest step is `step` or later.
fn at_or_after(by_step: &[BTreeMap<String, u64>], step: usize) -> Vec<u64> {
    let mut daily: BTreeMap<&String, u64> = BTreeMap::new();
    for later in &by_step[step..] {
        for (day, n) in later {
            *daily.entry(day).or_default() += n;
        }
    }
    daily.into_values().collect()
}

/// How many steps, from the first, may be shown at minimum group size `k`
/// ([`crate::privacy`]): none when a complement (what one filter less
/// differs by) has some visitors completing a step but on no day k; else
/// while a step's visitors had k of them on one day and the visits that
/// dropped off before it are none, or visits of k visitors on one day
/// (those whose furthest step is the one before). After a hidden step every
/// later one is hidden, as its numbers and the last shown one's would give
/// the hidden one's.
fn shown_steps(
    steps: usize,
    reached: &[u64],
    own: &[Value],
    complements: &[Vec<Value>],
    k: u32,
) -> Result<usize, crate::columns::RowError> {
    let own = by_step(steps, own)?;
    // complement → day → visitors
    let mut touched: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for row in complements.iter().flatten() {
        let cells = row.as_array().filter(|c| c.len() == 3);
        let read = cells
            .and_then(|c| Some((crate::columns::count(&c[0])?, crate::columns::count(&c[2])?)));
        let Some((complement, visitors)) = read else {
            return Err(crate::columns::RowError(row.to_string()));
        };
        touched.entry(complement).or_default().push(visitors);
    }
    if touched.into_values().any(|daily| differ_by_few(daily, k)) {
        return Ok(0);
    }
    let visits_at = |step: usize| reached[step..].iter().sum::<u64>();
    for step in 1..=steps {
        let enough = large_enough(at_or_after(&own, step), k);
        let dropoff = step > 1 && visits_at(step - 1) > visits_at(step);
        let dropoff_enough = !dropoff || large_enough(own[step - 1].values().copied(), k);
        if !enough || !dropoff_enough {
            return Ok(step - 1);
        }
    }
    Ok(steps)
}

/// The numbers of a step of the answer (besides its label).
pub const STEP_NUMBERS: [&str; 5] = [
    "visits",
    "dropoff",
    "dropoff_percentage",
    "conversion_rate",
    "conversion_rate_step",
];

/// Nulls every number of the steps after the first `shown`, and what would
/// tell a hidden one: the entering visits (with the first step); and the
/// visits that never entered, and so all visits and the entering share
/// (the never-entering visitors are not counted, so never shown while a
/// minimum group size is set).
fn hide(answered: &mut Value, shown: usize) {
    let funnel = &mut answered["funnel"];
    if let Some(steps) = funnel["steps"].as_array_mut() {
        for step in steps.iter_mut().skip(shown) {
            for field in STEP_NUMBERS {
                step[field] = Value::Null;
            }
        }
    }
    let mut hidden = vec![
        "all_visits",
        "entering_visits_percentage",
        "never_entering_visits",
        "never_entering_visits_percentage",
    ];
    if shown == 0 {
        hidden.push("entering_visits");
    }
    for field in hidden {
        funnel[field] = Value::Null;
    }
}

/// `reached[k]`: the visits whose furthest step is k.
fn compose(funnel: &Funnel, range: &Resolved, reached: &[u64]) -> Value {
    let all: u64 = reached.iter().sum();
    // visits at step k: those whose furthest step is k or later
    let at = |k: usize| reached.iter().skip(k).sum::<u64>();
    let entering = at(1);
    let steps: Vec<Value> = funnel
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let visits = at(i + 1);
            let previous = (i > 0).then(|| at(i));
            let dropoff = previous.map_or(0, |p| p - visits);
            json!({
                "label": step.label(),
                "visits": visits,
                "dropoff": dropoff,
                "dropoff_percentage": percentage(dropoff, previous.unwrap_or(0)),
                "conversion_rate": percentage(visits, entering),
                "conversion_rate_step": percentage(visits, previous.unwrap_or(0)),
            })
        })
        .collect();
    json!({
        "funnel": {
            "steps": steps,
            "all_visits": all,
            "entering_visits": entering,
            "entering_visits_percentage": percentage(entering, all),
            "never_entering_visits": all - entering,
            "never_entering_visits_percentage": percentage(all - entering, all),
        },
        "query": echo(funnel, range),
    })
}

fn echo(funnel: &Funnel, range: &Resolved) -> Value {
    let steps: Vec<Value> = funnel
        .steps
        .iter()
        .map(|step| {
            let mut object = match &step.goal {
                Goal::Event { event_name } => json!({ "event_name": event_name }),
                Goal::Page { page_path } => json!({ "page_path": page_path }),
            };
            if !step.props.is_empty() {
                let props: Map<String, Value> = step
                    .props
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                object["props"] = Value::Object(props);
            }
            object
        })
        .collect();
    let query = &funnel.query;
    json!({
        "site_id": query.site_id,
        "date_range": [range.from_local, range.to_local],
        "date_range_input": match &query.date_range {
            DateRange::Named(name) => json!(name),
            DateRange::Between { from, to } => json!([from, to]),
        },
        "filters": query.filters.iter().map(crate::answer::filter_json).collect::<Vec<_>>(),
        "funnel": funnel.name,
        "steps": steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(body: Value) -> Result<Funnel, String> {
        parse(body.to_string().as_bytes()).map_err(|e| e.0)
    }

    fn body(steps: Value) -> Value {
        json!({"site_id": "portal.example", "date_range": "30d", "steps": steps})
    }

    #[test]
    fn reads_steps_or_a_saved_funnels_name() {
        let funnel = parsed(body(json!([
            {"page_path": "/templates/**"},
            {"event_name": "Create Service", "props": {"template": "express"}},
            {"event_name": "Deploy Application"}
        ])))
        .unwrap();
        assert_eq!(funnel.steps.len(), 3);
        assert_eq!(funnel.query.metrics, vec![Metric::Visits]);
        let reading = funnel.reading();
        assert!(reading
            .dimensions
            .contains(&Dimension::Prop("template".into())));
        // a saved funnel, by name
        let named = parsed(
            json!({"site_id": "portal.example", "date_range": "7d", "funnel": "Onboarding"}),
        )
        .unwrap();
        assert_eq!(
            (named.name.as_deref(), named.steps.len()),
            (Some("Onboarding"), 0)
        );
        let mut site = Site::new("portal.example");
        let missing = named.clone().saved(&site).unwrap_err().0;
        assert_eq!(
            missing,
            "funnel: \"Onboarding\" is not a funnel of portal.example (its funnels: none)"
        );
        site.funnels.push(model::funnel::Funnel {
            name: "Onboarding".into(),
            steps: funnel.steps.clone(),
        });
        assert_eq!(named.saved(&site).unwrap().steps, funnel.steps);
    }

    #[test]
    fn bad_funnels_name_the_field() {
        // the steps' own checks are model::funnel's (tested there)
        for (body, message) in [
            (
                json!({"site_id": "s", "date_range": "7d", "steps": [{"page_path": "/a"}]}),
                "steps: 1 steps; a funnel has 2 to 8",
            ),
            (
                json!({"site_id": "s", "date_range": "7d"}),
                "steps is required",
            ),
            (
                json!({"site_id": "s", "date_range": "7d", "funnel": 3}),
                "funnel: 3 is not the name of a saved funnel",
            ),
            (
                json!({"site_id": "s", "date_range": "7d", "funnel": "a", "steps": []}),
                "steps and funnel: give one, not both",
            ),
            (
                json!({"site_id": "s", "date_range": "7d", "steps": [], "metrics": []}),
                "unknown field \"metrics\"",
            ),
            (
                json!({"site_id": "s", "date_range": "forever", "steps": []}),
                "date_range: \"forever\"",
            ),
        ] {
            let error = parsed(body.clone()).unwrap_err();
            assert!(error.starts_with(message), "{body}: {error}");
        }
    }

    #[test]
    fn counts_become_plausibles_step_figures() {
        let funnel = parsed(body(json!([
            {"page_path": "/a"}, {"event_name": "B"}, {"event_name": "C"}
        ])))
        .unwrap();
        // 10 visits: 4 never entered, 3 stopped at A, 2 at B, 1 reached C
        let rows = [json!(["1", "3"]), json!([2, 2]), json!([3, 1])];
        let out = answer(&funnel, &Resolved::default(), &rows, Some(10), &[], 1).unwrap();
        let f = &out["funnel"];
        assert_eq!(f["all_visits"], 10);
        assert_eq!(f["entering_visits"], 6);
        assert_eq!(f["entering_visits_percentage"], 60.0);
        assert_eq!(f["never_entering_visits"], 4);
        let figures: Vec<(u64, u64, f64, f64, f64)> = f["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["visits"].as_u64().unwrap(),
                    s["dropoff"].as_u64().unwrap(),
                    s["dropoff_percentage"].as_f64().unwrap(),
                    s["conversion_rate"].as_f64().unwrap(),
                    s["conversion_rate_step"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            figures,
            [
                (6, 0, 0.0, 100.0, 0.0),
                (3, 3, 50.0, 50.0, 50.0),
                (1, 2, 66.67, 16.67, 33.33)
            ]
        );
        assert_eq!(f["steps"][0]["label"], "Visit /a");
        assert!(answer(
            &funnel,
            &Resolved::default(),
            &[json!([9, 1])],
            Some(1),
            &[],
            1
        )
        .is_err());
        assert!(answer(
            &funnel,
            &Resolved::default(),
            &[json!(["x"])],
            Some(1),
            &[],
            1
        )
        .is_err());
    }

    #[test]
    fn a_step_of_fewer_than_k_visitors_hides_it_and_every_later_one() {
        let funnel = parsed(body(json!([
            {"page_path": "/a"}, {"event_name": "B"}, {"event_name": "C"}
        ])))
        .unwrap();
        // visits: 12 stopped at A, 6 at B, 2 reached C
        let rows = [json!([1, 12]), json!([2, 6]), json!([3, 2])];
        // visitors by furthest step and day: A 6 and 1, B 5, C 2
        let furthest = [
            json!([1, "2026-11-28", 6]),
            json!([1, "2026-11-29", 1]),
            json!([2, "2026-11-28", 5]),
            json!([3, "2026-11-28", 2]),
        ];
        let out = answer(
            &funnel,
            &Resolved::default(),
            &rows,
            None,
            &[furthest.to_vec()],
            5,
        )
        .unwrap();
        let f = &out["funnel"];
        let visits: Vec<&Value> = f["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["visits"])
            .collect();
        // B: 7 visitors on the 28th, and its drop-off from A is 6 visitors' visits; C: 2
        assert_eq!(visits, [&json!(20), &json!(8), &Value::Null]);
        assert_eq!(f["steps"][2]["dropoff"], Value::Null);
        assert_eq!(
            f["all_visits"],
            Value::Null,
            "never with a minimum group size"
        );
        assert_eq!(f["never_entering_visits"], Value::Null);
        assert_eq!(out["meta"], json!({"min_group_size": 5, "suppressed": 1}));
        // A's drop-off to B comes from 4 visitors only: B and C are hidden
        let few = [json!([1, "2026-11-28", 4]), json!([2, "2026-11-28", 9])];
        let out = answer(
            &funnel,
            &Resolved::default(),
            &rows,
            Some(30),
            &[few.to_vec()],
            5,
        )
        .unwrap();
        assert_eq!(out["funnel"]["steps"][1]["visits"], Value::Null);
        assert_eq!(out["funnel"]["all_visits"], Value::Null);
        assert_eq!(out["meta"]["suppressed"], 2);
        // a filter less differs by what 2 visitors did: every step is hidden
        let complement = vec![json!([1, "2026-11-28", 2])];
        let out = answer(
            &funnel,
            &Resolved::default(),
            &rows,
            Some(30),
            &[furthest.to_vec(), complement],
            5,
        )
        .unwrap();
        assert_eq!(out["funnel"]["steps"][0]["visits"], Value::Null);
        assert_eq!(out["meta"]["suppressed"], 3);
        // … by what 6 visitors did on one day: the steps as before
        let many = vec![json!([1, "2026-11-27", 1]), json!([1, "2026-11-28", 6])];
        let out = answer(
            &funnel,
            &Resolved::default(),
            &rows,
            Some(30),
            &[furthest.to_vec(), many],
            5,
        )
        .unwrap();
        assert_eq!(out["funnel"]["steps"][0]["visits"], 20);
    }
}

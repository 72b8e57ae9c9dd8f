//! Funnels: `POST /api/v2/funnel`, 2–8 ordered steps, each a page goal or a
//! custom-event goal (with props), counted within a visit.
//!
//! ```text
//! body ─▶ funnel::parse ─▶ range (as a query's) ─▶ sql::funnel_statement ──(ClickHouse)──▶ funnel::answer
//! ```
//!
//! A visit reaches step k when it has events completing steps 1 … k in that
//! order (other events between them are allowed; in the same second, steps
//! count in their order; an event that completes two steps, when their
//! patterns overlap, counts for one), as ClickHouse's `windowFunnel` counts
//! them — the function Plausible's funnels use. Plausible counts per visitor within
//! 24 hours; here a visit is the unit, so "open a template → Create Service →
//! Deploy Application" means within one sitting. The visits counted are those
//! with an interactive event in the range that matches the filters, as the
//! `visits` metric counts them. Step percentages are Plausible's.

use crate::query::{self, fail, shown, DateRange, Filter, Query, QueryError};
use crate::range::Resolved;
use crate::schema::{Dimension, EventDimension, Metric, Operator};
use model::row::{MAX_PROPS, MAX_PROP_KEY_BYTES, MAX_PROP_VALUE_BYTES};
use model::settings::Goal;
use serde_json::{json, Map, Value};

pub const MIN_STEPS: usize = 2;
pub const MAX_STEPS: usize = 8;
/// The longest event name or page pattern of a step (as a goal's).
pub const MAX_STEP_BYTES: usize = 2000;

const FIELDS: [&str; 4] = ["site_id", "date_range", "filters", "steps"];

/// One step: a goal, and the props its events must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub goal: Goal,
    pub props: Vec<(String, String)>,
}

impl Step {
    /// What the answer calls the step: its goal's name (`Visit /docs/**`).
    pub fn label(&self) -> String {
        self.goal.display_name()
    }

    /// The props as filters on an event: each `is` its value.
    pub fn prop_filters(&self) -> Vec<Filter> {
        self.props
            .iter()
            .map(|(key, value)| Filter::Condition {
                operator: Operator::Is,
                dimension: Dimension::Prop(key.clone()),
                values: vec![value.clone()],
            })
            .collect()
    }
}

/// A validated funnel request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funnel {
    /// The site, range and filters, as a query of visits: the range, the
    /// limits and the filters' SQL are a query's.
    pub query: Query,
    pub steps: Vec<Step>,
}

impl Funnel {
    /// The query whose columns the statement reads: the funnel's, with the
    /// steps' pages and props as dimensions (only to select their columns).
    pub fn reading(&self) -> Query {
        let mut dimensions = vec![Dimension::Event(EventDimension::Page)];
        for step in &self.steps {
            for (key, _) in &step.props {
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
}

/// A funnel request body, or a 400 naming the field.
pub fn parse(body: &[u8]) -> Result<Funnel, QueryError> {
    let value: Value = serde_json::from_slice(body)
        .or_else(|e| fail(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(object) = value else {
        return fail("the body must be a JSON object");
    };
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return fail(format!(
            "unknown field {unknown:?}: the fields are {}",
            FIELDS.join(", ")
        ));
    }
    let site_id = query::site_id(object.get("site_id"))?;
    let date_range = query::date_range(object.get("date_range"))?;
    let filters = match object.get("filters") {
        None => Vec::new(),
        Some(Value::Array(list)) => query::filters(list, "filters")?,
        Some(other) => return fail(format!("filters: {} is not a list", shown(other))),
    };
    let steps = match object.get("steps") {
        Some(Value::Array(list)) if (MIN_STEPS..=MAX_STEPS).contains(&list.len()) => list
            .iter()
            .enumerate()
            .map(|(i, s)| step(s, &format!("steps[{i}]")))
            .collect::<Result<Vec<_>, _>>()?,
        Some(Value::Array(list)) => {
            return fail(format!(
                "steps: {} steps; a funnel has {MIN_STEPS} to {MAX_STEPS}",
                list.len()
            ))
        }
        Some(other) => return fail(format!("steps: {} is not a list of steps", shown(other))),
        None => return fail("steps is required"),
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
        steps,
    })
}

/// `{"event_name": …}` or `{"page_path": "/…"}`, with optional `"props"`.
fn step(value: &Value, field: &str) -> Result<Step, QueryError> {
    let shape = || {
        QueryError(format!(
            "{field}: {} is not {{event_name, props?}} or {{page_path, props?}}",
            shown(value)
        ))
    };
    let object = value.as_object().ok_or_else(shape)?;
    if object
        .keys()
        .any(|k| !["event_name", "page_path", "props"].contains(&k.as_str()))
    {
        return Err(shape());
    }
    let goal = match (object.get("event_name"), object.get("page_path")) {
        (Some(Value::String(name)), None) => {
            let name = name.trim();
            if name.is_empty() || name.len() > MAX_STEP_BYTES || name == "engagement" {
                return fail(format!(
                    "{field}.event_name: {name:?} must be 1 to {MAX_STEP_BYTES} bytes, and not engagement"
                ));
            }
            Goal::Event {
                event_name: name.to_string(),
            }
        }
        (None, Some(Value::String(path))) => {
            if !path.starts_with('/') || path.len() > MAX_STEP_BYTES {
                return fail(format!(
                    "{field}.page_path: {path:?} must start with / and be at most {MAX_STEP_BYTES} bytes"
                ));
            }
            Goal::Page {
                page_path: path.clone(),
            }
        }
        _ => return Err(shape()),
    };
    let props = match object.get("props") {
        None => Vec::new(),
        Some(Value::Object(props)) => step_props(props, &format!("{field}.props"))?,
        Some(other) => {
            return fail(format!(
                "{field}.props: {} is not an object of strings",
                shown(other)
            ))
        }
    };
    Ok(Step { goal, props })
}

fn step_props(
    props: &Map<String, Value>,
    field: &str,
) -> Result<Vec<(String, String)>, QueryError> {
    if props.len() > MAX_PROPS {
        return fail(format!(
            "{field}: {} props; at most {MAX_PROPS}",
            props.len()
        ));
    }
    props
        .iter()
        .map(|(key, value)| match value {
            Value::String(v)
                if !key.is_empty()
                    && key.len() <= MAX_PROP_KEY_BYTES
                    && v.len() <= MAX_PROP_VALUE_BYTES =>
            {
                Ok((key.clone(), v.clone()))
            }
            _ => fail(format!(
                "{field}.{key}: {} must be a string of at most {MAX_PROP_VALUE_BYTES} bytes, its key 1 to {MAX_PROP_KEY_BYTES}",
                shown(value)
            )),
        })
        .collect()
}

/// Plausible's percentage: two decimals, 0 when either side is 0.
fn percentage(part: u64, whole: u64) -> f64 {
    if part == 0 || whole == 0 {
        return 0.0;
    }
    (part as f64 * 10_000.0 / whole as f64).round() / 100.0
}

/// The answer from the statement's rows, `[step, visits]` for each step
/// reached (0: in range but never entered).
pub fn answer(
    funnel: &Funnel,
    range: &Resolved,
    rows: &[Value],
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
    Ok(compose(funnel, range, &reached))
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
    fn reads_page_and_event_steps_with_props() {
        let funnel = parsed(body(json!([
            {"page_path": "/templates/**"},
            {"event_name": "Create Service", "props": {"template": "express"}},
            {"event_name": "Deploy Application"}
        ])))
        .unwrap();
        assert_eq!(funnel.steps.len(), 3);
        assert_eq!(funnel.steps[0].label(), "Visit /templates/**");
        assert_eq!(
            funnel.steps[1].props,
            vec![("template".to_string(), "express".to_string())]
        );
        assert_eq!(funnel.query.metrics, vec![Metric::Visits]);
        let reading = funnel.reading();
        assert!(reading
            .dimensions
            .contains(&Dimension::Prop("template".into())));
    }

    #[test]
    fn bad_funnels_name_the_field() {
        for (steps, message) in [
            (
                json!([{"page_path": "/a"}]),
                "steps: 1 steps; a funnel has 2 to 8",
            ),
            (json!([]), "steps: 0 steps"),
            (json!("x"), "steps: \"x\" is not a list"),
            (
                json!([{"page_path": "/a"}, {"page": "/b"}]),
                "steps[1]: {\"page\":\"/b\"} is not {event_name, props?} or {page_path, props?}",
            ),
            (
                json!([{"page_path": "a"}, {"event_name": "x"}]),
                "steps[0].page_path: \"a\" must start with /",
            ),
            (
                json!([{"page_path": "/a"}, {"event_name": " "}]),
                "steps[1].event_name: \"\" must be 1 to",
            ),
            (
                json!([{"page_path": "/a", "event_name": "x"}, {"event_name": "y"}]),
                "steps[0]: ",
            ),
            (
                json!([{"page_path": "/a"}, {"event_name": "y", "props": {"k": 1}}]),
                "steps[1].props.k: 1 must be a string",
            ),
        ] {
            let error = parsed(body(steps.clone())).unwrap_err();
            assert!(error.starts_with(message), "{steps}: {error}");
        }
        let nine = json!((0..9)
            .map(|i| json!({"event_name": format!("e{i}")}))
            .collect::<Vec<_>>());
        assert!(parsed(body(nine))
            .unwrap_err()
            .starts_with("steps: 9 steps"));
        assert_eq!(
            parsed(json!({"site_id": "s", "date_range": "7d"})).unwrap_err(),
            "steps is required"
        );
        assert!(
            parsed(json!({"site_id": "s", "date_range": "7d", "steps": [], "metrics": []}))
                .unwrap_err()
                .starts_with("unknown field \"metrics\"")
        );
    }

    #[test]
    fn counts_become_plausibles_step_figures() {
        let funnel = parsed(body(json!([
            {"page_path": "/a"}, {"event_name": "B"}, {"event_name": "C"}
        ])))
        .unwrap();
        // 10 visits: 4 never entered, 3 stopped at A, 2 at B, 1 reached C
        let rows = [
            json!([0, 4]),
            json!(["1", "3"]),
            json!([2, 2]),
            json!([3, 1]),
        ];
        let out = answer(&funnel, &Resolved::default(), &rows).unwrap();
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
        assert!(answer(&funnel, &Resolved::default(), &[json!([9, 1])]).is_err());
        assert!(answer(&funnel, &Resolved::default(), &[json!(["x"])]).is_err());
    }
}

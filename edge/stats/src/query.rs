//! A Stats API v2 request body (`POST /api/v2/query`) into a validated
//! [`Query`], or a [`QueryError`] naming the field and the value: the 400
//! answer `{"error": "…"}`. Values stay strings here; they reach ClickHouse
//! only as bound parameters.

use crate::schema::{dimension_names, Dimension, EventDimension, Metric, Operator, VisitDimension};
use model::time::is_date;
use serde_json::{Map, Value};

/// The most rows one page may hold (Plausible's limit) and the default.
pub const MAX_LIMIT: u64 = 10_000;
/// How deep `and`/`or`/`not` may nest.
pub const MAX_FILTER_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub site_id: String,
    pub metrics: Vec<Metric>,
    pub date_range: DateRange,
    pub dimensions: Vec<Dimension>,
    /// All must hold (the top-level list is an `and`).
    pub filters: Vec<Filter>,
    pub order_by: Vec<(OrderKey, Direction)>,
    pub time_labels: bool,
    pub total_rows: bool,
    pub limit: u64,
    pub offset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateRange {
    /// `day`, `7d`, `30d`, `month`, `6mo`, `12mo`, `year`, `all`, in the site's time zone.
    Named(&'static str),
    /// `[from, to]`: dates (`YYYY-MM-DD`, whole days) or datetimes (ISO 8601), inclusive.
    Between { from: String, to: String },
}

pub const NAMED_RANGES: [&str; 8] = ["day", "7d", "30d", "month", "6mo", "12mo", "year", "all"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Condition {
        operator: Operator,
        dimension: Dimension,
        values: Vec<String>,
        /// `false` with Plausible's modifier `{"case_sensitive": false}`
        /// (`is`, `is_not`, `contains`, `contains_not`).
        case_sensitive: bool,
    },
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// Plausible's `["has_done", filter]` (`has_not_done`: `negated`): the
    /// visitor has, in the range, an event (not an engagement report) that
    /// `filter` holds for; `filter` names event dimensions only.
    HasDone {
        inner: Box<Filter>,
        negated: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderKey {
    Metric(Metric),
    Dimension(Dimension),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// Why a request is not a query; the message names the field and value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

impl QueryError {
    /// The 400 answer's body.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self.0 }).to_string()
    }
}

pub(crate) fn fail<T>(message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError(message.into()))
}

/// A value as it appears in an error message.
pub(crate) fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

const FIELDS: [&str; 8] = [
    "site_id",
    "metrics",
    "date_range",
    "dimensions",
    "filters",
    "order_by",
    "include",
    "pagination",
];

/// A list of filters (`field` names it in errors): a query's, or those a
/// shared link limits every read to.
pub fn filters(list: &[Value], field: &str) -> Result<Vec<Filter>, QueryError> {
    list.iter()
        .enumerate()
        .map(|(i, f)| filter(f, &format!("{field}[{i}]"), 0))
        .collect()
}

/// A request body as a JSON object of the `fields` named, or a 400.
pub(crate) fn object(body: &[u8], fields: &[&str]) -> Result<Map<String, Value>, QueryError> {
    let value: Value = serde_json::from_slice(body)
        .or_else(|e| fail(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(object) = value else {
        return fail("the body must be a JSON object");
    };
    if let Some(unknown) = object.keys().find(|k| !fields.contains(&k.as_str())) {
        return fail(format!(
            "unknown field {unknown:?}: the fields are {}",
            fields.join(", ")
        ));
    }
    Ok(object)
}

pub fn parse(body: &[u8]) -> Result<Query, QueryError> {
    let object = object(body, &FIELDS)?;
    let site_id = site_id(object.get("site_id"))?;
    let metrics = metrics(object.get("metrics"))?;
    let date_range = date_range(object.get("date_range"))?;
    let dimensions = dimensions(object.get("dimensions"))?;
    let filters = match object.get("filters") {
        None => Vec::new(),
        Some(Value::Array(list)) => filters(list, "filters")?,
        Some(other) => return fail(format!("filters: {} is not a list", shown(other))),
    };
    let order_by = order_by(object.get("order_by"), &metrics, &dimensions)?;
    let (time_labels, total_rows) = include(object.get("include"))?;
    let (limit, offset) = pagination(object.get("pagination"))?;

    let has_goal = |filters: &[Filter]| filters.iter().any(mentions_goal);
    if metrics.contains(&Metric::ConversionRate)
        && !dimensions.contains(&Dimension::Event(EventDimension::Goal))
        && !has_goal(&filters)
    {
        return fail("metrics: conversion_rate needs an event:goal dimension or filter");
    }
    if metrics.contains(&Metric::GroupConversionRate) {
        if dimensions.is_empty() {
            return fail("metrics: group_conversion_rate needs dimensions (the groups)");
        }
        if !dimensions.contains(&Dimension::Event(EventDimension::Goal)) && !has_goal(&filters) {
            return fail("metrics: group_conversion_rate needs an event:goal dimension or filter");
        }
    }
    if metrics.contains(&Metric::Percentage) && !dimensions.iter().any(|d| !d.is_time()) {
        return fail("metrics: percentage needs a dimension other than time");
    }
    if time_labels && !dimensions.iter().any(Dimension::is_time) {
        return fail("include.time_labels needs a time dimension");
    }
    Ok(Query {
        site_id,
        metrics,
        date_range,
        dimensions,
        filters,
        order_by,
        time_labels,
        total_rows,
        limit,
        offset,
    })
}

fn metrics(value: Option<&Value>) -> Result<Vec<Metric>, QueryError> {
    let Some(Value::Array(list)) = value else {
        return match value {
            None => fail("metrics is required"),
            Some(other) => fail(format!("metrics: {} is not a list", shown(other))),
        };
    };
    if list.is_empty() {
        return fail("metrics: at least one metric is required");
    }
    let mut metrics = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let metric = item.as_str().and_then(Metric::parse).ok_or_else(|| {
            let names: Vec<_> = Metric::ALL.iter().map(|m| m.name()).collect();
            QueryError(format!(
                "metrics[{i}]: {} is not a metric ({})",
                shown(item),
                names.join(", ")
            ))
        })?;
        if metrics.contains(&metric) {
            return fail(format!("metrics[{i}]: {} is listed twice", metric.name()));
        }
        metrics.push(metric);
    }
    Ok(metrics)
}

/// `YYYY-MM-DDThh:mm:ss` with an optional fraction and a `Z` or `±hh:mm` offset.
fn is_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once('T') else {
        return false;
    };
    let b = time.as_bytes();
    is_date(date)
        && b.len() >= 8
        && b[2] == b':'
        && b[5] == b':'
        && b[..8]
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit())
        && {
            let rest = time[8..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
            rest.is_empty()
                || rest == "Z"
                || (rest.len() == 6
                    && (rest.starts_with('+') || rest.starts_with('-'))
                    && rest.as_bytes()[3] == b':')
        }
}

/// The site a request reads, by its domain.
pub(crate) fn site_id(value: Option<&Value>) -> Result<String, QueryError> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(other) => fail(format!("site_id: {} is not a site domain", shown(other))),
        None => fail("site_id is required"),
    }
}

pub(crate) fn date_range(value: Option<&Value>) -> Result<DateRange, QueryError> {
    match value {
        None => fail("date_range is required"),
        Some(Value::String(name)) => NAMED_RANGES
            .iter()
            .find(|r| **r == name)
            .map(|r| DateRange::Named(r))
            .ok_or_else(|| {
                QueryError(format!(
                    "date_range: {name:?} is not one of {} or [from, to]",
                    NAMED_RANGES.join(", ")
                ))
            }),
        Some(Value::Array(pair)) => match pair.as_slice() {
            [Value::String(from), Value::String(to)] => {
                let dates = is_date(from) && is_date(to);
                let datetimes = is_datetime(from) && is_datetime(to);
                if !dates && !datetimes {
                    return fail(format!("date_range: [{from:?}, {to:?}] must be two dates (YYYY-MM-DD) or two ISO 8601 datetimes"));
                }
                if dates && from > to {
                    return fail(format!("date_range: {from} is after {to}"));
                }
                Ok(DateRange::Between {
                    from: from.clone(),
                    to: to.clone(),
                })
            }
            _ => fail(format!(
                "date_range: {} must be [from, to]",
                shown(value.unwrap_or(&Value::Null))
            )),
        },
        Some(other) => fail(format!("date_range: {} is not a date range", shown(other))),
    }
}

fn dimension(item: &Value, field: &str) -> Result<Dimension, QueryError> {
    item.as_str().and_then(Dimension::parse).ok_or_else(|| {
        let names: Vec<_> = dimension_names().collect();
        QueryError(format!(
            "{field}: {} is not a dimension ({})",
            shown(item),
            names.join(", ")
        ))
    })
}

fn dimensions(value: Option<&Value>) -> Result<Vec<Dimension>, QueryError> {
    let list = match value {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => return fail(format!("dimensions: {} is not a list", shown(other))),
    };
    let mut dimensions = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let dimension = dimension(item, &format!("dimensions[{i}]"))?;
        if dimensions.contains(&dimension) {
            return fail(format!(
                "dimensions[{i}]: {} is listed twice",
                dimension.name()
            ));
        }
        if dimension.is_time() && dimensions.iter().any(Dimension::is_time) {
            return fail(format!(
                "dimensions[{i}]: only one time dimension is allowed"
            ));
        }
        dimensions.push(dimension);
    }
    Ok(dimensions)
}

fn filter(value: &Value, field: &str, depth: usize) -> Result<Filter, QueryError> {
    if depth > MAX_FILTER_DEPTH {
        return fail(format!(
            "{field}: filters nest at most {MAX_FILTER_DEPTH} deep"
        ));
    }
    let Value::Array(parts) = value else {
        return fail(format!(
            "{field}: {} is not a filter ([operator, dimension, [values]])",
            shown(value)
        ));
    };
    match parts.as_slice() {
        [Value::String(logic), Value::Array(inner)] if logic == "and" || logic == "or" => {
            if inner.is_empty() {
                return fail(format!("{field}: {logic} needs at least one filter"));
            }
            let filters = inner
                .iter()
                .enumerate()
                .map(|(i, f)| filter(f, &format!("{field}[1][{i}]"), depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if logic == "and" {
                Filter::And(filters)
            } else {
                Filter::Or(filters)
            })
        }
        [Value::String(logic), inner] if logic == "not" => Ok(Filter::Not(Box::new(filter(
            inner,
            &format!("{field}[1]"),
            depth + 1,
        )?))),
        [Value::String(logic), inner] if logic == "has_done" || logic == "has_not_done" => {
            let inner = filter(inner, &format!("{field}[1]"), depth + 1)?;
            if inner.mentions(|d| !d.is_event_level()) {
                return fail(format!(
                    "{field}[1]: {logic} takes a filter on event dimensions (event:name, event:page, event:goal, event:hostname, event:props:…)"
                ));
            }
            Ok(Filter::HasDone {
                inner: Box::new(inner),
                negated: logic == "has_not_done",
            })
        }
        [op, dim, Value::Array(values), rest @ ..] if rest.len() <= 1 => {
            let operator = op.as_str().and_then(Operator::parse).ok_or_else(|| {
                let names: Vec<_> = Operator::ALL.iter().map(|o| o.name()).collect();
                QueryError(format!(
                    "{field}[0]: {} is not an operator ({}, or and/or/not)",
                    shown(op),
                    names.join(", ")
                ))
            })?;
            let dimension = dimension(dim, &format!("{field}[1]"))?;
            if dimension.is_time() {
                return fail(format!(
                    "{field}[1]: time dimensions cannot be filtered; use date_range"
                ));
            }
            if values.is_empty() {
                return fail(format!("{field}[2]: at least one value is required"));
            }
            let values = values
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => fail(format!("{field}[2][{i}]: {} is not a string", shown(other))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let case_sensitive = match rest {
                [] => true,
                [Value::Object(modifiers)]
                    if modifiers.len() == 1
                        && matches!(modifiers.get("case_sensitive"), Some(Value::Bool(_))) =>
                {
                    let sensitive = modifiers.get("case_sensitive") == Some(&Value::Bool(true));
                    if !sensitive && matches!(operator, Operator::Matches | Operator::MatchesNot) {
                        return fail(format!(
                            "{field}[3]: case_sensitive applies to is, is_not, contains and contains_not; a matches pattern can start with (?i)"
                        ));
                    }
                    sensitive
                }
                [other, ..] => {
                    return fail(format!(
                        "{field}[3]: {} is not {{\"case_sensitive\": true or false}}",
                        shown(other)
                    ))
                }
            };
            Ok(Filter::Condition {
                operator,
                dimension,
                values,
                case_sensitive,
            })
        }
        _ => fail(format!(
            "{field}: {} is not a filter ([operator, dimension, [values]])",
            shown(value)
        )),
    }
}

impl Filter {
    /// Every dimension the filter compares, however deep.
    pub fn dimensions(&self) -> Vec<&Dimension> {
        match self {
            Filter::Condition { dimension, .. } => vec![dimension],
            Filter::And(list) | Filter::Or(list) => {
                list.iter().flat_map(Filter::dimensions).collect()
            }
            Filter::Not(inner) | Filter::HasDone { inner, .. } => inner.dimensions(),
        }
    }

    /// Whether any dimension the filter compares passes `test`.
    pub fn mentions(&self, test: impl Fn(&Dimension) -> bool) -> bool {
        self.dimensions().into_iter().any(test)
    }
}

/// Limits `query` to `scope` (a shared link's filters): added to its own.
/// A scope on events (a page, a goal, a prop) counts the visits holding
/// such an event, whose entry and exit pages may be any: those two are
/// refused, or they would show the pages outside the scope.
pub fn limit_to(query: &mut Query, scope: Vec<Filter>) -> Result<(), QueryError> {
    let on_events = |d: &Dimension| matches!(d, Dimension::Event(_) | Dimension::Prop(_));
    let visit_pages = |d: &Dimension| {
        matches!(
            d,
            Dimension::Visit(VisitDimension::EntryPage | VisitDimension::ExitPage)
        )
    };
    if scope.iter().any(|f| f.mentions(on_events))
        && (query.dimensions.iter().any(visit_pages)
            || query.filters.iter().any(|f| f.mentions(visit_pages)))
    {
        return fail(
            "dimensions: entry and exit pages are not shown through a link limited to some pages or events",
        );
    }
    query.filters.extend(scope);
    Ok(())
}

fn mentions_goal(filter: &Filter) -> bool {
    filter.mentions(|d| *d == Dimension::Event(EventDimension::Goal))
}

fn order_by(
    value: Option<&Value>,
    metrics: &[Metric],
    dimensions: &[Dimension],
) -> Result<Vec<(OrderKey, Direction)>, QueryError> {
    let list = match value {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => return fail(format!("order_by: {} is not a list", shown(other))),
    };
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let (Some(key), Some(direction)) = (
                item.get(0).and_then(Value::as_str),
                item.get(1).and_then(Value::as_str),
            ) else {
                return fail(format!(
                    "order_by[{i}]: {} is not [metric or dimension, \"asc\" or \"desc\"]",
                    shown(item)
                ));
            };
            let direction = match direction {
                "asc" => Direction::Asc,
                "desc" => Direction::Desc,
                other => {
                    return fail(format!(
                        "order_by[{i}]: {other:?} is not \"asc\" or \"desc\""
                    ))
                }
            };
            let key = match (Metric::parse(key), Dimension::parse(key)) {
                (Some(m), _) if metrics.contains(&m) => OrderKey::Metric(m),
                (_, Some(d)) if dimensions.contains(&d) => OrderKey::Dimension(d),
                _ => {
                    return fail(format!(
                        "order_by[{i}]: {key:?} is not one of the query's metrics or dimensions"
                    ))
                }
            };
            Ok((key, direction))
        })
        .collect()
}

fn flag(object: &Map<String, Value>, name: &str, field: &str) -> Result<bool, QueryError> {
    match object.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => fail(format!(
            "{field}.{name}: {} is not true or false",
            shown(other)
        )),
    }
}

fn include(value: Option<&Value>) -> Result<(bool, bool), QueryError> {
    match value {
        None => Ok((false, false)),
        Some(Value::Object(object)) => {
            if let Some(unknown) = object
                .keys()
                .find(|k| *k != "time_labels" && *k != "total_rows")
            {
                return fail(format!(
                    "include: unknown option {unknown:?} (time_labels, total_rows)"
                ));
            }
            Ok((
                flag(object, "time_labels", "include")?,
                flag(object, "total_rows", "include")?,
            ))
        }
        Some(other) => fail(format!("include: {} is not an object", shown(other))),
    }
}

fn pagination(value: Option<&Value>) -> Result<(u64, u64), QueryError> {
    let object = match value {
        None => return Ok((MAX_LIMIT, 0)),
        Some(Value::Object(object)) => object,
        Some(other) => return fail(format!("pagination: {} is not an object", shown(other))),
    };
    let number = |name: &str, default: u64| match object.get(name) {
        None => Ok(default),
        Some(v) => v.as_u64().ok_or_else(|| {
            QueryError(format!(
                "pagination.{name}: {} is not a whole number",
                shown(v)
            ))
        }),
    };
    let limit = number("limit", MAX_LIMIT)?;
    if limit == 0 || limit > MAX_LIMIT {
        return fail(format!(
            "pagination.limit: {limit} is not between 1 and {MAX_LIMIT}"
        ));
    }
    Ok((limit, number("offset", 0)?))
}

#[cfg(test)]
mod tests;

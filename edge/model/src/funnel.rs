//! A funnel's steps: their shape, limits and checks, one definition for the
//! Stats API (steps in a `POST /api/v2/funnel` request) and the site
//! settings (a site's saved funnels, as Plausible sets funnels up).
//!
//! A step is a goal, written as a site's goals are, with optional props its
//! events must carry: `{"event_name": "Deploy Application", "props":
//! {"language": "nodejs"}}` or `{"page_path": "/templates/**"}`.

use crate::row::{MAX_PROPS, MAX_PROP_KEY_BYTES, MAX_PROP_VALUE_BYTES};
use crate::settings::Goal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const MIN_STEPS: usize = 2;
pub const MAX_STEPS: usize = 8;
/// The longest event name or page pattern of a step (as a goal's).
pub const MAX_STEP_BYTES: usize = 2000;

/// One step: a goal, and the props its events must carry (each equal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    #[serde(flatten)]
    pub goal: Goal,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub props: BTreeMap<String, String>,
}

impl Step {
    /// What reports call the step: its goal's name (`Visit /docs/**`), and
    /// its props (`Deploy Application (language=nodejs)`).
    pub fn label(&self) -> String {
        let name = self.goal.display_name();
        if self.props.is_empty() {
            return name;
        }
        let props: Vec<String> = self.props.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{name} ({})", props.join(", "))
    }
}

/// A funnel a site keeps: a name and its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funnel {
    pub name: String,
    pub steps: Vec<Step>,
}

/// A value as it appears in an error message.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// `steps` (named `field` in errors): 2 to 8 steps, or a message naming the
/// field and the value.
pub fn steps(value: Option<&Value>, field: &str) -> Result<Vec<Step>, String> {
    match value {
        Some(Value::Array(list)) if (MIN_STEPS..=MAX_STEPS).contains(&list.len()) => list
            .iter()
            .enumerate()
            .map(|(i, s)| step(s, &format!("{field}[{i}]")))
            .collect(),
        Some(Value::Array(list)) => Err(format!(
            "{field}: {} steps; a funnel has {MIN_STEPS} to {MAX_STEPS}",
            list.len()
        )),
        Some(other) => Err(format!("{field}: {} is not a list of steps", shown(other))),
        None => Err(format!("{field} is required")),
    }
}

/// `{"event_name": …}` or `{"page_path": "/…"}`, with optional `"props"`.
pub fn step(value: &Value, field: &str) -> Result<Step, String> {
    let shape = || {
        format!(
            "{field}: {} is not {{event_name, props?}} or {{page_path, props?}}",
            shown(value)
        )
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
                return Err(format!(
                    "{field}.event_name: {name:?} must be 1 to {MAX_STEP_BYTES} bytes, and not engagement"
                ));
            }
            Goal::Event {
                event_name: name.to_string(),
            }
        }
        (None, Some(Value::String(path))) => {
            if !path.starts_with('/') || path.len() > MAX_STEP_BYTES {
                return Err(format!(
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
        None => BTreeMap::new(),
        Some(Value::Object(props)) if props.len() <= MAX_PROPS => props
            .iter()
            .map(|(key, value)| match value {
                Value::String(v)
                    if !key.is_empty()
                        && key.len() <= MAX_PROP_KEY_BYTES
                        && v.len() <= MAX_PROP_VALUE_BYTES =>
                {
                    Ok((key.clone(), v.clone()))
                }
                _ => Err(format!(
                    "{field}.props.{key}: {} must be a string of at most {MAX_PROP_VALUE_BYTES} bytes, its key 1 to {MAX_PROP_KEY_BYTES}",
                    shown(value)
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(Value::Object(props)) => {
            return Err(format!(
                "{field}.props: {} props; at most {MAX_PROPS}",
                props.len()
            ))
        }
        Some(other) => {
            return Err(format!(
                "{field}.props: {} is not an object of strings",
                shown(other)
            ))
        }
    };
    Ok(Step { goal, props })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_read_and_write_as_goals_with_props() {
        let given = json!([
            {"page_path": "/templates/**"},
            {"event_name": "Create Service", "props": {"template": "express"}}
        ]);
        let read = steps(Some(&given), "steps").unwrap();
        assert_eq!(read[0].label(), "Visit /templates/**");
        assert_eq!(read[1].label(), "Create Service (template=express)");
        assert_eq!(
            read[1].props.get("template").map(String::as_str),
            Some("express")
        );
        // stored in the settings exactly as given
        assert_eq!(serde_json::to_value(&read).unwrap(), given);
        let back: Vec<Step> = serde_json::from_value(given).unwrap();
        assert_eq!(back, read);
    }

    #[test]
    fn bad_steps_name_the_field() {
        for (value, message) in [
            (
                json!([{"page_path": "/a"}]),
                "steps: 1 steps; a funnel has 2 to 8",
            ),
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
                json!([{"page_path": "/a"}, {"event_name": "engagement"}]),
                "steps[1].event_name: \"engagement\"",
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
            let error = steps(Some(&value), "steps").unwrap_err();
            assert!(error.starts_with(message), "{value}: {error}");
        }
        let nine = json!((0..9)
            .map(|i| json!({"event_name": format!("e{i}")}))
            .collect::<Vec<_>>());
        assert!(steps(Some(&nine), "steps")
            .unwrap_err()
            .starts_with("steps: 9 steps"));
        assert_eq!(steps(None, "steps").unwrap_err(), "steps is required");
    }
}

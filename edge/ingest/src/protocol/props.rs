//! Custom props as Plausible normalizes them: string → string pairs, at most
//! 30 kept (the rest dropped), keys up to 300 bytes and values up to 2,000
//! (longer is a 400), numbers and booleans stringified, lists, maps, nulls and
//! blank keys or values dropped.

use model::row::{MAX_PROPS, MAX_PROP_KEY_BYTES, MAX_PROP_VALUE_BYTES};
use serde_json::Value;

/// Props in the order the client sent them.
pub type Props = Vec<(String, String)>;

/// `p` / `props`: absent, an object, or (Plausible's legacy tracker) a JSON
/// string holding an object.
pub fn normalize(value: Option<Value>) -> Result<Props, String> {
    let object = match value {
        None | Some(Value::Null) => return Ok(Props::new()),
        Some(Value::Object(object)) => object,
        Some(Value::String(text)) => match serde_json::from_str(&text) {
            Ok(Value::Object(object)) => object,
            _ => return Err("must be an object".into()),
        },
        Some(_) => return Err("must be an object".into()),
    };
    let mut props = Props::new();
    for (key, value) in object {
        let value = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null | Value::Array(_) | Value::Object(_) => continue,
        };
        if key.trim().is_empty() || value.trim().is_empty() {
            continue;
        }
        if key.len() > MAX_PROP_KEY_BYTES {
            return Err(format!("keys must be at most {MAX_PROP_KEY_BYTES} bytes"));
        }
        if value.len() > MAX_PROP_VALUE_BYTES {
            return Err(format!(
                "values must be at most {MAX_PROP_VALUE_BYTES} bytes (\"{key}\" is not)"
            ));
        }
        if props.len() < MAX_PROPS {
            props.push((key, value));
        }
    }
    Ok(props)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(p: &Props) -> Vec<(&str, &str)> {
        p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn values_become_strings_in_the_clients_order() {
        let props = normalize(Some(
            json!({"template": "express", "seats": 5, "trial": false, "ratio": 0.5}),
        ))
        .unwrap();
        assert_eq!(
            pairs(&props),
            [
                ("template", "express"),
                ("seats", "5"),
                ("trial", "false"),
                ("ratio", "0.5")
            ]
        );
    }

    #[test]
    fn lists_maps_nulls_and_blanks_are_dropped() {
        let props = normalize(Some(
            json!({"a": [1], "b": {"c": 1}, "d": null, "": "x", " ": "y", "e": " ", "f": "kept"}),
        ))
        .unwrap();
        assert_eq!(pairs(&props), [("f", "kept")]);
    }

    #[test]
    fn thirty_are_kept() {
        let many: serde_json::Map<String, Value> =
            (0..40).map(|i| (format!("k{i:02}"), json!("v"))).collect();
        let props = normalize(Some(Value::Object(many))).unwrap();
        assert_eq!(props.len(), MAX_PROPS);
        assert_eq!(props[29].0, "k29");
    }

    #[test]
    fn long_keys_and_values_are_rejected() {
        assert!(normalize(Some(json!({ "k".repeat(301): "v" }))).is_err());
        assert!(normalize(Some(json!({ "k": "v".repeat(2001) }))).is_err());
        assert!(normalize(Some(json!({ "k".repeat(300): "v".repeat(2000) }))).is_ok());
    }

    #[test]
    fn legacy_string_props_and_wrong_types() {
        assert_eq!(
            pairs(&normalize(Some(json!("{\"a\":\"1\"}"))).unwrap()),
            [("a", "1")]
        );
        assert!(normalize(Some(json!("not json"))).is_err());
        assert!(normalize(Some(json!([1, 2]))).is_err());
        assert!(normalize(Some(json!(7))).is_err());
        assert!(normalize(None).unwrap().is_empty());
    }
}

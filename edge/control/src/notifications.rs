//! A site's reports, alerts and webhooks as the admin API sends them
//! (`PUT /api/admin/sites/<domain>` `{reports, alerts, webhooks}`), into
//! `model::settings` types, or a 400 naming the field. What they do is the
//! `notify` crate's.

use crate::admin::{email, fail, is_private_host, AdminError};
use base64::Engine;
use model::settings::{Alert, AlertKind, Frequency, Goal, Report, Webhook};
use serde_json::{Map, Value};

/// At most this many of each per site.
pub const MAX_REPORTS: usize = 10;
pub const MAX_ALERTS: usize = 20;
pub const MAX_WEBHOOKS: usize = 5;
/// Recipients of one report or alert.
pub const MAX_RECIPIENTS: usize = 20;
/// An alert's window: an hour to four weeks.
pub const MAX_ALERT_HOURS: u32 = 24 * 28;
const MAX_NAME_BYTES: usize = 120;
const MAX_URL_BYTES: usize = 2000;
/// A webhook secret's key, decoded (Standard Webhooks: 24 to 64 bytes).
const SECRET_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// `[{frequency, recipients}]`.
pub fn reports(value: &Value) -> Result<Vec<Report>, AdminError> {
    list(value, "reports", MAX_REPORTS)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let field = format!("reports[{i}]");
            let object = fields(
                v,
                &field,
                &["frequency", "recipients"],
                "{frequency, recipients}",
            )?;
            let frequency = match object.get("frequency") {
                Some(Value::String(name)) => Frequency::parse(name),
                _ => None,
            }
            .ok_or_else(|| {
                AdminError(format!(
                    "{field}.frequency: {} is not one of {}",
                    shown(object.get("frequency")),
                    Frequency::NAMES.join(", ")
                ))
            })?;
            let recipients = recipients(object.get("recipients"), &field, 1)?;
            Ok(Report {
                frequency,
                recipients,
            })
        })
        .collect()
}

/// `[{name, kind, goal?, threshold, hours, recipients?}]`; a goal alert's
/// goal is one of `goals`.
pub fn alerts(value: &Value, goals: &[Goal]) -> Result<Vec<Alert>, AdminError> {
    let alerts = list(value, "alerts", MAX_ALERTS)?
        .iter()
        .enumerate()
        .map(|(i, v)| alert(v, i, goals))
        .collect::<Result<Vec<_>, _>>()?;
    let mut names: Vec<&str> = alerts.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return fail(format!("alerts: {:?} is listed twice", pair[0]));
    }
    Ok(alerts)
}

fn alert(value: &Value, i: usize, goals: &[Goal]) -> Result<Alert, AdminError> {
    let field = format!("alerts[{i}]");
    let object = fields(
        value,
        &field,
        &["name", "kind", "goal", "threshold", "hours", "recipients"],
        "{name, kind, threshold, hours, recipients}",
    )?;
    // the name goes into an e-mail's subject: no line breaks
    let name = match object.get("name").and_then(Value::as_str).map(str::trim) {
        Some(name)
            if !name.is_empty()
                && name.len() <= MAX_NAME_BYTES
                && !name.chars().any(char::is_control) =>
        {
            name.to_string()
        }
        _ => {
            return fail(format!(
                "{field}.name: a name of 1 to {MAX_NAME_BYTES} bytes, one line, is required"
            ))
        }
    };
    let kind = match object.get("kind") {
        Some(Value::String(kind)) => AlertKind::parse(kind),
        _ => None,
    }
    .ok_or_else(|| {
        AdminError(format!(
            "{field}.kind: {} is not one of {}",
            shown(object.get("kind")),
            AlertKind::NAMES.join(", ")
        ))
    })?;
    let goal = match (kind, object.get("goal")) {
        (AlertKind::Goal, Some(Value::String(goal)))
            if goals.iter().any(|g| g.display_name() == *goal) =>
        {
            Some(goal.clone())
        }
        (AlertKind::Goal, other) => {
            return fail(format!(
                "{field}.goal: {} is not one of the site's goals",
                shown(other)
            ))
        }
        (_, None) => None,
        (_, Some(_)) => return fail(format!("{field}.goal: only a goal alert has a goal")),
    };
    let threshold = match object.get("threshold").and_then(Value::as_u64) {
        // a drop below 0 cannot happen; a spike to 0 always does
        Some(n) if n >= 1 && n <= u64::from(u32::MAX) => n,
        _ => {
            return fail(format!(
                "{field}.threshold: {} is not a whole number of visitors, at least 1",
                shown(object.get("threshold"))
            ))
        }
    };
    let hours = match object.get("hours").and_then(Value::as_u64) {
        Some(h) if (1..=u64::from(MAX_ALERT_HOURS)).contains(&h) => h as u32,
        _ => {
            return fail(format!(
                "{field}.hours: {} is not a window of 1 to {MAX_ALERT_HOURS} hours",
                shown(object.get("hours"))
            ))
        }
    };
    let recipients = recipients(object.get("recipients"), &field, 0)?;
    Ok(Alert {
        name,
        kind,
        goal,
        threshold,
        hours,
        recipients,
    })
}

/// `[{url, secret}]`: https (http only to a private host), and a Standard
/// Webhooks secret (`whsec_` + base64 of 24 to 64 bytes).
pub fn webhooks(value: &Value) -> Result<Vec<Webhook>, AdminError> {
    let hooks = list(value, "webhooks", MAX_WEBHOOKS)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let field = format!("webhooks[{i}]");
            let object = fields(v, &field, &["url", "secret"], "{url, secret}")?;
            let url = object.get("url").and_then(Value::as_str).unwrap_or("");
            let parsed = url::Url::parse(url).ok().filter(|u| {
                url.len() <= MAX_URL_BYTES
                    && u.username().is_empty()
                    && u.password().is_none()
                    && u.fragment().is_none()
                    && (u.scheme() == "https" || (u.scheme() == "http" && is_private_host(u)))
            });
            let Some(parsed) = parsed else {
                return fail(format!(
                    "{field}.url: {} is not an https URL (http only to a private host; no user or fragment)",
                    shown(object.get("url"))
                ));
            };
            let secret = object.get("secret").and_then(Value::as_str).unwrap_or("");
            if secret_key(secret).is_none() {
                return fail(format!(
                    "{field}.secret: whsec_ followed by the base64 of {} to {} random bytes is required (e.g. whsec_$(openssl rand -base64 32))",
                    SECRET_BYTES.start(),
                    SECRET_BYTES.end()
                ));
            }
            Ok(Webhook {
                url: parsed.to_string(),
                secret: secret.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut urls: Vec<&str> = hooks.iter().map(|h| h.url.as_str()).collect();
    urls.sort_unstable();
    if let Some(pair) = urls.windows(2).find(|w| w[0] == w[1]) {
        return fail(format!("webhooks: {:?} is listed twice", pair[0]));
    }
    Ok(hooks)
}

/// Whether a webhook URL reaches this machine's network: plain http, or a
/// private host by any scheme. Only the installation's own admins add such
/// a webhook (a site admin could otherwise make the Worker call internal
/// services); a name that resolves to a private address is not seen here
/// (on Cloudflare no Worker reaches a private network; self-hosted, a
/// network policy is the guard).
pub fn reaches_private_network(url: &str) -> bool {
    url::Url::parse(url).map_or(true, |u| u.scheme() == "http" || is_private_host(&u))
}

/// The HMAC key of a Standard Webhooks secret, if it is one.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix("whsec_")?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .filter(|key| SECRET_BYTES.contains(&key.len()))
}

fn list<'a>(value: &'a Value, field: &str, max: usize) -> Result<&'a Vec<Value>, AdminError> {
    match value {
        Value::Array(list) if list.len() <= max => Ok(list),
        _ => fail(format!("{field}: a list of at most {max}")),
    }
}

/// `value` as an object of only `known` keys.
fn fields<'a>(
    value: &'a Value,
    field: &str,
    known: &[&str],
    shape: &str,
) -> Result<&'a Map<String, Value>, AdminError> {
    match value {
        Value::Object(object) if object.keys().all(|k| known.contains(&k.as_str())) => Ok(object),
        _ => fail(format!("{field}: {value} is not {shape}")),
    }
}

fn recipients(value: Option<&Value>, field: &str, min: usize) -> Result<Vec<String>, AdminError> {
    let field = format!("{field}.recipients");
    let list = match value {
        None if min == 0 => return Ok(Vec::new()),
        Some(Value::Array(list)) if (min..=MAX_RECIPIENTS).contains(&list.len()) => list,
        _ => {
            return fail(format!(
                "{field}: a list of {min} to {MAX_RECIPIENTS} e-mail addresses"
            ))
        }
    };
    let mut addresses = Vec::new();
    for (i, address) in list.iter().enumerate() {
        let address = address
            .as_str()
            .ok_or_else(|| AdminError(format!("{field}[{i}]: {address} is not an e-mail address")))
            .and_then(|a| {
                email(a).map_err(|_| {
                    AdminError(format!("{field}[{i}]: {a:?} is not an e-mail address"))
                })
            })?;
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    Ok(addresses)
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "nothing".to_string(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn goals() -> Vec<Goal> {
        vec![Goal::Event {
            event_name: "Deploy Application".into(),
        }]
    }

    #[test]
    fn valid_settings_are_read() {
        let r = reports(
            &json!([{"frequency": "weekly", "recipients": ["Ops@Example.com", "ops@example.com"]}]),
        )
        .unwrap();
        assert_eq!(r[0].frequency, Frequency::Weekly);
        assert_eq!(r[0].recipients, ["ops@example.com"]);
        let a = alerts(
            &json!([{"name": "Deploys", "kind": "goal", "goal": "Deploy Application", "threshold": 10, "hours": 24},
                    {"name": "Spike", "kind": "spike", "threshold": 50, "hours": 1, "recipients": ["a@b.io"]}]),
            &goals(),
        )
        .unwrap();
        assert_eq!(a[0].goal.as_deref(), Some("Deploy Application"));
        assert_eq!(a[1].kind, AlertKind::Spike);
        let w =
            webhooks(&json!([{"url": "https://hooks.example.com/x", "secret": SECRET}])).unwrap();
        assert_eq!(w[0].url, "https://hooks.example.com/x");
        assert_eq!(secret_key(SECRET).map(|k| k.len()), Some(24));
    }

    #[test]
    fn bad_settings_name_the_field() {
        let cases = [
            (reports(&json!([{"frequency": "daily", "recipients": ["a@b.io"]}])).err(), "reports[0].frequency: \"daily\" is not one of weekly, monthly"),
            (reports(&json!([{"frequency": "weekly", "recipients": []}])).err(), "reports[0].recipients: a list of 1 to 20 e-mail addresses"),
            (reports(&json!([{"frequency": "weekly", "recipients": ["nope"]}])).err(), "reports[0].recipients[0]: \"nope\" is not an e-mail address"),
            (alerts(&json!([{"name": "x", "kind": "goal", "goal": "Signup", "threshold": 1, "hours": 1}]), &goals()).err(), "alerts[0].goal: \"Signup\" is not one of the site's goals"),
            (alerts(&json!([{"name": "x", "kind": "spike", "threshold": 0, "hours": 1}]), &goals()).err(), "alerts[0].threshold: 0 is not a whole number of visitors, at least 1"),
            (alerts(&json!([{"name": "x", "kind": "drop", "threshold": 5, "hours": 0}]), &goals()).err(), "alerts[0].hours: 0 is not a window of 1 to 672 hours"),
            (alerts(&json!([{"name": "a\r\nBcc: x@y.z", "kind": "drop", "threshold": 5, "hours": 1}]), &goals()).err(), "alerts[0].name: a name of 1 to 120 bytes, one line, is required"),
            (alerts(&json!([{"name": "x", "kind": "spike", "goal": "Deploy Application", "threshold": 5, "hours": 1}]), &goals()).err(), "alerts[0].goal: only a goal alert has a goal"),
            (alerts(&json!([{"name": "x", "kind": "spike", "threshold": 5, "hours": 1}, {"name": "x", "kind": "drop", "threshold": 5, "hours": 1}]), &goals()).err(), "alerts: \"x\" is listed twice"),
            (webhooks(&json!([{"url": "not a url", "secret": SECRET}])).err(), "webhooks[0].url: \"not a url\" is not an https URL (http only to a private host; no user or fragment)"),
            (webhooks(&json!([{"url": "http://hooks.example.com/", "secret": SECRET}])).err(), "webhooks[0].url: \"http://hooks.example.com/\" is not an https URL (http only to a private host; no user or fragment)"),
            (webhooks(&json!([{"url": "https://hooks.example.com/", "secret": "hunter2"}])).err(), "webhooks[0].secret: whsec_ followed by the base64 of 24 to 64 random bytes is required (e.g. whsec_$(openssl rand -base64 32))"),
            (webhooks(&json!({})).err(), "webhooks: a list of at most 5"),
        ];
        for (error, message) in cases {
            assert_eq!(error.map(|e| e.0).as_deref(), Some(message));
        }
        // http to this machine is for a receiver beside the Worker (and tests)
        assert!(
            webhooks(&json!([{"url": "http://127.0.0.1:9000/hook", "secret": SECRET}])).is_ok()
        );
        for (url, private) in [
            ("http://127.0.0.1:9000/hook", true),
            ("https://10.0.0.5/", true),
            ("https://clickhouse:8443/", true),
            ("https://localhost/", true),
            ("https://hooks.example.com/x", false),
        ] {
            assert_eq!(reaches_private_network(url), private, "{url}");
        }
    }
}

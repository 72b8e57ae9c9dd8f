//! Plausible's limits (ANCHORS.md), field by field: a [`RawEvent`] becomes an
//! [`Event`] whose every field is known good, or a [`Rejection`] that names
//! each bad field — the 400 answer, and nothing stored.

use super::payload::{ParseError, RawEvent};
use super::props::{self, Props};
use model::columns::{cut, fit_decimal, MAX_HOST_BYTES, REVENUE_AMOUNT};
use model::settings::normalize_domain;
use serde_json::Value;
use std::collections::BTreeMap;
use url::Url;

pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_URL_BYTES: usize = model::columns::MAX_URL_BYTES as usize;
/// Longer referrers are cut, not rejected.
pub const MAX_REFERRER_BYTES: usize = model::columns::MAX_URL_BYTES as usize;
/// The most sites one event may be for (`"d": "a.example,b.example"`):
/// each is a row, so a request must not multiply itself.
pub const MAX_DOMAINS: usize = 10;
/// Engagement longer than this is a clock or a bug, not a visitor.
pub const MAX_ENGAGEMENT_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// A validated event: what the rest of the pipeline may rely on.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    pub url: Url,
    /// The URL's host, lowercase, no port.
    pub hostname: String,
    /// The URL's path; in hash mode followed by its `#fragment`.
    pub pathname: String,
    /// The sites the event is for, normalized (lowercase, no `www.`).
    pub domains: Vec<String>,
    pub referrer: Option<String>,
    pub props: Props,
    pub revenue: Option<Revenue>,
    pub interactive: bool,
    /// `sd`, percent, 0–100 (engagement events).
    pub scroll_depth: Option<u8>,
    /// `e`, milliseconds (engagement events).
    pub engagement_ms: Option<u32>,
    /// `v`: which tracker sent it.
    pub tracker_version: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revenue {
    /// A decimal number as text, as the client sent it (`"10.5"`).
    pub amount: String,
    /// ISO 4217, uppercase.
    pub currency: String,
}

/// The bad fields of a request, each with its messages, as Plausible answers
/// them: `{"errors": {"url": ["is required"]}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejection(pub BTreeMap<&'static str, Vec<String>>);

impl Rejection {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        let mut rejection = Rejection::default();
        rejection.add(field, message);
        rejection
    }

    /// The value, or `None` with the field's message recorded.
    fn check<T>(&mut self, field: &'static str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(field, message)).ok()
    }

    fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_default().push(message.into());
    }

    /// The answer's body.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "errors": self.0 }).to_string()
    }
}

/// A body that is not an event at all is the `request`'s fault.
impl From<ParseError> for Rejection {
    fn from(error: ParseError) -> Self {
        Rejection::field("request", error.to_string())
    }
}

/// Checks every field; all bad fields are reported together.
pub fn validate(raw: RawEvent) -> Result<Event, Rejection> {
    let mut errors = Rejection::default();
    let name = errors.check("name", name(raw.n));
    let url = errors.check("url", url(raw.u));
    let domains = errors.check("domain", domains(raw.d));
    let referrer = errors.check("referrer", referrer(raw.r));
    let props = errors.check("props", props::normalize(raw.p));
    let revenue = errors.check("revenue", revenue(raw.revenue));
    let interactive = errors.check("interactive", boolean(raw.i, true));
    let hash_mode = errors.check("h", hash_mode(raw.h));
    let tracker_version = errors.check("v", optional_integer(raw.v, u64::from(u32::MAX)));
    let engagement = name.as_deref() == Some("engagement");
    let scroll_depth = errors.check("sd", scroll_depth(raw.sd, engagement));
    let engagement_ms = errors.check("e", engagement_ms(raw.e, engagement));

    match (
        name,
        url,
        domains,
        referrer,
        props,
        revenue,
        interactive,
        hash_mode,
        tracker_version,
        scroll_depth,
        engagement_ms,
    ) {
        (
            Some(name),
            Some(url),
            Some(domains),
            Some(referrer),
            Some(props),
            Some(revenue),
            Some(interactive),
            Some(hash_mode),
            Some(tracker_version),
            Some(scroll_depth),
            Some(engagement_ms),
        ) if errors.0.is_empty() => {
            let hostname = url.host_str().unwrap_or("").to_ascii_lowercase();
            let mut pathname = url.path().to_string();
            if hash_mode {
                if let Some(fragment) = url.fragment() {
                    pathname.push('#');
                    pathname.push_str(fragment);
                }
            }
            Ok(Event {
                name,
                hostname,
                pathname,
                url,
                domains,
                referrer,
                props,
                revenue,
                interactive,
                scroll_depth,
                engagement_ms: engagement_ms.map(|ms| ms as u32),
                tracker_version: tracker_version.map(|v| v as u32),
            })
        }
        _ => Err(errors),
    }
}

fn required_string(value: Option<Value>) -> Result<String, String> {
    match value {
        None | Some(Value::Null) => Err("is required".into()),
        Some(Value::String(s)) if s.trim().is_empty() => Err("can't be blank".into()),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err("must be a string".into()),
    }
}

fn name(value: Option<Value>) -> Result<String, String> {
    let name = required_string(value)?;
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("must be at most {MAX_NAME_CHARS} characters"));
    }
    Ok(name)
}

fn url(value: Option<Value>) -> Result<Url, String> {
    let text = required_string(value)?;
    if text.len() > MAX_URL_BYTES {
        return Err(format!("must be at most {MAX_URL_BYTES} bytes"));
    }
    let url = Url::parse(&text).map_err(|e| format!("is not a valid URL ({e})"))?;
    if url.host_str().unwrap_or("").len() as u64 > MAX_HOST_BYTES {
        return Err(format!(
            "must have a host of at most {MAX_HOST_BYTES} bytes"
        ));
    }
    match url.scheme() {
        "data" | "javascript" | "blob" => Err(format!("must not be a {}: URL", url.scheme())),
        _ => Ok(url),
    }
}

/// The sites, each once (a site named twice is one row, not two).
fn domains(value: Option<Value>) -> Result<Vec<String>, String> {
    let text = required_string(value)?;
    let mut domains: Vec<String> = Vec::new();
    for domain in text.split(',').map(normalize_domain) {
        if domain.len() as u64 > MAX_HOST_BYTES {
            return Err(format!(
                "must name domains of at most {MAX_HOST_BYTES} bytes"
            ));
        }
        if !domain.is_empty() && !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.is_empty() {
        return Err("can't be blank".into());
    }
    if domains.len() > MAX_DOMAINS {
        return Err(format!("must name at most {MAX_DOMAINS} sites"));
    }
    Ok(domains)
}

fn referrer(value: Option<Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(cut(&s, MAX_REFERRER_BYTES).to_string())),
        Some(_) => Err("must be a string or null".into()),
    }
}

fn revenue(value: Option<Value>) -> Result<Option<Revenue>, String> {
    let object = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(object)) if object.is_empty() => return Ok(None),
        Some(Value::Object(object)) => object,
        Some(_) => return Err("must be an object with amount and currency".into()),
    };
    // the column's own bound (Decimal(18, 3)): an amount it cannot hold
    // would make ClickHouse refuse the batch this event shares with others
    let amount = match object.get("amount") {
        Some(Value::Number(n)) => fit_decimal(&REVENUE_AMOUNT, &n.to_string()),
        Some(Value::String(s)) if is_decimal(s.trim()) => fit_decimal(&REVENUE_AMOUNT, s.trim()),
        _ => return Err("amount must be a number".into()),
    }
    .map_err(|reason| format!("amount {reason}"))?;
    let currency = match object.get("currency") {
        Some(Value::String(s)) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
            s.to_ascii_uppercase()
        }
        _ => return Err("currency must be a 3-letter ISO 4217 code".into()),
    };
    Ok(Some(Revenue { amount, currency }))
}

fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

fn boolean(value: Option<Value>, default: bool) -> Result<bool, String> {
    match value {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => Err("must be true or false".into()),
    }
}

/// `h`: Plausible's trackers send `1`; `true` and `0`/`false` are accepted too.
fn hash_mode(value: Option<Value>) -> Result<bool, String> {
    match value {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(true),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(false),
        Some(_) => Err("must be 1 or 0".into()),
    }
}

fn optional_integer(value: Option<Value>, max: u64) -> Result<Option<u64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) if v <= max => Ok(Some(v)),
            _ => Err(format!("must be an integer from 0 to {max}")),
        },
        Some(_) => Err("must be an integer".into()),
    }
}

/// `sd`: required on engagement events, clamped to 100 as Plausible does.
fn scroll_depth(value: Option<Value>, engagement: bool) -> Result<Option<u8>, String> {
    let depth = optional_integer(value, u64::MAX)?;
    match depth {
        None if engagement => Err("is required for engagement events".into()),
        depth => Ok(depth.map(|d| d.min(100) as u8)),
    }
}

/// `e`: required on engagement events, under 30 days.
fn engagement_ms(value: Option<Value>, engagement: bool) -> Result<Option<u64>, String> {
    let ms = optional_integer(value, MAX_ENGAGEMENT_MS - 1)?;
    match ms {
        None if engagement => Err("is required for engagement events".into()),
        ms => Ok(ms),
    }
}

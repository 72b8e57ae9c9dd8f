//! The wire format of `POST /api/event`, as Plausible's trackers send it: one
//! JSON object with one-letter keys (`{"n","u","d","r","p","$","i","h","v","sd","e"}`),
//! or the long names of Plausible's Events API for server-side senders
//! (`name`, `url`, `domain`, `referrer`, `props`, `revenue`, `interactive`).
//!
//! Values stay untyped here: [`super::validate`] checks each one and names the
//! field in its error, which serde's own type errors would not do.

use serde::Deserialize;
use serde_json::Value;

/// The largest body read; Plausible's limit.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
pub struct RawEvent {
    #[serde(alias = "name")]
    pub n: Option<Value>,
    #[serde(alias = "url")]
    pub u: Option<Value>,
    #[serde(alias = "domain")]
    pub d: Option<Value>,
    #[serde(alias = "referrer")]
    pub r: Option<Value>,
    #[serde(alias = "props", alias = "m", alias = "meta")]
    pub p: Option<Value>,
    #[serde(rename = "$", alias = "revenue")]
    pub revenue: Option<Value>,
    #[serde(alias = "interactive")]
    pub i: Option<Value>,
    #[serde(alias = "hashMode")]
    pub h: Option<Value>,
    pub v: Option<Value>,
    pub sd: Option<Value>,
    pub e: Option<Value>,
}

/// Why a body is not an event at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the body is not valid JSON: {0}")]
    NotJson(String),
    #[error("the body must be a JSON object")]
    NotAnObject,
}

/// Parses a request body. `props` sent as a JSON string (Plausible's legacy
/// tracker did) are decoded by the validator, not here.
pub fn parse(body: &[u8]) -> Result<RawEvent, ParseError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ParseError::TooLarge);
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
    if !value.is_object() {
        return Err(ParseError::NotAnObject);
    }
    serde_json::from_value(value).map_err(|e| ParseError::NotJson(e.to_string()))
}

//! JSON answers and the bearer-token checks shared by the Stats and admin APIs.

use worker::{Headers, Response, Result};

/// `{"error": message}` with `status`.
pub fn error(status: u16, message: &str) -> Result<Response> {
    Ok(
        Response::from_json(&serde_json::json!({ "error": message }))?
            .with_status(status)
            .with_headers(no_store()?),
    )
}

pub fn json(value: &serde_json::Value) -> Result<Response> {
    Ok(Response::from_json(value)?.with_headers(no_store()?))
}

fn no_store() -> Result<Headers> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    headers.set("Cache-Control", "no-store")?;
    Ok(headers)
}

//! Every route's answers, and its one error boundary: a route returns
//! `Result<Response, Failure>`, and [`json`] (the JSON APIs) or
//! `event::post` (which adds CORS) turns a [`Failure`] into its status.
//! Details of a failure go to the log; the client gets a fixed message (a
//! misconfigured Worker: the variable's name) — except for a refusal,
//! whose message is meant for the client.

use crate::config::ConfigError;
use control::access::Denied;
use control::admin::AdminError;
use control::people::PeopleError;
use stats::columns::RowError;
use stats::error::StatsError;
use stats::query::QueryError;
use worker::{Headers, Response};

/// Why a route did not answer as it meant to.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// An answer meant for the client: the request's fault or not allowed
    /// (4xx), or a feature not configured; its status and message.
    #[error("{1}")]
    Refused(u16, String),
    /// A variable is missing or invalid: 500 naming the variable, never its value.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The platform (a queue, a Durable Object, a fetch) failed: 503.
    #[error("platform: {0}")]
    Platform(#[from] worker::Error),
    /// ClickHouse failed, or answered what cannot be read: 503.
    #[error("storage: {0}")]
    Storage(String),
}

impl Failure {
    pub fn refused(status: u16, message: impl Into<String>) -> Failure {
        Failure::Refused(status, message.into())
    }

    /// The status and the message the client gets.
    pub fn public(&self) -> (u16, String) {
        match self {
            Failure::Refused(status, message) => (*status, message.clone()),
            Failure::Config(error) => (
                500,
                format!(
                    "the Worker is misconfigured: {} (its log says how)",
                    error.variable()
                ),
            ),
            Failure::Platform(_) => (
                503,
                "the service is unavailable for a moment; try again shortly".into(),
            ),
            Failure::Storage(_) => (
                503,
                "the service cannot reach its storage; try again shortly".into(),
            ),
        }
    }

    /// Logs what the client is not told (refusals are the client's business, not an incident).
    pub fn log(&self, route: &str) {
        if !matches!(self, Failure::Refused(..)) {
            super::log::error(route, self);
        }
    }
}

impl From<Denied> for Failure {
    fn from(denied: Denied) -> Self {
        Failure::Refused(denied.status(), denied.to_string())
    }
}

impl From<PeopleError> for Failure {
    fn from(error: PeopleError) -> Self {
        Failure::Refused(error.status, error.message)
    }
}

impl From<QueryError> for Failure {
    fn from(error: QueryError) -> Self {
        Failure::Refused(400, error.0)
    }
}

impl From<AdminError> for Failure {
    fn from(error: AdminError) -> Self {
        Failure::Refused(400, error.0)
    }
}

impl From<StatsError> for Failure {
    fn from(error: StatsError) -> Self {
        match error {
            StatsError::Query(error) => error.into(),
            StatsError::Row(error) => error.into(),
        }
    }
}

impl From<RowError> for Failure {
    fn from(error: RowError) -> Self {
        Failure::Storage(error.to_string())
    }
}

impl From<super::body::TooLarge> for Failure {
    fn from(error: super::body::TooLarge) -> Self {
        Failure::refused(413, error.to_string())
    }
}

impl From<serde_json::Error> for Failure {
    fn from(error: serde_json::Error) -> Self {
        Failure::Storage(format!("JSON: {error}"))
    }
}

/// The error boundary of the JSON APIs: the response, or the failure as
/// `{"error": message}` with its status.
pub fn json(route: &str, result: Result<Response, Failure>) -> worker::Result<Response> {
    match result {
        Ok(response) => Ok(response),
        Err(failure) => {
            failure.log(route);
            let (status, message) = failure.public();
            error(status, &message)
        }
    }
}

/// `{"error": message}` with `status`.
pub fn error(status: u16, message: &str) -> worker::Result<Response> {
    Ok(
        Response::from_json(&serde_json::json!({ "error": message }))?
            .with_status(status)
            .with_headers(no_store()?),
    )
}

pub fn ok(value: &serde_json::Value) -> Result<Response, Failure> {
    Ok(Response::from_json(value)?.with_headers(no_store()?))
}

fn no_store() -> worker::Result<Headers> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    headers.set("Cache-Control", "no-store")?;
    Ok(headers)
}

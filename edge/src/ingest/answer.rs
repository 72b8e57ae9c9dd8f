//! The HTTP answer to `POST /api/event`, as Plausible gives it: `202 ok` when
//! the event is accepted and when it is silently dropped (with
//! `x-plausible-dropped: 1`), `400 {"errors": …}` when it is invalid.

use super::payload::ParseError;
use super::validate::Rejection;

/// Why a valid event is not stored. Counted, never an error for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// None of the event's domains is a configured site.
    UnknownSite,
    Bot,
    ReferrerSpam,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::UnknownSite => "unknown_site",
            DropReason::Bot => "bot",
            DropReason::ReferrerSpam => "referrer_spam",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Dropped(DropReason),
    Invalid(Rejection),
}

impl From<ParseError> for Outcome {
    fn from(error: ParseError) -> Self {
        Outcome::Invalid(Rejection::field("request", error.to_string()))
    }
}

/// Status, extra headers and body of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: String,
}

pub fn answer(outcome: &Outcome) -> Answer {
    let cors = ("access-control-allow-origin", "*");
    match outcome {
        Outcome::Accepted => Answer {
            status: 202,
            headers: vec![cors, ("content-type", "text/plain")],
            body: "ok".into(),
        },
        Outcome::Dropped(_) => Answer {
            status: 202,
            headers: vec![
                cors,
                ("content-type", "text/plain"),
                ("x-plausible-dropped", "1"),
            ],
            body: "ok".into(),
        },
        Outcome::Invalid(rejection) => Answer {
            status: 400,
            headers: vec![cors, ("content-type", "application/json")],
            body: rejection.to_json(),
        },
    }
}

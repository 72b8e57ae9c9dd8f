//! The HTTP answers of `POST /api/event`, as Plausible gives them: `202 ok`
//! when the event is accepted and when it is silently dropped (with
//! `x-plausible-dropped: 1`), `400 {"errors": …}` when it is invalid — and,
//! when the Worker itself fails, a 5xx. Every answer carries the CORS header,
//! so a tracker on any page sees its status.

use crate::pipeline::Refused;

/// Status, headers and body of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: String,
}

const CORS: (&str, &str) = ("access-control-allow-origin", "*");

/// The event is on the queue.
pub fn accepted() -> Answer {
    Answer {
        status: 202,
        headers: vec![CORS, ("content-type", "text/plain")],
        body: "ok".into(),
    }
}

/// The body is invalid (400) or the event is dropped (202, as if accepted).
pub fn refused(refused: &Refused) -> Answer {
    match refused {
        Refused::Dropped(_) => {
            let mut answer = accepted();
            answer.headers.push(("x-plausible-dropped", "1"));
            answer
        }
        Refused::Invalid(rejection) => Answer {
            status: 400,
            headers: vec![CORS, ("content-type", "application/json")],
            body: rejection.to_json(),
        },
    }
}

/// The Worker could not take the event (storage or platform failure): the
/// client may send it again. `message` is fixed text, never the error itself.
pub fn failed(status: u16, message: &str) -> Answer {
    Answer {
        status,
        headers: vec![
            CORS,
            ("content-type", "application/json"),
            ("cache-control", "no-store"),
        ],
        body: serde_json::json!({ "error": message }).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::drop::{DropReason, Dropped};
    use crate::protocol::validate::Rejection;

    #[test]
    fn every_answer_carries_cors_and_a_status_a_tracker_can_read() {
        let dropped = Refused::Dropped(Dropped {
            reason: DropReason::Bot,
            site: String::new(),
        });
        let invalid = Refused::Invalid(Rejection::field("url", "is required"));
        let answers = [
            (accepted(), 202),
            (refused(&dropped), 202),
            (refused(&invalid), 400),
            (failed(503, "try again"), 503),
        ];
        for (answer, status) in answers {
            assert_eq!(answer.status, status, "{answer:?}");
            assert!(answer.headers.contains(&CORS), "{answer:?}");
        }
        assert!(refused(&dropped)
            .headers
            .contains(&("x-plausible-dropped", "1")));
        let body: serde_json::Value = serde_json::from_str(&failed(503, "try again").body).unwrap();
        assert_eq!(body["error"], "try again");
    }
}

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

    #[test]
    fn every_answer_carries_cors_and_failures_say_nothing_internal() {
        let failure = failed(503, "the event could not be queued; send it again");
        assert_eq!(failure.status, 503);
        assert!(failure.headers.contains(&CORS) && accepted().headers.contains(&CORS));
        assert_eq!(
            failure.body,
            r#"{"error":"the event could not be queued; send it again"}"#
        );
    }
}

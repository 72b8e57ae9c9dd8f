//! `POST /api/event`: Plausible's event protocol, from request body to a
//! validated event, and the answer the client gets.
//!
//! - [`payload`]: the wire format (the one description of it on the edge side)
//! - [`validate`]: Plausible's limits, field by field, into an [`validate::Event`]
//! - [`props`]: custom props normalized as Plausible does
//! - [`answer`]: the HTTP answer for each outcome (202, 202 dropped, 400)

pub mod answer;
pub mod payload;
pub mod props;
pub mod validate;

use crate::enrich::known::is_referrer_spam;
use crate::enrich::source::referrer_host;
use answer::{DropReason, Outcome};
use validate::Event;

/// Parse → validate → drop: what one request body becomes. `is_site` says
/// whether a (normalized) domain is a configured site; an event keeps only
/// its configured domains, and one with none is dropped, as is one whose
/// referrer is a known spammer.
pub fn receive(body: &[u8], is_site: impl Fn(&str) -> bool) -> (Outcome, Option<Event>) {
    let raw = match payload::parse(body) {
        Ok(raw) => raw,
        Err(error) => return (error.into(), None),
    };
    let mut event = match validate::validate(raw) {
        Ok(event) => event,
        Err(rejection) => return (Outcome::Invalid(rejection), None),
    };
    event.domains.retain(|domain| is_site(domain));
    if event.domains.is_empty() {
        return (Outcome::Dropped(DropReason::UnknownSite), None);
    }
    let referrer_host = event.referrer.as_deref().and_then(referrer_host);
    if referrer_host.is_some_and(|host| is_referrer_spam(&host)) {
        return (Outcome::Dropped(DropReason::ReferrerSpam), None);
    }
    (Outcome::Accepted, Some(event))
}

#[cfg(test)]
mod hostile_inputs;

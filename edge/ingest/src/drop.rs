//! What is valid but not stored, decided in order of cost: an event for no
//! configured site, one from a known referrer spammer, one sent by a bot
//! (the only check that reads the User-Agent). Each drop is answered `202`
//! like an accepted event (as Plausible does: a bot learns nothing) and
//! counted per UTC day, site and reason in `dropped_events`.

use crate::enrich::known::is_referrer_spam;
use crate::enrich::source::referrer_host;
use crate::enrich::user_agent::is_bot;
use crate::protocol::validate::Event;
use model::message::{DropCount, QueueMessage};
use model::time::utc_date;

/// Why a valid event is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// None of the event's domains is a configured site.
    UnknownSite,
    ReferrerSpam,
    Bot,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::UnknownSite => "unknown_site",
            DropReason::ReferrerSpam => "referrer_spam",
            DropReason::Bot => "bot",
        }
    }
}

/// A dropped event, as it is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub reason: DropReason,
    /// The configured site it was for; "" when the payload alone decided
    /// (an unknown site's domain is client input, and is not stored).
    pub site: String,
}

impl Dropped {
    /// The queue message that counts it on the UTC day of `now_ms`.
    pub fn count(&self, now_ms: u64) -> QueueMessage {
        QueueMessage::Dropped(DropCount {
            date: utc_date(now_ms),
            site_domain: self.site.clone(),
            reason: self.reason.as_str().to_string(),
        })
    }
}

/// The event with only its configured domains, or why it is dropped.
pub fn sift(
    mut event: Event,
    is_site: impl Fn(&str) -> bool,
    user_agent: &str,
) -> Result<Event, Dropped> {
    let payload_only = |reason| Dropped {
        reason,
        site: String::new(),
    };
    event.domains.retain(|domain| is_site(domain));
    let Some(site) = event.domains.first().cloned() else {
        return Err(payload_only(DropReason::UnknownSite));
    };
    let referrer_host = event.referrer.as_deref().and_then(referrer_host);
    if referrer_host.is_some_and(|host| is_referrer_spam(&host)) {
        return Err(payload_only(DropReason::ReferrerSpam));
    }
    if is_bot(user_agent) {
        return Err(Dropped {
            reason: DropReason::Bot,
            site,
        });
    }
    Ok(event)
}

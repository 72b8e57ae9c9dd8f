//! What is valid but not stored, decided in order of cost: an event for no
//! configured site, one from a known referrer spammer, one sent by a bot
//! (the only check that reads the User-Agent); then, for the sites that ask
//! for it, one from a browser that opted out ([`opted_out`]: Global Privacy
//! Control or Do Not Track). Each drop is answered `202`
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
    /// The browser sent Global Privacy Control or Do Not Track, and every
    /// site of the event drops those (`Site::drop_opted_out`).
    OptedOut,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::UnknownSite => "unknown_site",
            DropReason::ReferrerSpam => "referrer_spam",
            DropReason::Bot => "bot",
            DropReason::OptedOut => "opted_out",
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

/// Whether the request's headers carry an opt-out: Global Privacy Control
/// (`Sec-GPC: 1`, the W3C draft) or Do Not Track (`DNT: 1`).
pub fn opt_out_signal(gpc: Option<&str>, dnt: Option<&str>) -> bool {
    gpc.map(str::trim) == Some("1") || dnt.map(str::trim) == Some("1")
}

/// The event without the sites that drop opted-out browsers (`drops`), when
/// the browser opted out (`signal`); dropped when no site is left.
pub fn opted_out(
    mut event: Event,
    signal: bool,
    drops: impl Fn(&str) -> bool,
) -> Result<Event, Dropped> {
    if !signal {
        return Ok(event);
    }
    let Some(first) = event.domains.first().cloned() else {
        return Ok(event);
    };
    event.domains.retain(|domain| !drops(domain));
    if event.domains.is_empty() {
        return Err(Dropped {
            reason: DropReason::OptedOut,
            site: first,
        });
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(domains: &[&str]) -> Event {
        let body = format!(
            r#"{{"n":"pageview","u":"https://{}/","d":"{}"}}"#,
            domains[0],
            domains.join(",")
        );
        let raw = crate::protocol::payload::parse(body.as_bytes()).unwrap();
        crate::protocol::validate::validate(raw).unwrap()
    }

    #[test]
    fn an_opted_out_browser_is_dropped_only_by_the_sites_that_ask() {
        assert!(opt_out_signal(Some("1"), None) && opt_out_signal(None, Some(" 1")));
        assert!(!opt_out_signal(Some("0"), Some("0")) && !opt_out_signal(None, None));
        let drops = |d: &str| d == "private.example";
        let both = event(&["private.example", "public.example"]);
        let kept = opted_out(both.clone(), true, drops).unwrap();
        assert_eq!(kept.domains, ["public.example"]);
        assert_eq!(opted_out(both, false, drops).unwrap().domains.len(), 2);
        let dropped = opted_out(event(&["private.example"]), true, drops).unwrap_err();
        assert_eq!(
            (dropped.reason.as_str(), dropped.site.as_str()),
            ("opted_out", "private.example")
        );
    }
}

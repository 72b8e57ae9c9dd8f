//! The privacy report a works council or data-protection officer reads: what
//! is collected, what never is, how long the salt and the events live, the
//! minimum group size, and who can see what — made from the code's own
//! constants and rules and one site's settings, each statement with the
//! test that proves it. Shown by the dashboard's Privacy page
//! (`GET /api/v2/privacy`) and written into docs/privacy.md
//! (`scripts/privacy-report.mjs`); `tests/privacy.test.mjs` fails when a
//! proof names a test that does not exist, or the document is not the
//! code's. Pure: built and tested natively, as [`crate::config`].

use ingest::drop::DropReason;
use ingest::privacy::salt::{day_of, is_kept};
use model::columns;
use model::settings::{Retention, Role, Site, Store, MIN_GROUP_SIZE_NEW};
use serde_json::{json, Value};
use stats::privacy::MAX_VARIANTS;

/// One statement of the report, and the test that proves it: a file of
/// `tests/` and the exact name of a test in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub topic: &'static str,
    pub text: String,
    pub proof: (&'static str, &'static str),
}

const EDGE_ROWS: (&str, &str) = (
    "tests/edge.test.mjs",
    "events from our tracker and from Plausible’s land as rows with the right fields, and no IP or User-Agent anywhere",
);
const EDGE_NOTHING_LEFT: (&str, &str) = (
    "tests/edge.test.mjs",
    "at the end: no IP, User-Agent or marker in any table or log line, and no cookie or storage in a visitor’s browser",
);
const TRACKER: (&str, &str) = (
    "tests/tracker.test.mjs",
    "privacy: only Plausible protocol fields leave the browser, no cookies, no storage",
);
const SALT: (&str, &str) = (
    "tests/salt.test.mjs",
    "a salt is deleted once the day after its own is over; yesterday’s and today’s are kept",
);
const RETENTION: (&str, &str) = (
    "tests/retention.test.mjs",
    "the cron deletes a site’s events, stored visits and page rollup older than its retention, and keeps the rest",
);
const GROUPS: (&str, &str) = (
    "tests/privacy.test.mjs",
    "with a minimum group size, every Stats API answer equals the brute-force answer, rolled days or not",
);
const DIFFERENCING: (&str, &str) = (
    "tests/privacy.test.mjs",
    "an attacker differencing the answers recovers no hidden group (randomised)",
);
const FUNNELS: (&str, &str) = (
    "tests/privacy.test.mjs",
    "funnels: a step of fewer than k visitors, or whose drop-off is, is hidden with every later one, as the oracle says",
);
const PROPS: (&str, &str) = (
    "tests/privacy.test.mjs",
    "realtime below k is null; a prop outside breakdown_props is counted, never listed; bad settings are a 400",
);
const OPT_OUT: (&str, &str) = (
    "tests/privacy.test.mjs",
    "a site that asks drops events from browsers sending Global Privacy Control or Do Not Track, counted as drops",
);
const ROLES: (&str, &str) = (
    "tests/teams.test.mjs",
    "every route has a rule, and every role gets what its rule says",
);

/// How many UTC days a salt is kept, read from the salt's own rule: the
/// days back from now whose salt may still exist.
fn salt_days() -> u64 {
    const DAY_MS: u64 = 86_400_000;
    // a fixed instant, so that the report is the same whenever it is made
    let now = 1_795_608_000_000; // 2026-11-25 12:00 UTC
    (0..7)
        .filter(|back| is_kept(&day_of(now - back * DAY_MS), now))
        .count() as u64
}

/// The report for `site`; `store` (when known) says who has a role on it.
pub fn report(site: &Site, store: Option<&Store>) -> Vec<Statement> {
    let collected: Vec<&str> = columns::events().iter().map(|c| c.name).collect();
    let salt_days = salt_days();
    let k = site.min_group_size;
    let mut out = vec![
        Statement {
            topic: "Collected",
            text: format!(
                "Each event is stored as one row of these {} columns, and nothing else: {}. The visitor id is a keyed hash (SipHash-2-4) of the day's salt, the browser's User-Agent, its IP address and the site; country, browser, operating system and device are derived, then the IP address and User-Agent are dropped.",
                collected.len(),
                collected.join(", ")
            ),
            proof: EDGE_ROWS,
        },
        Statement {
            topic: "Never collected",
            text: "No IP address, no full User-Agent, no cookie and no browser storage (localStorage, sessionStorage, IndexedDB): none reaches a row, a queue message or a log line, and the tracker writes none in the browser.".into(),
            proof: EDGE_NOTHING_LEFT,
        },
        Statement {
            topic: "Never collected",
            text: "The tracker sends Plausible's protocol fields only: event name, URL, referrer, domain, custom props, revenue, and engagement numbers.".into(),
            proof: TRACKER,
        },
        Statement {
            topic: "Salt",
            text: format!(
                "The salt changes every UTC day and is deleted after at most {} hours (kept for its own day and the next, for events near midnight): the same person is a new visitor id every day, and after that no visitor id can be recomputed from anything.",
                salt_days * 24
            ),
            proof: SALT,
        },
        Statement {
            topic: "Retention",
            text: match site.retention.months() {
                Some(months) => format!(
                    "Events, stored visits and rollups older than {months} months are deleted (retention {}).",
                    retention_name(site.retention)
                ),
                None => "Events are kept until the site's retention is set (indefinite): 6 months, 1 year or 2 years delete older ones.".into(),
            },
            proof: RETENTION,
        },
        Statement {
            topic: "Minimum group size",
            text: if k > 1 {
                format!(
                                        "No number is shown for fewer than {k} visitors: a breakdown row, a time bucket, a top figure, a rate's total, an average over engaged visitors, a realtime count is shown only if on one UTC day at least {k} different visitor ids were in it; otherwise the Stats API leaves it out (null for the top figures), the dashboard says \"< {k}\", exports and reports leave it out. Where one group is hidden, the smallest other one is hidden too, so that no total minus the shown rows gives it (new sites start at {MIN_GROUP_SIZE_NEW})."
                )
            } else {
                format!(
                    "Off (minimum group size 1): numbers of any size are shown, as Plausible does. New sites start at {MIN_GROUP_SIZE_NEW}."
                )
            },
            proof: GROUPS,
        },
    ];
    if k > 1 {
        out.push(Statement {
            topic: "Minimum group size",
                        text: format!(
                "Differencing: each answer is paired with the answers to the same query with one filter clause, value or branch left out, at any depth; where what the two differ by (the events one holds for and the other not) comes from some visitors but on no day {k}, the group is hidden, whatever the metric. A clause asking for values of a dimension is refused a value the breakdown by that dimension hides; a filter that removes a whole small group hides another group with it; small groups look like empty ones. At most {MAX_VARIANTS} such comparisons a query; more filters are refused. Not defended: chains of two or more filter changes, dates that differ by a day, and what the hiding itself points at (which groups a comparison hides); docs/privacy.md lists each."
            ),
            proof: DIFFERENCING,
        });
        out.push(Statement {
            topic: "Minimum group size",
                        text: format!("Funnels show a step only while at least {k} visitors reached it on one day and its drop-off is none or from at least {k} visitors; later steps are hidden with it; a funnel whose filters, one less, differ by fewer than {k} visitors' step events is hidden whole; the visits that never entered are not shown."),
            proof: FUNNELS,
        });
    }
    out.push(Statement {
        topic: "Custom properties",
        text: match &site.breakdown_props {
            None => "Every custom property's values may be listed in breakdowns.".into(),
            Some(allowed) if allowed.is_empty() => {
                "No custom property's values are listed: they are stored and can be filtered and counted only.".into()
            }
            Some(allowed) => format!(
                "Only these custom properties' values may be listed: {}; the others are stored and can be filtered and counted only.",
                allowed.join(", ")
            ),
        },
        proof: PROPS,
    });
    out.push(Statement {
        topic: "Opt-out",
        text: if site.drop_opted_out {
            format!(
                "Events from browsers that send Global Privacy Control (Sec-GPC: 1) or Do Not Track (DNT: 1) are dropped and only counted (reason {}).",
                DropReason::OptedOut.as_str()
            )
        } else {
            "Events from browsers that send Global Privacy Control or Do Not Track are kept (they hold no personal data); the site can choose to drop them.".into()
        },
        proof: OPT_OUT,
    });
    out.push(Statement {
        topic: "Who can see what",
        text: who_can_see(site, store),
        proof: ROLES,
    });
    out
}

fn retention_name(retention: Retention) -> &'static str {
    Retention::NAMES
        .iter()
        .copied()
        .find(|name| Retention::parse(name) == Some(retention))
        .unwrap_or("indefinite")
}

fn who_can_see(site: &Site, store: Option<&Store>) -> String {
    let rules = "Viewers read the dashboard and the Stats API; admins also change the site's settings and invite; owners also manage owners and delete the site; super-admins manage every site. API keys read only their sites; a shared link reads one site's dashboard, limited to its filters.";
    let Some(store) = store else {
        return rules.into();
    };
    let count = |role: Role| {
        store
            .users
            .iter()
            .filter(|u| u.roles.get(&site.domain) == Some(&role))
            .count()
    };
    let super_admins = store.users.iter().filter(|u| u.super_admin).count();
    let keys = store
        .keys
        .iter()
        .filter(|k| k.sites.contains(&site.domain))
        .count();
    let links = store
        .shared_links
        .iter()
        .filter(|l| l.site == site.domain)
        .count();
    format!(
        "{rules} Now: {} viewers, {} admins, {} owners, {super_admins} super-admins, {keys} API keys and {links} shared links.",
        count(Role::Viewer),
        count(Role::Admin),
        count(Role::Owner)
    )
}

/// The report as the dashboard reads it.
pub fn to_json(site: &Site, statements: &[Statement]) -> Value {
    json!({
        "site": site.domain,
        "min_group_size": site.min_group_size,
        "statements": statements.iter().map(|s| json!({
            "topic": s.topic,
            "text": s.text,
            "proof": { "file": s.proof.0, "test": s.proof.1 },
        })).collect::<Vec<_>>(),
    })
}

/// The report as docs/privacy.md holds it: one section per topic, each
/// statement with its proof.
pub fn to_markdown(statements: &[Statement]) -> String {
    let mut out = String::new();
    let mut topic = "";
    for s in statements {
        if s.topic != topic {
            topic = s.topic;
            out.push_str(&format!("\n### {topic}\n\n"));
        }
        out.push_str(&format!(
            "- {} *Proof: [`{}`](../{}) › “{}”.*\n",
            s.text, s.proof.0, s.proof.0, s.proof.1
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_follows_the_site_and_the_code() {
        assert_eq!(salt_days(), 2, "today's and yesterday's");
        let site = Site::new("portal.example");
        let first = report(&site, None);
        let text: Vec<&str> = first.iter().map(|s| s.text.as_str()).collect();
        assert!(text[0].contains("visitor_id") && !text[0].contains(", ip,"));
        assert!(text.iter().any(|t| t.contains("at most 48 hours")));
        assert!(text
            .iter()
            .any(|t| t.starts_with("No number is shown for fewer than 5 visitors")));
        assert!(text
            .iter()
            .any(|t| t.contains("At most 32 such comparisons")));
        let open = Site {
            min_group_size: 1,
            breakdown_props: Some(vec!["language".into()]),
            drop_opted_out: true,
            retention: Retention::SixMonths,
            ..site
        };
        let second = report(&open, None);
        let text: Vec<&str> = second.iter().map(|s| s.text.as_str()).collect();
        assert!(text
            .iter()
            .any(|t| t.starts_with("Off (minimum group size 1)")));
        assert!(!text.iter().any(|t| t.starts_with("Differencing")));
        assert!(text.iter().any(|t| t.contains("older than 6 months")));
        assert!(text
            .iter()
            .any(|t| t.contains("these custom properties' values may be listed: language")));
        assert!(text.iter().any(|t| t.contains("reason opted_out")));
        let markdown = to_markdown(&second);
        assert!(markdown.contains("\n### Salt\n"));
        assert!(markdown.contains("*Proof: [`tests/salt.test.mjs`](../tests/salt.test.mjs)"));
    }
}

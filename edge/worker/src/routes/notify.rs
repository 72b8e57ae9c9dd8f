//! The cron's third pass, after retention and rollups: each site's alerts
//! checked, its due reports e-mailed, alerts posted to its webhooks, and
//! failed deliveries tried again (the `notify` crate decides all of it;
//! here are the Stats API reads, the SMTP socket and the `fetch`).
//! Self-hosted workerd has no cron: `POST /api/admin/notifications/run`
//! runs the same pass.

use super::bindings::{config, random_bytes};
use super::stats::answer_of;
use super::{log, settings};
use crate::config::{Clickhouse, Config};
use control::notifications::secret_key;
use control::settings::Change;
use futures_util::future::{select, Either};
use model::settings::{Delivery, Sent, Site, Store};
use notify::message::{alert_body, alert_email, report_email, Email};
use notify::smtp::{self, Action, Security, Server};
use notify::{alert, measure, schedule, webhook};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use worker::{
    AbortController, Date, Delay, Env, Fetch, Headers, Method, Request, RequestInit,
    RequestRedirect, SecureTransport, Socket,
};

/// One e-mail's whole SMTP exchange, and one webhook attempt, give up after these.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// The most a server's replies may buffer before one is whole.
const MAX_REPLY_BYTES: usize = 64 * 1024;
/// A pass starts no new alert, report or delivery after this long (what is
/// left waits for the next run); its lease outlasts it by the longest step.
const PASS_BUDGET_MS: u64 = 10 * 60_000;
const LEASE_MS: u64 = PASS_BUDGET_MS + 2 * 60_000;

/// What one pass did.
#[derive(Debug, Default)]
pub struct Pass {
    /// `<site> <key>` of each alert fired and report sent.
    pub sent: Vec<String>,
    /// Webhook deliveries accepted by their endpoints.
    pub delivered: u32,
    /// Deliveries kept to try again.
    pub pending: u32,
    pub failed: Vec<String>,
    change: Notified,
}

#[derive(Debug, Default)]
struct Notified {
    sent: Vec<Sent>,
    finished: Vec<String>,
    pending: Vec<Delivery>,
}

impl Pass {
    fn fail(&mut self, message: String) {
        log::error("notify", &message);
        self.failed.push(message);
    }

    /// Saves what was done so far (so a pass cut short sends nothing twice);
    /// `release` ends the pass's lease.
    async fn save(&mut self, env: &Env, now: u64, release: bool) {
        let Notified {
            sent,
            finished,
            pending,
        } = std::mem::take(&mut self.change);
        if sent.is_empty() && finished.is_empty() && pending.is_empty() && !release {
            return;
        }
        let change = Change::Notified {
            sent,
            finished,
            pending,
            forget_before_ms: schedule::forget_before(now),
            release,
        };
        match settings::change(env, "notifications", &change).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => self.fail(format!("notifications: keeping what was sent: {e}")),
            Err(e) => self.fail(format!("notifications: keeping what was sent: {e}")),
        }
    }
}

/// A webhook URL as logs may show it: its host (its path may be a credential).
fn host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

/// One pass over every site, then the outbox.
pub async fn run(env: &Env) -> Pass {
    let mut pass = Pass::default();
    let config = match config(env) {
        Ok(config) => config,
        Err(e) => {
            pass.fail(format!("notifications: {e}"));
            return pass;
        }
    };
    let now = Date::now().as_millis();
    // one pass at a time: the cron's and one asked for would both send
    let lease = Change::LeaseNotifications {
        now_ms: now,
        until_ms: now + LEASE_MS,
    };
    let store = match settings::change(env, "notifications", &lease).await {
        Ok(Ok(store)) => store,
        Ok(Err(e)) => {
            pass.fail(format!("notifications: {e}"));
            return pass;
        }
        Err(e) => {
            pass.fail(format!("notifications: {e}"));
            return pass;
        }
    };
    let over = || Date::now().as_millis() > now + PASS_BUDGET_MS;
    for site in &store.sites {
        if over() {
            pass.fail("notifications: out of time; the rest waits for the next run".into());
            break;
        }
        alerts(env, &config, &store, site, now, &mut pass).await;
        reports(env, &config, &store, site, now, &mut pass).await;
    }
    for delivery in store.outbox.iter().filter(|d| webhook::due(d, now)) {
        if over() {
            break;
        }
        let site = store.sites.iter().find(|s| s.domain == delivery.site);
        deliver(site, delivery.clone(), &mut pass).await;
        pass.save(env, now, false).await;
    }
    pass.save(env, now, true).await;
    if !pass.sent.is_empty() || pass.delivered > 0 {
        log::info(
            "notify",
            format!(
                "sent {}, webhooks delivered {}, pending {}",
                pass.sent.len(),
                pass.delivered,
                pass.pending
            ),
        );
    }
    pass
}

/// A Stats API v2 query's answer, as `POST /api/v2/query` gives it.
async fn measure(clickhouse: &Clickhouse, site: &Site, body: &Value) -> Result<Value, String> {
    let query = stats::query::parse(body.to_string().as_bytes()).map_err(|e| e.to_string())?;
    answer_of(clickhouse, site, query)
        .await
        .map_err(|e| e.public().1)
}

async fn alerts(env: &Env, config: &Config, store: &Store, site: &Site, now: u64, pass: &mut Pass) {
    for rule in &site.alerts {
        if !schedule::alert_may_fire(&site.domain, rule, now, &store.sent) {
            continue;
        }
        let window = schedule::alert_window(rule, now);
        let body = measure::alert_query(site, rule, &window);
        // an answer without its number is a failure, not zero visitors (a
        // drop alert would fire)
        let answer = measure(&config.clickhouse_read, site, &body).await;
        if answer.as_ref().is_ok_and(measure::hidden) {
            // fewer visitors than the site's minimum group size: an alert
            // (or its silence) would tell how many
            continue;
        }
        let visitors = match answer {
            Ok(answer) => measure::first_number(&answer).ok_or("no visitors in the answer".into()),
            Err(e) => Err(e),
        };
        let visitors = match visitors {
            Ok(visitors) => visitors,
            Err(e) => {
                pass.fail(format!("alert {:?} of {}: {e}", rule.name, site.domain));
                continue;
            }
        };
        let Some(firing) = alert::decide(rule, visitors, &window) else {
            continue;
        };
        // fired once, whatever its deliveries do: it is quiet for its window
        let key = schedule::alert_key(rule);
        pass.sent.push(format!("{} {key}", site.domain));
        pass.change.sent.push(Sent {
            site: site.domain.clone(),
            key,
            at_ms: now,
        });
        pass.save(env, now, false).await;
        if !rule.recipients.is_empty() {
            let email = alert_email(&site.domain, &firing, &rule.recipients);
            if let Err(e) = send_email(config, &email, now).await {
                pass.fail(format!("alert {:?} of {}: {e}", rule.name, site.domain));
            }
        }
        let timestamp = model::time::utc_timestamp(now).replace(' ', "T") + "Z";
        let body = alert_body(&site.domain, &firing, &timestamp);
        for hook in &site.webhooks {
            let delivery = Delivery {
                id: format!("msg_{}", model::hex::encode(&random_bytes::<16>())),
                site: site.domain.clone(),
                url: hook.url.clone(),
                body: body.clone(),
                attempts: 0,
                next_ms: now,
                error: String::new(),
            };
            deliver(Some(site), delivery, pass).await;
        }
        pass.save(env, now, false).await;
    }
}

async fn reports(
    env: &Env,
    config: &Config,
    store: &Store,
    site: &Site,
    now: u64,
    pass: &mut Pass,
) {
    let due = schedule::due_reports(site, now, &store.sent);
    if config.smtp.is_none() && !due.is_empty() {
        pass.fail(format!(
            "reports of {}: no e-mail: SMTP_URL and MAIL_FROM are not set, or refused (GET /api/health names why)",
            site.domain
        ));
        return;
    }
    for due in due {
        let mut answers = Vec::new();
        for body in measure::report_queries(site, &due) {
            match measure(&config.clickhouse_read, site, &body).await {
                Ok(answer) => answers.push(answer),
                Err(e) => {
                    pass.fail(format!("report {} of {}: {e}", due.key, site.domain));
                    break;
                }
            }
        }
        // a report missing a part is not sent: the next run tries it whole
        let whole = answers.len() == measure::report_queries(site, &due).len();
        let Some(report) = measure::Report::read(&answers).filter(|_| whole) else {
            continue;
        };
        let email = report_email(&site.domain, &due, &report);
        // not kept as sent when it failed: the next run (an hour later) tries again
        match send_email(config, &email, now).await {
            Ok(()) => {
                pass.sent.push(format!("{} {}", site.domain, due.key));
                pass.change.sent.push(Sent {
                    site: site.domain.clone(),
                    key: due.key,
                    at_ms: now,
                });
                pass.save(env, now, false).await;
            }
            Err(e) => pass.fail(format!("report {} of {}: {e}", due.key, site.domain)),
        }
    }
}

/// Attempts `delivery` (waiting out a short backoff within the run); what
/// is left to do goes into the pass's change.
async fn deliver(site: Option<&Site>, mut delivery: Delivery, pass: &mut Pass) {
    // the secret of now (it may have been rotated); a removed webhook is done
    let key = site
        .and_then(|s| s.webhooks.iter().find(|h| h.url == delivery.url))
        .and_then(|h| secret_key(&h.secret));
    let Some(key) = key else {
        pass.change.finished.push(delivery.id);
        return;
    };
    loop {
        let error = match post(&delivery, &key, Date::now().as_millis() / 1000).await {
            Ok(status) if webhook::accepted(status) => {
                pass.delivered += 1;
                pass.change.finished.push(delivery.id);
                return;
            }
            // a redirect is not followed (it could lead into this network)
            Ok(status) => format!("HTTP {status}"),
            Err(e) => e,
        };
        // the backoff counts from the failure, not from the attempt's start
        let now = Date::now().as_millis();
        match webhook::after_failure(&delivery, now, &error) {
            None => {
                pass.fail(format!(
                    "webhook {} to {}: given up after {} attempts: {error}",
                    delivery.id,
                    host(&delivery.url),
                    delivery.attempts + 1
                ));
                pass.change.finished.push(delivery.id);
                return;
            }
            Some(next) if next.next_ms.saturating_sub(now) <= webhook::IN_RUN_WAIT_MS => {
                Delay::from(Duration::from_millis(next.next_ms.saturating_sub(now))).await;
                delivery = next;
            }
            Some(next) => {
                log::error(
                    "notify",
                    format!(
                        "webhook {} to {}: {error}; tried again later",
                        next.id,
                        host(&next.url)
                    ),
                );
                pass.pending += 1;
                pass.change.pending.push(next);
                return;
            }
        }
    }
}

/// One attempt: the endpoint's status, or why there is none.
async fn post(delivery: &Delivery, key: &[u8], timestamp_s: u64) -> Result<u16, String> {
    let headers = Headers::new();
    for (name, value) in webhook::headers(key, &delivery.id, timestamp_s, &delivery.body) {
        headers.set(name, &value).map_err(|e| e.to_string())?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(delivery.body.clone().into()));
    let request = Request::new_with_init(&delivery.url, &init).map_err(|e| e.to_string())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sending = fetch.send_with_signal(&signal);
    let status = match select(Box::pin(sending), Box::pin(Delay::from(WEBHOOK_TIMEOUT))).await {
        Either::Left((response, _)) => response.map(|r| r.status_code()).map_err(|e| e.to_string()),
        Either::Right(_) => {
            controller.abort();
            Err(format!("no answer within {} s", WEBHOOK_TIMEOUT.as_secs()))
        }
    };
    status
}

/// `email` through the configured SMTP server, within [`SMTP_TIMEOUT`].
async fn send_email(config: &Config, email: &Email, now: u64) -> Result<(), String> {
    let Some(smtp) = &config.smtp else {
        let refused = config
            .off
            .iter()
            .find(|e| matches!(e.variable(), "SMTP_URL" | "MAIL_FROM"));
        return Err(match refused {
            Some(e) => format!("no e-mail: {e}"),
            None => "no e-mail: SMTP_URL and MAIL_FROM are not set".into(),
        });
    };
    let id = model::hex::encode(&random_bytes::<16>());
    let message = smtp::encode(email, &smtp.0.from, now, &id);
    let exchange = Box::pin(exchange(&smtp.0, &email.to, message));
    match select(exchange, Box::pin(Delay::from(SMTP_TIMEOUT))).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(format!(
            "the SMTP server did not finish within {} s",
            SMTP_TIMEOUT.as_secs()
        )),
    }
}

/// The SMTP dialogue over a Workers TCP socket; the session says each step.
async fn exchange(server: &Server, to: &[String], message: String) -> Result<(), String> {
    let transport = match server.security {
        Security::Plain => SecureTransport::Off,
        Security::StartTls => SecureTransport::StartTls,
        Security::Tls => SecureTransport::On,
    };
    let io = |e: std::io::Error| format!("SMTP connection to {}: {e}", server.host);
    let mut socket = Socket::builder()
        .secure_transport(transport)
        .connect(server.host.clone(), server.port)
        .map_err(|e| format!("SMTP connection to {}: {e}", server.host))?;
    let mut session = smtp::Session::new(server, to, message);
    let mut buffer = Vec::new();
    loop {
        let reply = read_reply(&mut socket, &mut buffer).await.map_err(io)??;
        let bytes = match session.next(&reply).map_err(|e| e.to_string())? {
            Action::Send(bytes) => bytes,
            Action::UpgradeThenSend(bytes) => {
                socket = socket.start_tls();
                buffer.clear();
                bytes
            }
            Action::Delivered(quit) => {
                // accepted: a QUIT or close that fails changes nothing
                let _ = socket.write_all(&quit).await;
                let _ = socket.flush().await;
                break;
            }
        };
        socket.write_all(&bytes).await.map_err(io)?;
        socket.flush().await.map_err(io)?;
    }
    let _ = socket.close().await;
    Ok(())
}

async fn read_reply(
    socket: &mut Socket,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Result<smtp::Reply, String>> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(read) = smtp::read_reply(buffer) {
            return Ok(read
                .map(|(reply, used)| {
                    buffer.drain(..used);
                    reply
                })
                .map_err(|e| e.to_string()));
        }
        if buffer.len() > MAX_REPLY_BYTES {
            return Ok(Err("the SMTP server's reply is too long".into()));
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Err("the SMTP server closed the connection".into()));
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

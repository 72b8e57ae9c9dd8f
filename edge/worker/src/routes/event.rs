//! `POST /api/event`: the only route where the client's IP address and
//! User-Agent exist. It runs the ingest pipeline — `admit`, the day's salt,
//! `rows` — and queues the rows; the IP and User-Agent end with the request.

use super::bindings::{config, random_bytes, EVENTS_QUEUE};
use super::body;
use super::respond::Failure;
use super::{log, metrics, salt, settings};
use ingest::answer::{self, Answer};
use ingest::drop::{opt_out_signal, opted_out, DropReason};
use ingest::pipeline::{admit, rows, Admitted, Refused};
use ingest::privacy::client::{client_ip, country, Client};
use ingest::protocol::payload::MAX_BODY_BYTES;
use model::message::{check_send, QueueMessage};
use worker::{Date, Env, Headers, Queue, Request, Response, Result, RouteContext};

pub async fn post(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    // the error boundary: every failure is still an answer with CORS, so a
    // tracker on any page sees the status
    let answer = match accept(request, &ctx.env).await {
        Ok(answer) => answer,
        Err(failure) => {
            failure.log("event");
            let (status, message) = failure.public();
            answer::failed(status, &message)
        }
    };
    if answer.status >= 400 {
        metrics::record(|m| *m.events_refused.entry(answer.status).or_default() += 1);
    }
    respond(answer)
}

async fn accept(mut request: Request, env: &Env) -> std::result::Result<Answer, Failure> {
    let config = config(env)?;
    let body = body::read(&mut request, MAX_BODY_BYTES)
        .await
        .map_err(|too_large| Failure::refused(413, too_large.to_string()))?;
    let headers = request.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let user_agent = header("User-Agent").unwrap_or_default();
    let mut sites = settings::cached(env, false).await?;
    let mut verdict = admit(&body, |domain| sites.is_site(domain), &user_agent);
    if matches!(&verdict, Err(Refused::Dropped(d)) if d.reason == DropReason::UnknownSite) {
        // perhaps a site added a moment ago
        sites = settings::cached(env, true).await?;
        verdict = admit(&body, |domain| sites.is_site(domain), &user_agent);
    }
    // a site may drop browsers that opted out (Global Privacy Control, Do Not Track)
    let signal = opt_out_signal(header("Sec-GPC").as_deref(), header("DNT").as_deref());
    let verdict = verdict.and_then(|admitted| {
        let event = opted_out(admitted.event, signal, |domain| {
            sites.site(domain).is_some_and(|site| site.drop_opted_out)
        })
        .map_err(Refused::Dropped)?;
        Ok(Admitted { event })
    });
    let queue = env.queue(EVENTS_QUEUE)?;
    let now = Date::now().as_millis();
    let admitted = match verdict {
        Ok(admitted) => admitted,
        Err(refusal) => {
            if let Refused::Dropped(dropped) = &refusal {
                metrics::record(|m| {
                    *m.events_dropped.entry(dropped.reason.as_str()).or_default() += 1
                });
                count_drop(&queue, dropped.count(now)).await;
            }
            return Ok(answer::refused(&refusal));
        }
    };
    let ip = client_ip(config.proxy, header);
    let country = country(
        config.proxy,
        request.cf().and_then(|cf| cf.country()),
        header,
    );
    let client = Client {
        ip: &ip,
        user_agent: &user_agent,
        country: &country,
    };
    let salt = salt::for_day(env, now).await?;
    let new_event_id = || u64::from_le_bytes(random_bytes());
    let rows = match rows(&admitted, &client, &salt, now, new_event_id) {
        Ok(rows) => rows,
        Err(refusal) => return Ok(answer::refused(&refusal)),
    };
    let messages = rows
        .into_iter()
        .map(|row| QueueMessage::Event(Box::new(row)).encode())
        .collect::<std::result::Result<Vec<_>, _>>()?;
    // One send for all the event's sites, so a retried request cannot store
    // one site twice; one the queue cannot take is refused here, not a 5xx.
    // Not accepted unless queued: a failure is a 5xx, and the client may
    // send it again.
    check_send(&messages).map_err(|reason| Failure::refused(413, reason))?;
    queue.send_batch(messages).await?;
    metrics::record(|m| m.events_accepted += 1);
    Ok(answer::accepted())
}

/// Counts a drop (best effort: a lost count is not a lost event).
async fn count_drop(queue: &Queue, count: QueueMessage) {
    if let Ok(message) = count.encode() {
        if let Err(error) = queue.send(message).await {
            log::error("event", format!("counting a dropped event: {error}"));
        }
    }
}

/// CORS preflight: any origin may send events.
pub fn preflight() -> Result<Response> {
    let headers = Headers::new();
    headers.set("Access-Control-Allow-Origin", "*")?;
    headers.set("Access-Control-Allow-Methods", "POST, OPTIONS")?;
    headers.set("Access-Control-Allow-Headers", "Content-Type")?;
    headers.set("Access-Control-Max-Age", "86400")?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}

fn respond(answer: Answer) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in answer.headers {
        headers.set(name, value)?;
    }
    Ok(Response::ok(answer.body)?
        .with_status(answer.status)
        .with_headers(headers))
}

//! `POST /api/event`: the only place the client's IP address and User-Agent
//! exist. They go into the visitor id and are dropped with the request.

use super::{config, salt, settings, EVENTS_QUEUE};
use crate::enrich::user_agent::{is_bot, parse as parse_user_agent};
use crate::ingest::answer::{answer, Answer, DropReason, Outcome};
use crate::ingest::receive;
use crate::privacy::client::{client_ip, country};
use crate::privacy::visitor::visitor_id;
use crate::sink::message::{Dropped, QueueMessage};
use crate::sink::row::{utc_date, Context, Row};
use worker::{console_error, Date, Headers, Queue, Request, Response, Result, RouteContext};

pub async fn post(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let config = config(&ctx.env)?;
    let body = request.bytes().await.unwrap_or_default();
    let sites = settings::cached(&ctx.env, false).await?;
    let (mut outcome, mut event) = receive(&body, |domain| sites.is_site(domain));
    if outcome == Outcome::Dropped(DropReason::UnknownSite) {
        // perhaps a site added a moment ago
        let sites = settings::cached(&ctx.env, true).await?;
        (outcome, event) = receive(&body, |domain| sites.is_site(domain));
    }
    let queue = ctx.env.queue(EVENTS_QUEUE)?;
    let received_ms = Date::now().as_millis();
    let Some(event) = event else {
        if let Outcome::Dropped(reason) = outcome {
            // decided on the payload alone (an unknown site, whose domain is
            // client input and not stored; referrer spam): counted without a site
            count_drop(&queue, received_ms, "", reason).await;
        }
        return respond(answer(&outcome));
    };
    let headers = request.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let ip = client_ip(config.proxy, header);
    let user_agent = header("User-Agent").unwrap_or_default();
    let site = event.domains.first().map(String::as_str).unwrap_or("");
    if is_bot(&user_agent) {
        count_drop(&queue, received_ms, site, DropReason::Bot).await;
        return respond(answer(&Outcome::Dropped(DropReason::Bot)));
    }
    let client = parse_user_agent(&user_agent);
    let country_code = country(
        config.proxy,
        request.cf().and_then(|cf| cf.country()),
        header,
    );
    let salt = salt::for_day(&ctx.env, received_ms).await?;
    let mut messages = Vec::with_capacity(event.domains.len());
    for site in &event.domains {
        let context = Context {
            received_ms,
            visitor_id: visitor_id(&salt, &user_agent, &ip, site),
            country_code: country_code.clone(),
            client: client.clone(),
        };
        let message = QueueMessage::Event(Box::new(Row::new(&event, site, &context)));
        messages.push(
            serde_json::to_string(&message).map_err(|e| worker::Error::RustError(e.to_string()))?,
        );
    }
    // One send for all the event's sites, so a retried request cannot store
    // one site twice. Not accepted unless queued: a failure is a 5xx, and the
    // client may retry.
    queue.send_batch(messages).await?;
    respond(answer(&Outcome::Accepted))
}

/// Counts a drop (best effort: a lost count is not a lost event).
async fn count_drop(queue: &Queue, received_ms: u64, site: &str, reason: DropReason) {
    let dropped = QueueMessage::Dropped(Dropped {
        date: utc_date(received_ms),
        site_domain: site.to_string(),
        reason: reason.as_str().to_string(),
    });
    if let Ok(message) = serde_json::to_string(&dropped) {
        if let Err(error) = queue.send(message).await {
            console_error!("counting a dropped event: {error}");
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

//! `POST /api/event`: the only place the client's IP address and User-Agent
//! exist. They go into the visitor id and are dropped with the request.

use super::{salt, settings, EVENTS_QUEUE};
use crate::enrich::user_agent::{is_bot, parse as parse_user_agent};
use crate::ingest::answer::{answer, Answer, DropReason, Outcome};
use crate::ingest::receive;
use crate::privacy::client::{client_ip, country};
use crate::privacy::visitor::visitor_id;
use crate::sink::row::{Context, Row};
use worker::{Date, Headers, Request, Response, Result, RouteContext};

pub async fn post(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let settings = settings(&ctx.env)?;
    let body = request.bytes().await.unwrap_or_default();
    let (outcome, event) = receive(&body, |domain| settings.is_site(domain));
    let Some(event) = event else {
        return respond(answer(&outcome));
    };
    let headers = request.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let ip = client_ip(settings.proxy, header);
    let user_agent = header("User-Agent").unwrap_or_default();
    let country_code = country(
        settings.proxy,
        request.cf().and_then(|cf| cf.country()),
        header,
    );
    if is_bot(&user_agent) {
        return respond(answer(&Outcome::Dropped(DropReason::Bot)));
    }
    let client = parse_user_agent(&user_agent);
    let received_ms = Date::now().as_millis();
    let salt = salt::for_day(&ctx.env, received_ms).await?;
    let queue = ctx.env.queue(EVENTS_QUEUE)?;
    for site in &event.domains {
        let context = Context {
            received_ms,
            visitor_id: visitor_id(&salt, &user_agent, &ip, site),
            country_code: country_code.clone(),
            client: client.clone(),
        };
        let row = Row::new(&event, site, &context);
        let message =
            serde_json::to_string(&row).map_err(|e| worker::Error::RustError(e.to_string()))?;
        // not accepted unless queued: a failure here is a 5xx, so the client may retry
        queue.send(message).await?;
    }
    respond(answer(&Outcome::Accepted))
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

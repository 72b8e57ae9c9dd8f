//! Messages set aside (`ingest::store::dead_letter`), kept in the R2 bucket
//! `DEAD_LETTERS`, and the admin routes over them:
//!
//! - `GET /api/admin/dead-letters`: the oldest 1,000, each with its reason;
//! - `POST /api/admin/dead-letters/replay`: queues up to 100 of them again
//!   (oldest first) and deletes them from the bucket; call it until
//!   `remaining` is false (`node scripts/admin.mjs dead-letters replay` does).
//!   A letter that cannot be read is moved to `unreadable/` and named.
//!
//! A replayed event is stored once, however often: it keeps its event id.

use super::admin::allowed;
use super::bindings::{DEAD_LETTERS, EVENTS_QUEUE};
use super::respond;
use ingest::store::dead_letter::{DeadLetter, PREFIX};
use model::message::sends;
use std::collections::HashMap;
use worker::{Env, Include, Request, Response, Result, RouteContext};

/// R2 keeps at most 2 KB of custom metadata: the reason, cut.
const MAX_REASON_METADATA: usize = 1000;

/// Stores a dead letter; an error when the bucket is not bound or fails.
pub async fn put(env: &Env, letter: &DeadLetter) -> Result<()> {
    let bucket = env.bucket(DEAD_LETTERS)?;
    let json = serde_json::to_string(letter)?;
    let reason: String = letter.reason.chars().take(MAX_REASON_METADATA).collect();
    bucket
        .put(letter.key(), json)
        .custom_metadata(HashMap::from([("reason".to_string(), reason)]))
        .execute()
        .await?;
    Ok(())
}

pub async fn list(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "dead-letters",
        async {
            allowed(&request, &ctx).await?;
            let listed = ctx
                .env
                .bucket(DEAD_LETTERS)?
                .list()
                .prefix(PREFIX)
                .limit(1000)
                .include(vec![Include::CustomMetadata])
                .execute()
                .await?;
            let letters: Vec<serde_json::Value> = listed
                .objects()
                .iter()
                .map(|object| {
                    let reason = object
                        .custom_metadata()
                        .ok()
                        .and_then(|m| m.get("reason").cloned())
                        .unwrap_or_default();
                    serde_json::json!({ "key": object.key(), "reason": reason, "bytes": object.size() })
                })
                .collect();
            respond::ok(&serde_json::json!({ "dead_letters": letters, "truncated": listed.truncated() }))
        }
        .await,
    )
}

pub async fn replay(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "dead-letters",
        async {
            allowed(&request, &ctx).await?;
            let bucket = ctx.env.bucket(DEAD_LETTERS)?;
            let listed = bucket.list().prefix(PREFIX).limit(100).execute().await?;
            let mut bodies = Vec::new();
            let mut keys = Vec::new();
            let mut unreadable = Vec::new();
            for object in listed.objects() {
                let key = object.key();
                let Some(stored) = bucket.get(&key).execute().await? else {
                    continue; // deleted meanwhile (another replay)
                };
                let text = match stored.body() {
                    Some(body) => body.text().await?,
                    None => String::new(),
                };
                // an unreadable letter is moved aside (under unreadable/),
                // named, so that it does not stop every replay after it
                match serde_json::from_str::<DeadLetter>(&text) {
                    Ok(letter) => {
                        bodies.push(letter.body);
                        keys.push(key);
                    }
                    Err(_) => {
                        bucket
                            .put(format!("unreadable/{key}"), text)
                            .execute()
                            .await?;
                        bucket.delete(&key).await?;
                        unreadable.push(key);
                    }
                }
            }
            // queued first, deleted after: a failure between the two replays
            // a letter twice, which its event id makes harmless
            let queue = ctx.env.queue(EVENTS_QUEUE)?;
            for send in sends(bodies) {
                queue.send_batch(send).await?;
            }
            if !keys.is_empty() {
                bucket.delete_multiple(keys.clone()).await?;
            }
            respond::ok(&serde_json::json!({
                "replayed": keys.len(),
                "unreadable": unreadable,
                "remaining": listed.truncated()
            }))
        }
        .await,
    )
}

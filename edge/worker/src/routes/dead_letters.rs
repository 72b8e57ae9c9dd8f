//! Messages set aside (`ingest::store::dead_letter`), kept in the R2 bucket
//! `DEAD_LETTERS` on Cloudflare, or, where there is no R2 (bare workerd), in
//! the `DeadLetterStore` Durable Object — on a self-hosted replica the
//! control instance's, through [`super::state`] — and the admin routes over
//! them:
//!
//! - `GET /api/admin/dead-letters`: the oldest 1,000, each with its reason;
//! - `POST /api/admin/dead-letters/replay`: queues up to 100 of them again
//!   (oldest first) and deletes them from the bucket; call it until
//!   `remaining` is false (`node scripts/admin.mjs dead-letters replay` does).
//!   A letter that cannot be read is moved to `unreadable/` and named.
//!
//! A replayed event is stored once, however often: it keeps its event id.

use super::admin::super_admin;
use super::bindings::{DEAD_LETTERS, EVENTS_QUEUE};
use super::respond;
use super::state::{self, StateObject};
use ingest::store::dead_letter::{DeadLetter, PREFIX};
use model::message::sends;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use worker::{
    durable_object, Bucket, DurableObject, Env, Include, ListOptions, Method, Request, Response,
    Result, RouteContext, State,
};

/// R2 keeps at most 2 KB of custom metadata: the reason, cut.
const MAX_REASON_METADATA: usize = 1000;

/// A stored letter as a listing shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Listed {
    key: String,
    reason: String,
    bytes: u64,
}

/// One request to the `DeadLetterStore` object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Put {
        key: String,
        reason: String,
        text: String,
    },
    List {
        prefix: String,
        limit: usize,
    },
    Get {
        key: String,
    },
    Delete {
        keys: Vec<String>,
    },
}

/// Where dead letters are kept.
enum Letters {
    Bucket(Bucket),
    Object,
}

impl Letters {
    fn of(env: &Env) -> Letters {
        match env.bucket(DEAD_LETTERS) {
            Ok(bucket) => Letters::Bucket(bucket),
            Err(_) => Letters::Object,
        }
    }

    async fn ask(env: &Env, op: &Op) -> Result<String> {
        let body = serde_json::to_string(op)?;
        let mut response =
            state::fetch(env, StateObject::DeadLetters, Method::Post, "/", Some(body)).await?;
        let text = response.text().await?;
        if response.status_code() != 200 {
            return Err(worker::Error::RustError(format!(
                "dead-letter store: {text}"
            )));
        }
        Ok(text)
    }

    async fn put(&self, env: &Env, key: &str, reason: &str, text: String) -> Result<()> {
        let reason: String = reason.chars().take(MAX_REASON_METADATA).collect();
        match self {
            Letters::Bucket(bucket) => {
                bucket
                    .put(key, text)
                    .custom_metadata(HashMap::from([("reason".to_string(), reason)]))
                    .execute()
                    .await?;
            }
            Letters::Object => {
                let op = Op::Put {
                    key: key.into(),
                    reason,
                    text,
                };
                Letters::ask(env, &op).await?;
            }
        }
        Ok(())
    }

    /// The first `limit` letters under `prefix`, oldest first, and whether there are more.
    async fn list(&self, env: &Env, prefix: &str, limit: usize) -> Result<(Vec<Listed>, bool)> {
        match self {
            Letters::Bucket(bucket) => {
                let listed = bucket
                    .list()
                    .prefix(prefix)
                    .limit(limit as u32)
                    .include(vec![Include::CustomMetadata])
                    .execute()
                    .await?;
                let objects = listed
                    .objects()
                    .iter()
                    .map(|object| Listed {
                        key: object.key(),
                        reason: object
                            .custom_metadata()
                            .ok()
                            .and_then(|m| m.get("reason").cloned())
                            .unwrap_or_default(),
                        bytes: object.size(),
                    })
                    .collect();
                Ok((objects, listed.truncated()))
            }
            Letters::Object => {
                let op = Op::List {
                    prefix: prefix.into(),
                    limit,
                };
                Ok(serde_json::from_str(&Letters::ask(env, &op).await?)?)
            }
        }
    }

    async fn get(&self, env: &Env, key: &str) -> Result<Option<String>> {
        match self {
            Letters::Bucket(bucket) => match bucket.get(key).execute().await? {
                Some(stored) => match stored.body() {
                    Some(body) => Ok(Some(body.text().await?)),
                    None => Ok(Some(String::new())),
                },
                None => Ok(None),
            },
            Letters::Object => {
                let op = Op::Get { key: key.into() };
                Ok(serde_json::from_str(&Letters::ask(env, &op).await?)?)
            }
        }
    }

    async fn delete(&self, env: &Env, keys: Vec<String>) -> Result<()> {
        match self {
            Letters::Bucket(bucket) => bucket.delete_multiple(keys).await,
            Letters::Object => Letters::ask(env, &Op::Delete { keys }).await.map(|_| ()),
        }
    }
}

/// Stores a dead letter; an error when its store fails.
pub async fn put(env: &Env, letter: &DeadLetter) -> Result<()> {
    let json = serde_json::to_string(letter)?;
    Letters::of(env)
        .put(env, &letter.key(), &letter.reason, json)
        .await
}

pub async fn list(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "dead-letters",
        async {
            super_admin(&request, &ctx).await?;
            let (letters, truncated) = Letters::of(&ctx.env).list(&ctx.env, PREFIX, 1000).await?;
            respond::ok(&serde_json::json!({ "dead_letters": letters, "truncated": truncated }))
        }
        .await,
    )
}

pub async fn replay(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "dead-letters",
        async {
            super_admin(&request, &ctx).await?;
            let env = &ctx.env;
            let letters = Letters::of(env);
            let (listed, truncated) = letters.list(env, PREFIX, 100).await?;
            let mut bodies = Vec::new();
            let mut keys = Vec::new();
            let mut unreadable = Vec::new();
            for object in listed {
                let key = object.key;
                let Some(text) = letters.get(env, &key).await? else {
                    continue; // deleted meanwhile (another replay)
                };
                // an unreadable letter is moved aside (under unreadable/),
                // named, so that it does not stop every replay after it
                match serde_json::from_str::<DeadLetter>(&text) {
                    Ok(letter) => {
                        bodies.push(letter.body);
                        keys.push(key);
                    }
                    Err(_) => {
                        letters
                            .put(env, &format!("unreadable/{key}"), "unreadable", text)
                            .await?;
                        letters.delete(env, vec![key.clone()]).await?;
                        unreadable.push(key);
                    }
                }
            }
            // queued first, deleted after: a failure between the two replays
            // a letter twice, which its event id makes harmless
            let queue = env.queue(EVENTS_QUEUE)?;
            for send in sends(bodies) {
                queue.send_batch(send).await?;
            }
            if !keys.is_empty() {
                letters.delete(env, keys.clone()).await?;
            }
            respond::ok(&serde_json::json!({
                "replayed": keys.len(),
                "unreadable": unreadable,
                "remaining": truncated
            }))
        }
        .await,
    )
}

/// The dead letters where there is no R2 bucket (bare workerd): one object,
/// its letters in its storage (SQLite-backed: a letter may exceed the
/// key-value backend's 128 KiB), each under its key with its reason.
#[durable_object]
pub struct DeadLetterStore {
    state: State,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    reason: String,
    text: String,
}

impl DurableObject for DeadLetterStore {
    fn new(state: State, _env: Env) -> Self {
        DeadLetterStore { state }
    }

    /// `POST` an [`Op`]: `{}` for a put or delete, the listing, or the
    /// letter's text (`null` when there is none).
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let Ok(op) = serde_json::from_slice::<Op>(&request.bytes().await?) else {
            return Response::error("not a dead-letter operation", 400);
        };
        let storage = self.state.storage();
        match op {
            Op::Put { key, reason, text } => {
                storage.put(&key, Stored { reason, text }).await?;
                Response::from_json(&serde_json::json!({}))
            }
            Op::List { prefix, limit } => {
                let map = storage
                    .list_with_options(ListOptions::new().prefix(&prefix).limit(limit + 1))
                    .await?;
                let mut listed = Vec::new();
                // the listing holds the values already: read them from it, not storage again
                for entry in map.entries() {
                    let entry: worker::js_sys::Array = entry?.into();
                    let Some(key) = entry.get(0).as_string() else {
                        continue;
                    };
                    let Some(json) = worker::js_sys::JSON::stringify(&entry.get(1))?.as_string()
                    else {
                        continue;
                    };
                    let stored: Stored = serde_json::from_str(&json)?;
                    listed.push(Listed {
                        key,
                        reason: stored.reason,
                        bytes: stored.text.len() as u64,
                    });
                }
                let truncated = listed.len() > limit;
                listed.truncate(limit);
                Response::from_json(&(listed, truncated))
            }
            Op::Get { key } => {
                let stored: Option<Stored> = storage.get(&key).await?;
                Response::from_json(&stored.map(|s| s.text))
            }
            Op::Delete { keys } => {
                if !keys.is_empty() {
                    storage.delete_multiple(keys).await?;
                }
                Response::from_json(&serde_json::json!({}))
            }
        }
    }
}

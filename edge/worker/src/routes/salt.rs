//! The day's salt, held by one Durable Object so that every isolate and
//! location uses the same one: 16 random bytes per UTC day, created on first
//! use, deleted once the next day is over (at most 48 h; `privacy::salt`),
//! on the next request or by the object's alarm just after midnight.
//!
//! The object is of the key-value storage backend (wrangler.toml): a
//! SQLite-backed object keeps 30 days of point-in-time recovery, from which
//! a deleted salt could be brought back. An isolate keeps its copy of
//! today's salt for a minute at most, and never into the next day.

use super::bindings::random_bytes;
use super::state::{self, StateObject};
use ingest::privacy::salt;
use ingest::privacy::visitor::Salt;
use model::hex;
use worker::{durable_object, Date, DurableObject, Env, Method, Request, Response, Result, State};

/// How long an isolate keeps its copy of the salt. The Workers runtime runs
/// no timer for an idle isolate, so the copy is bounded by age instead: an
/// isolate idle across midnight holds at most a salt the object still keeps.
const CACHE_MS: u64 = 60_000;

thread_local! {
    /// This isolate's copy of today's salt (day, when fetched, the salt), so
    /// that most events cost no Durable Object round trip.
    static TODAY: std::cell::RefCell<Option<(String, u64, Salt)>> = const { std::cell::RefCell::new(None) };
}

/// The salt for the UTC day of `now_ms`, from the one `DailySalts` object
/// (on a self-hosted replica, the control instance's).
pub async fn for_day(env: &Env, now_ms: u64) -> Result<Salt> {
    let day = salt::day_of(now_ms);
    let cached = TODAY.with(|today| {
        let mut today = today.borrow_mut();
        let fresh = today
            .as_ref()
            .is_some_and(|(d, at, _)| *d == day && now_ms.saturating_sub(*at) < CACHE_MS);
        if !fresh {
            // overwritten, not just dropped: the bytes do not linger in the heap
            if let Some((_, _, salt)) = today.as_mut() {
                salt.0 = [0; 16];
            }
            *today = None;
        }
        today.as_ref().map(|(_, _, salt)| salt.clone())
    });
    if let Some(cached) = cached {
        return Ok(cached);
    }
    let text = state::fetch(
        env,
        StateObject::Salts,
        Method::Get,
        &format!("/{day}"),
        None,
    )
    .await?
    .text()
    .await?;
    let fetched = parse_hex(&text)
        .map(Salt)
        .ok_or_else(|| worker::Error::RustError("bad salt".into()))?;
    TODAY.with(|today| *today.borrow_mut() = Some((day, now_ms, fetched.clone())));
    Ok(fetched)
}

fn parse_hex(text: &str) -> Option<[u8; 16]> {
    hex::decode(text)?.try_into().ok()
}

#[durable_object]
pub struct DailySalts {
    state: State,
}

impl DurableObject for DailySalts {
    fn new(state: State, _env: Env) -> Self {
        DailySalts { state }
    }

    /// `GET https://salts/YYYY-MM-DD`: that day's salt as hex, created on
    /// first use. Also forgets stale salts and sets the alarm that forgets
    /// them when no request comes.
    async fn fetch(&self, request: Request) -> Result<Response> {
        let day = request.path().trim_start_matches('/').to_string();
        let now = Date::now().as_millis();
        if !salt::is_kept(&day, now) {
            return Response::error("no salt for that day", 404);
        }
        let storage = self.state.storage();
        let salt_hex = match storage.get::<String>(&day).await? {
            Some(stored) => stored,
            None => {
                let made = hex::encode(&random_bytes::<16>());
                storage.put(&day, &made).await?;
                made
            }
        };
        self.forget_stale(now).await?;
        Response::ok(salt_hex)
    }

    /// After midnight UTC: delete the salts no longer kept, and look again
    /// tomorrow while any remain.
    async fn alarm(&self) -> Result<Response> {
        self.forget_stale(Date::now().as_millis()).await?;
        Response::ok("")
    }
}

impl DailySalts {
    async fn forget_stale(&self, now: u64) -> Result<()> {
        let storage = self.state.storage();
        let mut stale = Vec::new();
        let mut remaining = 0;
        for key in storage.list().await?.keys() {
            let key = key?.as_string().unwrap_or_default();
            if salt::is_kept(&key, now) {
                remaining += 1;
            } else {
                stale.push(key);
            }
        }
        for day in &stale {
            // overwritten before it is deleted: storage engines (SQLite under
            // workerd) leave a deleted value's bytes in the file, an
            // overwrite of the same length replaces them in place
            storage.put(day, hex::encode(&[0u8; 16])).await?;
        }
        if !stale.is_empty() {
            storage.delete_multiple(stale).await?;
        }
        if remaining > 0 {
            storage
                .set_alarm(salt::ms_until_next_day(now) as i64)
                .await?;
        }
        Ok(())
    }
}

//! The site settings (`model::settings::Store`), kept by one Durable Object
//! so that every isolate and location reads the same document, durably
//! stored, changed only by `control::settings::apply`.
//! Ingestion reads them through a per-isolate copy at most 4 s old (and
//! re-reads at once, at most once a second, for a site it does not know).
//! When the object cannot be reached, ingestion goes on with an older copy
//! (up to an hour old) rather than refuse an event it would accept.

use super::state::{self, StateObject};
use control::settings::{apply, Change};
use model::settings::Store;
use worker::{durable_object, Date, DurableObject, Env, Method, Request, Response, Result, State};

/// A change reaches every isolate (and self-hosted replica) within 5 s.
const FRESH_MS: u64 = 4_000;
const RETRY_UNKNOWN_MS: u64 = 1_000;
/// How old a copy may be to stand in while the object cannot be reached.
const STALE_MS: u64 = 3_600_000;
const KEY: &str = "store";

thread_local! {
    static CACHE: std::cell::RefCell<Option<(u64, Store)>> = const { std::cell::RefCell::new(None) };
}

/// The settings as they are now (one Durable Object round trip).
pub async fn load(env: &Env) -> Result<Store> {
    let text = state::fetch(env, StateObject::Settings, Method::Get, "/", None)
        .await?
        .text()
        .await?;
    let store: Store =
        serde_json::from_str(&text).map_err(|e| worker::Error::RustError(e.to_string()))?;
    CACHE.with(|c| *c.borrow_mut() = Some((Date::now().as_millis(), store.clone())));
    Ok(store)
}

/// The settings for ingestion: this isolate's copy while fresh. With
/// `unknown_site`, a copy older than a second is re-read first (a site
/// added a moment ago).
pub async fn cached(env: &Env, unknown_site: bool) -> Result<Store> {
    let now = Date::now().as_millis();
    let limit = if unknown_site {
        RETRY_UNKNOWN_MS
    } else {
        FRESH_MS
    };
    let copy = |limit: u64| {
        CACHE.with(|c| {
            c.borrow()
                .as_ref()
                .filter(|(at, _)| now.saturating_sub(*at) < limit)
                .map(|(_, s)| s.clone())
        })
    };
    if let Some(store) = copy(limit) {
        return Ok(store);
    }
    match load(env).await {
        Ok(store) => Ok(store),
        Err(error) => match copy(STALE_MS) {
            Some(store) => {
                super::log::error(
                    "settings",
                    format!("site settings unreachable ({error}): using this isolate's older copy"),
                );
                Ok(store)
            }
            None => Err(error),
        },
    }
}

/// Makes `change`; `Ok(Err(message))` when the settings refuse it.
pub async fn change(env: &Env, change: &Change) -> Result<std::result::Result<Store, String>> {
    let body =
        serde_json::to_string(change).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut response =
        state::fetch(env, StateObject::Settings, Method::Post, "/", Some(body)).await?;
    let text = response.text().await?;
    if response.status_code() != 200 {
        return Ok(Err(text));
    }
    let store: Store =
        serde_json::from_str(&text).map_err(|e| worker::Error::RustError(e.to_string()))?;
    CACHE.with(|c| *c.borrow_mut() = Some((Date::now().as_millis(), store.clone())));
    Ok(Ok(store))
}

#[durable_object]
pub struct SiteSettings {
    state: State,
}

impl DurableObject for SiteSettings {
    fn new(state: State, _env: Env) -> Self {
        SiteSettings { state }
    }

    /// `GET`: the store as JSON. `POST` a [`Change`]: the new store, or 409
    /// with the reason. A change reads and writes the store with nothing
    /// but storage calls in between, so the object's input gate lets no
    /// other request in: its body is read first (awaiting it would open the
    /// gate, and two changes read the same store — one lost).
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let change = if request.method() == Method::Post {
            match serde_json::from_slice::<Change>(&request.bytes().await?) {
                Ok(change) => Some(change),
                Err(_) => return Response::error("not a settings change", 400),
            }
        } else {
            None
        };
        let storage = self.state.storage();
        let text: Option<String> = storage.get(KEY).await?;
        let store: Store = match text {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| worker::Error::RustError(format!("stored settings: {e}")))?,
            None => Store::default(),
        };
        let Some(change) = change else {
            return Response::from_json(&store);
        };
        match apply(&store, change) {
            Ok(next) => {
                let text = serde_json::to_string(&next)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                storage.put(KEY, text).await?;
                Response::from_json(&next)
            }
            Err(refused) => Response::error(refused.to_string(), 409),
        }
    }
}

//! The site settings (`model::settings::Store`), kept by one Durable Object
//! so that every isolate and location reads the same document, durably
//! stored, changed only by `control::settings::apply`.
//! Ingestion reads them through a per-isolate copy at most 4 s old (and
//! re-reads at once, at most once a second, for a site it does not know).
//! When the object cannot be reached, ingestion goes on with an older copy
//! (up to an hour old) rather than refuse an event it would accept.

use super::state::{self, StateObject};
use control::audit;
use control::settings::{apply, Change, Edit};
use model::settings::{AuditEntry, Store};
use worker::js_sys::{Array, Object, Reflect};
use worker::wasm_bindgen::JsValue;
use worker::{
    durable_object, Date, DurableObject, Env, ListOptions, Method, Request, Response, Result, State,
};

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

/// Makes `change` as `by` (`access::Principal::label`, for the audit log);
/// `Ok(Err(message))` when the settings refuse it.
pub async fn change(
    env: &Env,
    by: &str,
    change: &Change,
) -> Result<std::result::Result<Store, String>> {
    let edit = Edit {
        by: by.to_string(),
        at_ms: Date::now().as_millis(),
        change: change.clone(),
    };
    let body = serde_json::to_string(&edit).map_err(|e| worker::Error::RustError(e.to_string()))?;
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

/// The most recent audit entries, newest first (`GET /audit` of the object).
pub async fn audit_log(env: &Env) -> Result<Vec<AuditEntry>> {
    let text = state::fetch(env, StateObject::Settings, Method::Get, "/audit", None)
        .await?
        .text()
        .await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// The most audit entries one read returns (newest first).
const AUDIT_READ: usize = 1_000;
/// The oldest entries looked at for expiry after each audited change (an
/// entry kept for ever among them does not stop the others expiring).
const AUDIT_PRUNE: usize = 200;

#[durable_object]
pub struct SiteSettings {
    state: State,
}

impl DurableObject for SiteSettings {
    fn new(state: State, _env: Env) -> Self {
        SiteSettings { state }
    }

    /// `GET`: the store as JSON; `GET /audit`: the latest audit entries.
    /// `POST` an [`Edit`]: the new store, or 409 with the reason; its audit
    /// entry is written with it, in one put. A change reads and writes the
    /// store with nothing but storage calls in between, so the object's
    /// input gate lets no other request in: its body is read first
    /// (awaiting it would open the gate, and two changes read the same
    /// store — one lost).
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let storage = self.state.storage();
        if request.method() == Method::Get && request.path().ends_with("/audit") {
            return Response::from_json(&self.audit_entries(AUDIT_READ, true).await?);
        }
        let edit = if request.method() == Method::Post {
            match serde_json::from_slice::<Edit>(&request.bytes().await?) {
                Ok(edit) => Some(edit),
                Err(_) => return Response::error("not a settings change", 400),
            }
        } else {
            None
        };
        let text: Option<String> = storage.get(KEY).await?;
        let store: Store = match text {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| worker::Error::RustError(format!("stored settings: {e}")))?,
            None => Store::default(),
        };
        let Some(edit) = edit else {
            return Response::from_json(&store);
        };
        let entries = audit::entries(&store, &edit);
        match apply(&store, edit.change) {
            Ok(next) => {
                let text = serde_json::to_string(&next)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                let values = Object::new();
                Reflect::set(&values, &KEY.into(), &text.into())?;
                for entry in &entries {
                    // two changes in the same millisecond keep both entries
                    let seq = u32::from_le_bytes(super::bindings::random_bytes());
                    let text = serde_json::to_string(entry)
                        .map_err(|e| worker::Error::RustError(e.to_string()))?;
                    Reflect::set(
                        &values,
                        &audit::storage_key(entry, seq).into(),
                        &JsValue::from(text),
                    )?;
                }
                storage.put_multiple_raw(values).await?;
                if !entries.is_empty() {
                    self.forget_expired(&next, edit.at_ms).await?;
                }
                Response::from_json(&next)
            }
            Err(refused) => Response::error(refused.to_string(), 409),
        }
    }
}

impl SiteSettings {
    /// Up to `limit` audit entries with their keys, newest first (`newest`) or oldest first.
    async fn audit_entries(&self, limit: usize, newest: bool) -> Result<Vec<AuditEntry>> {
        Ok(self
            .audit_keyed(limit, newest)
            .await?
            .into_iter()
            .map(|(_, entry)| entry)
            .collect())
    }

    async fn audit_keyed(&self, limit: usize, newest: bool) -> Result<Vec<(String, AuditEntry)>> {
        let map = self
            .state
            .storage()
            .list_with_options(
                ListOptions::new()
                    .prefix(audit::PREFIX)
                    .reverse(newest)
                    .limit(limit),
            )
            .await?;
        let mut entries = Vec::new();
        // the listing holds the values already: read them from it
        for pair in map.entries() {
            let pair: Array = pair?.into();
            let (Some(key), Some(text)) = (pair.get(0).as_string(), pair.get(1).as_string()) else {
                continue;
            };
            if let Ok(entry) = serde_json::from_str::<AuditEntry>(&text) {
                entries.push((key, entry));
            }
        }
        Ok(entries)
    }

    /// Forgets the oldest entries past their site's retention (a few per
    /// change: the log is kept trimmed as it grows).
    async fn forget_expired(&self, store: &Store, now_ms: u64) -> Result<()> {
        let expired: Vec<String> = self
            .audit_keyed(AUDIT_PRUNE, false)
            .await?
            .into_iter()
            .filter(|(_, entry)| audit::expired(entry, store, now_ms))
            .map(|(key, _)| key)
            .collect();
        if !expired.is_empty() {
            self.state.storage().delete_multiple(expired).await?;
        }
        Ok(())
    }
}

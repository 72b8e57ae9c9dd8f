//! The day's salt, held by one Durable Object so that every isolate and
//! location uses the same one: 16 random bytes per UTC day, created on first
//! use, deleted once the day before yesterday is over (at most 48 h).

use super::SALTS;
use crate::privacy::visitor::Salt;
use crate::sink::row::utc_date;
use worker::{durable_object, wasm_bindgen, DurableObject, Env, Request, Response, Result, State};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The runtime's CSPRNG (Web Crypto).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// The salt for the UTC day of `now_ms`, from the one `Salts` object.
pub async fn for_day(env: &Env, now_ms: u64) -> Result<Salt> {
    let day = utc_date(now_ms);
    let stub = env
        .durable_object(SALTS)?
        .id_from_name("salts")?
        .get_stub()?;
    let hex = stub
        .fetch_with_str(&format!("https://salts/{day}"))
        .await?
        .text()
        .await?;
    parse_hex(&hex)
        .map(Salt)
        .ok_or_else(|| worker::Error::RustError("bad salt".into()))
}

fn parse_hex(hex: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    if hex.len() != 32 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[durable_object]
pub struct Salts {
    state: State,
}

impl DurableObject for Salts {
    fn new(state: State, _env: Env) -> Self {
        Salts { state }
    }

    /// `GET https://salts/YYYY-MM-DD`: that day's salt as hex. Days other than
    /// the asked one and the one before are deleted.
    async fn fetch(&self, request: Request) -> Result<Response> {
        let day = request.path().trim_start_matches('/').to_string();
        let storage = self.state.storage();
        let hex = match storage.get::<String>(&day).await? {
            Some(hex) => hex,
            None => {
                let mut bytes = [0u8; 16];
                get_random_values(&mut bytes);
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                storage.put(&day, &hex).await?;
                hex
            }
        };
        let keys = storage.list().await?.keys();
        let mut stale = Vec::new();
        for key in keys {
            let key = key?.as_string().unwrap_or_default();
            // keep the asked day and the day before (events near midnight)
            if key.as_str() < day.as_str() && !is_day_before(&key, &day) {
                stale.push(key);
            }
        }
        if !stale.is_empty() {
            storage.delete_multiple(stale).await?;
        }
        Response::ok(hex)
    }
}

fn is_day_before(candidate: &str, day: &str) -> bool {
    // both are YYYY-MM-DD; compare through their epoch days
    epoch_day(candidate)
        .zip(epoch_day(day))
        .is_some_and(|(a, b)| a + 1 == b)
}

fn epoch_day(date: &str) -> Option<i64> {
    let mut parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    // days from civil (Howard Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

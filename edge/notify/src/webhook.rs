//! Webhook deliveries as the Standard Webhooks specification
//! (standardwebhooks.com) has them, so a receiver can use its libraries:
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 of
//! HMAC-SHA256(key, "id.timestamp.body")>`; and when to try a failed one again.

use base64::Engine;
use hmac::{Hmac, Mac};
use model::settings::Delivery;
use sha2::Sha256;

/// The wait after each failed attempt: the first is waited out within the
/// run (a receiver restarting is not made to wait an hour,
/// [`IN_RUN_WAIT_MS`]); the others are the delivery's time in the outbox,
/// tried by the first cron run after it (hourly): ~27 h in all, then it is
/// given up and logged. Svix's schedule, shortened.
const DELAYS_MS: [u64; 6] = [
    5_000,
    30 * 60_000,
    2 * 3_600_000,
    5 * 3_600_000,
    10 * 3_600_000,
    10 * 3_600_000,
];

/// A wait this short is waited out by the run itself.
pub const IN_RUN_WAIT_MS: u64 = 5_000;

/// The most attempts one delivery gets.
pub const MAX_ATTEMPTS: u32 = DELAYS_MS.len() as u32 + 1;

/// The headers of one attempt: (name, value). `key` is the secret's
/// decoded key (`control::notifications::secret_key`).
pub fn headers(key: &[u8], id: &str, timestamp_s: u64, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("webhook-id", id.into()),
        ("webhook-timestamp", timestamp_s.to_string()),
        ("webhook-signature", signature(key, id, timestamp_s, body)),
    ]
}

/// `v1,<base64 signature>`.
pub fn signature(key: &[u8], id: &str, timestamp_s: u64, body: &str) -> String {
    // HMAC takes a key of any length: new_from_slice cannot fail for it
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(format!("{id}.{timestamp_s}.").as_bytes());
    mac.update(body.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

/// Whether an endpoint's answer accepts the delivery (any 2xx).
pub fn accepted(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The delivery to keep after a failed attempt at `now_ms`, or `None` when
/// it has had all its attempts.
pub fn after_failure(delivery: &Delivery, now_ms: u64, error: &str) -> Option<Delivery> {
    let delay = DELAYS_MS.get(delivery.attempts as usize).copied()?;
    Some(Delivery {
        attempts: delivery.attempts + 1,
        next_ms: now_ms.saturating_add(delay),
        error: error.chars().take(300).collect(),
        ..delivery.clone()
    })
}

/// Whether a kept delivery is due at `now_ms`.
pub fn due(delivery: &Delivery, now_ms: u64) -> bool {
    delivery.next_ms <= now_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_reference_does() {
        // the specification's own example (standard-webhooks, spec: "Signature scheme")
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let names: Vec<&str> = headers(&key, "id", 1, "{}").iter().map(|h| h.0).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature"
            ]
        );
    }

    #[test]
    fn failures_back_off_then_give_up() {
        let mut delivery = Delivery {
            id: "msg_1".into(),
            site: "s".into(),
            url: "https://h.example/".into(),
            body: "{}".into(),
            attempts: 0,
            next_ms: 0,
            error: String::new(),
        };
        let mut now = 1_000_000;
        let mut waits = Vec::new();
        // each failure is one attempt made
        while let Some(next) = after_failure(&delivery, now, "HTTP 500") {
            waits.push((next.next_ms - now) / 1000);
            assert!(!due(&next, now));
            now = next.next_ms;
            assert!(due(&next, now));
            delivery = next;
        }
        assert_eq!(waits, [5, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(delivery.attempts + 1, MAX_ATTEMPTS);
        assert_eq!(delivery.error, "HTTP 500");
        assert!(accepted(204) && !accepted(301) && !accepted(500));
    }
}

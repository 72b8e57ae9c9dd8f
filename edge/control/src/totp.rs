//! The optional second factor (issue 12): RFC 6238 time-based one-time
//! passwords as every authenticator app reads them (SHA-1, 6 digits, 30 s),
//! computed by the `totp-rs` crate, and single-use recovery codes kept as
//! their SHA-256. Pure: the Worker passes the time and the random bytes.
//! A code is accepted one step early or late (clock drift), and never twice:
//! the step it matched is recorded, and a code of that step or an earlier
//! one is refused (RFC 6238 §5.2).

use crate::keys::sha256_hex;
use totp_rs::{Algorithm, Secret, TOTP};

pub const DIGITS: usize = 6;
pub const STEP_SECONDS: u64 = 30;
/// Steps accepted either side of now.
pub const SKEW: u64 = 1;
/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Recovery codes made at once, each of 10 random bytes (80 bits).
pub const RECOVERY_CODES: usize = 10;
pub const RECOVERY_BYTES: usize = 10;

fn totp(secret_base32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().ok()?;
    // new_unchecked: the 128-bit minimum is ours to keep (SECRET_BYTES), and
    // the issuer and account are only for the otpauth URL
    Some(TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS,
        bytes,
        None,
        String::new(),
    ))
}

/// The code an authenticator app shows at `at_s` (for tests: the app's side).
#[cfg(test)]
pub(crate) fn code(secret_base32: &str, at_s: u64) -> String {
    totp(secret_base32)
        .map(|t| t.generate(at_s))
        .unwrap_or_default()
}

/// A new secret, base32 (as authenticator apps take it).
pub fn new_secret(random: &[u8; SECRET_BYTES]) -> String {
    Secret::Raw(random.to_vec()).to_encoded().to_string()
}

/// The `otpauth://totp/…` URL an authenticator app scans (the dashboard
/// draws it as a QR code).
pub fn otpauth_url(secret_base32: &str, issuer: &str, account: &str) -> Option<String> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().ok()?;
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS,
        bytes,
        Some(issuer.to_string()),
        account.to_string(),
    )
    .ok()
    .map(|totp| totp.get_url())
}

/// The step `code` matches at `now_s` (within [`SKEW`]), if it is later than
/// `last_step`, the step of the last code accepted.
pub fn verify(secret_base32: &str, code: &str, now_s: u64, last_step: Option<u64>) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret_base32)?;
    let now_step = now_s / STEP_SECONDS;
    let mut matched = None;
    // every candidate is computed, so the time taken does not tell which matched
    for step in now_step.saturating_sub(SKEW)..=now_step + SKEW {
        let expected = totp.generate(step * STEP_SECONDS);
        if model::hex::same_text(&expected, code) && last_step.is_none_or(|last| step > last) {
            matched = Some(step);
        }
    }
    matched
}

/// New recovery codes (shown once) and their SHA-256 (kept).
pub fn recovery_codes(
    random: &[u8; RECOVERY_CODES * RECOVERY_BYTES],
) -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = random
        .chunks(RECOVERY_BYTES)
        .map(|chunk| {
            let text = model::hex::encode(chunk);
            // groups of five are easier to copy by hand
            text.as_bytes()
                .chunks(5)
                .map(|group| String::from_utf8_lossy(group).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    let hashes = codes.iter().map(|code| recovery_hash(code)).collect();
    (codes, hashes)
}

/// What a recovery code is kept as: its SHA-256, of its letters only (as
/// typed, with or without dashes and in either case).
pub fn recovery_hash(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    sha256_hex(normalized.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 secret "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn the_rfc_6238_test_vectors() {
        let secret = Secret::Raw(RFC_SECRET.to_vec()).to_encoded().to_string();
        let eight = TOTP::new_unchecked(
            Algorithm::SHA1,
            8,
            1,
            30,
            RFC_SECRET.to_vec(),
            None,
            String::new(),
        );
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(eight.generate(time), code, "t = {time}");
            // six digits are the last six of the eight
            assert_eq!(
                verify(&secret, &code[2..], time, None),
                Some(time / 30),
                "t = {time}"
            );
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_never_twice() {
        let secret = new_secret(&[7; SECRET_BYTES]);
        let totp = totp(&secret).unwrap();
        let now = 1_700_000_000;
        let step = now / STEP_SECONDS;
        let code_at = |s: u64| totp.generate(s * STEP_SECONDS);
        assert_eq!(verify(&secret, &code_at(step), now, None), Some(step));
        assert_eq!(
            verify(&secret, &code_at(step - 1), now, None),
            Some(step - 1)
        );
        assert_eq!(
            verify(&secret, &code_at(step + 1), now, None),
            Some(step + 1)
        );
        assert_eq!(
            verify(&secret, &code_at(step - 2), now, None),
            None,
            "too old"
        );
        assert_eq!(
            verify(&secret, &code_at(step), now, Some(step)),
            None,
            "replayed"
        );
        assert_eq!(
            verify(&secret, &code_at(step - 1), now, Some(step)),
            None,
            "older than the last"
        );
        for bad in ["", "12345", "1234567", "abcdef", " 12 34"] {
            assert_eq!(verify(&secret, bad, now, None), None, "{bad:?}");
        }
        assert_eq!(verify("not base32!", &code_at(step), now, None), None);
    }

    #[test]
    fn an_otpauth_url_for_authenticator_apps() {
        let secret = new_secret(&[1; SECRET_BYTES]);
        let url = otpauth_url(&secret, "Edge Analytics", "ana@example.com").unwrap();
        assert!(
            url.starts_with("otpauth://totp/Edge%20Analytics:ana%40example.com?secret="),
            "{url}"
        );
        assert!(
            url.contains(&secret) && url.contains("issuer=Edge%20Analytics"),
            "{url}"
        );
    }

    #[test]
    fn recovery_codes_are_kept_as_hashes_and_read_loosely() {
        let (codes, hashes) = recovery_codes(&[9; RECOVERY_CODES * RECOVERY_BYTES]);
        assert_eq!(
            (codes.len(), hashes.len()),
            (RECOVERY_CODES, RECOVERY_CODES)
        );
        assert_eq!(codes[0].len(), 20 + 3, "four groups of five");
        assert!(!hashes[0].contains(&codes[0]));
        let typed = codes[0].replace('-', "").to_uppercase();
        assert_eq!(recovery_hash(&typed), hashes[0]);
    }
}

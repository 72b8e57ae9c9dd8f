//! The dashboard's login: one administrator whose password is kept only as
//! a slow hash (a Worker secret), sessions carried by an HttpOnly cookie,
//! and failed logins slowed down. Cookies are for the dashboard's own users,
//! never for visitors.
//!
//! ```text
//! login ─▶ throttle::allowed ─▶ PasswordHash::verify ─▶ session token
//!        (429 while slowed)     (PBKDF2-SHA256)         (cookie; its SHA-256 stored)
//! ```

use crate::keys::sha256_hex;
use model::hex;

/// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`: the form of the
/// `ADMIN_PASSWORD_HASH` secret (`node scripts/admin.mjs hash-password`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PasswordHash(pbkdf2-sha256, {} iterations)",
            self.iterations
        )
    }
}

/// The fewest PBKDF2 iterations accepted: fewer makes a stolen hash cheap to crack.
pub const MIN_ITERATIONS: u32 = 100_000;

impl PasswordHash {
    pub fn parse(text: &str) -> Option<PasswordHash> {
        let mut parts = text.trim().split('$');
        if parts.next()? != "pbkdf2-sha256" {
            return None;
        }
        let iterations: u32 = parts.next()?.parse().ok()?;
        let salt = hex::decode(parts.next()?)?;
        let hash = hex::decode(parts.next()?)?;
        (parts.next().is_none()
            && iterations >= MIN_ITERATIONS
            && salt.len() >= 16
            && hash.len() == 32)
            .then_some(PasswordHash {
                iterations,
                salt,
                hash,
            })
    }

    /// A short digest of the hash: sessions record it (so a new password
    /// ends them), and it keys the throttle's digests (so they cannot be
    /// reversed by guessing IP addresses without the secret).
    pub fn fingerprint(&self) -> String {
        let mut material = self.salt.clone();
        material.extend_from_slice(&self.hash);
        sha256_hex(&material)[..32].to_string()
    }

    /// A digest of `parts` keyed by the whole hash (a secret the settings
    /// never hold), so that it cannot be reversed by trying every address.
    pub fn keyed_digest(&self, parts: &[&str]) -> String {
        let mut material = b"edge-analytics keyed digest\0".to_vec();
        material.extend_from_slice(&self.salt);
        material.extend_from_slice(&self.hash);
        for part in parts {
            material.push(0);
            material.extend_from_slice(part.as_bytes());
        }
        sha256_hex(&material)[..32].to_string()
    }

    /// A new hash of `password`, in the stored form (`pbkdf2-sha256$…`).
    pub fn make(password: &str, salt: &[u8; 16], iterations: u32) -> String {
        let mut derived = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut derived);
        format!(
            "pbkdf2-sha256${iterations}${}${}",
            hex::encode(salt),
            hex::encode(&derived)
        )
    }

    /// Whether `password` is the one hashed (constant-time comparison).
    pub fn verify(&self, password: &str) -> bool {
        let mut derived = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            password.as_bytes(),
            &self.salt,
            self.iterations,
            &mut derived,
        );
        hex::same_bytes(&derived, &self.hash)
    }
}

/// The session cookie's name: `__Host-` makes the browser keep it only as
/// set by this host over https, for the whole origin (no subdomain can
/// plant or read it).
pub const COOKIE: &str = "__Host-ea_session";
/// How long a session lasts.
pub const SESSION_SECONDS: u64 = 12 * 3600;

/// A new session: the token for the cookie, and the SHA-256 to store.
pub fn new_session(random: &[u8; 32]) -> (String, String) {
    let token = hex::encode(random);
    let hash = sha256_hex(token.as_bytes());
    (token, hash)
}

/// `Set-Cookie` for a session token: HttpOnly (no script reads it), Secure,
/// SameSite=Strict (no other site's page sends it), the whole origin.
pub fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS}"
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
}

/// The session token of a `Cookie` header.
pub fn session_token(cookie_header: Option<&str>) -> Option<&str> {
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value)
}

/// Whether two user names are the same (constant time for equal lengths).
pub fn same_user(a: &str, b: &str) -> bool {
    hex::same_text(a, b)
}

/// Login attempts per user and client, and when the next is allowed. Each
/// attempt is counted before the password is checked, where the settings
/// are stored (one Durable Object, one change at a time), so requests racing
/// past the slow hash do not each get a guess; a success forgets the count.
/// One client's failures never lock out another.
pub mod throttle {
    use model::settings::Failures;
    use std::collections::BTreeMap;

    /// The most clients remembered (the settings document stays small);
    /// the oldest are forgotten first.
    pub const MAX_CLIENTS: usize = 1_000;

    /// The key of one user at one client: the configured user's name, or
    /// one bucket for every other name (so that a client spraying names gets
    /// no fresh counts), and the client's address — an IPv6 one by its /64,
    /// which one subscriber usually holds whole. Digested with the password
    /// hash (`PasswordHash::keyed_digest`): neither is stored as it is.
    pub fn key(
        password: &super::PasswordHash,
        user: &str,
        is_the_user: bool,
        client: &str,
    ) -> String {
        let user = if is_the_user {
            user.to_lowercase()
        } else {
            "\0unknown".into()
        };
        password.keyed_digest(&[&user, &client_prefix(client)])
    }

    /// An IPv4 address as it is; an IPv6 one by its first four groups.
    pub fn client_prefix(client: &str) -> String {
        match client.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            _ => client.to_string(),
        }
    }

    /// Claims an attempt for `key` at `now_ms`: the attempts with it
    /// counted, or the milliseconds to wait. Entries quiet for longer than
    /// the longest wait are forgotten.
    pub fn claim(
        attempts: &BTreeMap<String, Failures>,
        key: &str,
        now_ms: u64,
    ) -> Result<BTreeMap<String, Failures>, u64> {
        let mine = attempts.get(key).copied().unwrap_or_default();
        if let Some(wait) = allowed(&mine, now_ms) {
            return Err(wait);
        }
        let mut next: BTreeMap<String, Failures> = attempts
            .iter()
            .filter(|(_, f)| f.last_ms + MAX_WAIT_MS > now_ms)
            .map(|(k, f)| (k.clone(), *f))
            .collect();
        next.insert(key.to_string(), failed(&mine, now_ms));
        while next.len() > MAX_CLIENTS {
            let oldest = next
                .iter()
                .min_by_key(|(_, f)| f.last_ms)
                .map(|(k, _)| k.clone())
                .unwrap_or_default();
            next.remove(&oldest);
        }
        Ok(next)
    }

    /// Failures allowed before attempts are slowed.
    pub const FREE_FAILURES: u32 = 3;
    /// The longest wait between attempts.
    pub const MAX_WAIT_MS: u64 = 15 * 60 * 1000;

    /// The wait after `count` consecutive failures: none for the first few,
    /// then 2 s, 4 s, 8 s… up to 15 minutes.
    pub fn wait_ms(count: u32) -> u64 {
        if count < FREE_FAILURES {
            return 0;
        }
        let doublings = (count - FREE_FAILURES).min(20);
        (2_000u64 << doublings).min(MAX_WAIT_MS)
    }

    /// `None` when an attempt is allowed at `now_ms`, else the milliseconds to wait.
    pub fn allowed(failures: &Failures, now_ms: u64) -> Option<u64> {
        let until = failures.last_ms + wait_ms(failures.count);
        (now_ms < until).then(|| until - now_ms)
    }

    /// Failures after one more at `now_ms`.
    pub fn failed(failures: &Failures, now_ms: u64) -> Failures {
        Failures {
            count: failures.count.saturating_add(1),
            last_ms: now_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pbkdf2-sha256$100000$<salt>$<hash>` of "correct horse", made with
    /// node:crypto's pbkdf2Sync (as scripts/admin.mjs hash-password does).
    const HASH: &str = "pbkdf2-sha256$100000$000102030405060708090a0b0c0d0e0f$57f2c2f0739748d516419b062a884666323c583ea4ae165504a81f7b53c62a09";

    #[test]
    fn hashes_are_parsed_strictly() {
        assert!(PasswordHash::parse(HASH).is_some());
        assert!(
            PasswordHash::parse(&HASH.replace("100000", "1000")).is_none(),
            "too few iterations"
        );
        assert!(PasswordHash::parse(&HASH.replace("pbkdf2-sha256", "md5")).is_none());
        assert!(PasswordHash::parse("pbkdf2-sha256$100000$00$00").is_none());
        assert!(!format!("{:?}", PasswordHash::parse(HASH).unwrap()).contains("57f2"));
    }

    #[test]
    fn the_password_is_checked_against_the_slow_hash() {
        let hash = PasswordHash::parse(HASH).unwrap();
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("correct horse "));
        assert!(!hash.verify(""));
    }

    #[test]
    fn sessions_live_in_an_httponly_strict_cookie() {
        let (token, hash) = new_session(&[9u8; 32]);
        assert_eq!(hash, sha256_hex(token.as_bytes()));
        let cookie = set_cookie(&token);
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("Secure")
                && cookie.contains("SameSite=Strict")
        );
        assert_eq!(
            session_token(Some(&format!("a=1; {COOKIE}={token}; b=2"))),
            Some(token.as_str())
        );
        assert_eq!(session_token(Some("a=1")), None);
        assert_eq!(session_token(Some(&format!("{COOKIE}="))), None);
        assert!(set_cookie("t")
            .starts_with("__Host-ea_session=t; HttpOnly; Secure; SameSite=Strict; Path=/;"));
        assert!(clear_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn failures_slow_logins_down() {
        use model::settings::Failures;
        use throttle::*;
        let mut f = Failures::default();
        for _ in 0..FREE_FAILURES {
            assert_eq!(allowed(&f, 1_000), None);
            f = failed(&f, 1_000);
        }
        assert_eq!(
            allowed(&f, 1_500),
            Some(1_500),
            "2 s after the third failure"
        );
        assert_eq!(allowed(&f, 3_000), None);
        f = failed(&f, 3_000);
        assert_eq!(allowed(&f, 3_000), Some(4_000));
        assert_eq!(wait_ms(60), MAX_WAIT_MS);
    }

    #[test]
    fn attempts_are_claimed_per_user_and_client_and_never_lock_out_another() {
        use std::collections::BTreeMap;
        use throttle::*;
        let password = PasswordHash::parse(HASH).unwrap();
        let attacker = key(&password, "admin", true, "198.51.100.1");
        let admin = key(&password, "admin", true, "203.0.113.5");
        assert_ne!(attacker, admin);
        assert_eq!(
            key(&password, "Admin", true, "203.0.113.5"),
            admin,
            "user names are not case-sensitive"
        );
        assert_eq!(
            key(&password, "root", false, "198.51.100.1"),
            key(&password, "guest", false, "198.51.100.1"),
            "every other name is one bucket per client"
        );
        assert_eq!(
            key(&password, "admin", true, "2001:db8:1:2:aaaa::1"),
            key(&password, "admin", true, "2001:db8:1:2:bbbb::9"),
            "an IPv6 client by its /64"
        );
        assert!(!admin.contains("203"), "no address in the key");
        let mut attempts = BTreeMap::new();
        for _ in 0..FREE_FAILURES {
            attempts = claim(&attempts, &attacker, 1_000).expect("free");
        }
        // racing requests past the slow hash: the fourth is refused at once
        assert_eq!(claim(&attempts, &attacker, 1_000), Err(2_000));
        // the administrator, from another client, is not held back
        assert!(claim(&attempts, &admin, 1_000).is_ok());
        // quiet entries are forgotten
        let later = claim(&attempts, &admin, 1_000 + MAX_WAIT_MS + 1).unwrap();
        assert_eq!(later.len(), 1);
    }
}

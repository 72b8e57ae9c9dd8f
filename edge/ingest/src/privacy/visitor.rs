//! The visitor id: SipHash-2-4 keyed with the day's 128-bit random salt, over
//! the User-Agent, the IP address and the site's domain (Plausible's scheme).
//! Without the salt, which is destroyed within 48 h, nobody — operator
//! included — can recompute an id from an IP, or link a visitor across days.

use siphasher::sip::SipHasher24;
use std::hash::Hasher;

/// The day's salt: 16 random bytes, the SipHash key. Not `Debug`, so it never
/// reaches a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(pub [u8; 16]);

/// A pseudonymous visitor id, stable for one visitor, one site and one day.
pub fn visitor_id(salt: &Salt, user_agent: &str, ip: &str, site_domain: &str) -> u64 {
    let mut hasher = SipHasher24::new_with_key(&salt.0);
    // length-prefixed, so ("ab", "c") and ("a", "bc") hash differently
    for field in [user_agent, ip, site_domain] {
        hasher.write_u64(field.len() as u64);
        hasher.write(field.as_bytes());
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const MONDAY: Salt = Salt([7; 16]);
    const TUESDAY: Salt = Salt([9; 16]);

    #[test]
    fn same_visitor_same_day_same_site_same_id() {
        assert_eq!(
            visitor_id(&MONDAY, UA, "203.0.113.7", "portal.example"),
            visitor_id(&MONDAY, UA, "203.0.113.7", "portal.example")
        );
    }

    #[test]
    fn another_day_site_ip_or_browser_is_another_id() {
        let id = visitor_id(&MONDAY, UA, "203.0.113.7", "portal.example");
        assert_ne!(
            id,
            visitor_id(&TUESDAY, UA, "203.0.113.7", "portal.example")
        );
        assert_ne!(id, visitor_id(&MONDAY, UA, "203.0.113.7", "docs.example"));
        assert_ne!(id, visitor_id(&MONDAY, UA, "203.0.113.8", "portal.example"));
        assert_ne!(
            id,
            visitor_id(&MONDAY, "curl/8.5.0", "203.0.113.7", "portal.example")
        );
    }

    #[test]
    fn fields_cannot_slide_into_each_other() {
        assert_ne!(
            visitor_id(&MONDAY, "ab", "c", "d"),
            visitor_id(&MONDAY, "a", "bc", "d")
        );
    }

    #[test]
    fn every_key_bit_matters() {
        // a salt that used only half its bytes (a known peer bug) would map these together
        let mut other = MONDAY.clone();
        other.0[15] ^= 1;
        assert_ne!(
            visitor_id(&MONDAY, UA, "203.0.113.7", "p"),
            visitor_id(&other, UA, "203.0.113.7", "p")
        );
        let mut other = MONDAY.clone();
        other.0[0] ^= 1;
        assert_ne!(
            visitor_id(&MONDAY, UA, "203.0.113.7", "p"),
            visitor_id(&other, UA, "203.0.113.7", "p")
        );
    }
}

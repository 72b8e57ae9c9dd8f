//! Stats API keys: random secrets shown once, stored as SHA-256 (a fast hash
//! is enough for 256-bit random secrets: there is nothing to guess), and the
//! `Authorization: Bearer` header they arrive in.

use model::hex::encode as hex;
use sha2::{Digest, Sha256};

/// Random bytes a new key needs: 8 for its public id, 32 for its secret.
pub const RANDOM_BYTES: usize = 40;

/// A new key's public id and its secret (`ea_` + 64 hex digits).
pub fn new_key(random: &[u8; RANDOM_BYTES]) -> (String, String) {
    (hex(&random[..8]), format!("ea_{}", hex(&random[8..])))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_hashed() {
        let (id, secret) = new_key(&[7u8; RANDOM_BYTES]);
        assert_eq!(id, "0707070707070707");
        assert_eq!(secret.len(), 3 + 64);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bearer_tokens_are_read_strictly() {
        assert_eq!(bearer(Some("Bearer ea_x")), Some("ea_x"));
        assert_eq!(bearer(Some("bearer  ea_x ")), Some("ea_x"));
        assert_eq!(bearer(Some("Basic ea_x")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(Some("ea_x")), None);
        assert_eq!(bearer(None), None);
    }
}

//! Single sign-on through OpenID Connect (issue 12): the authorization code
//! flow with PKCE, state and nonce, and the ID token's checks (signature,
//! issuer, audience, expiry, nonce). Pure: the Worker fetches the
//! provider's documents and passes them in; this decides.
//!
//! ```text
//! /api/auth/sso/start ─▶ Pending {state, nonce, verifier} ─▶ provider's login
//! /api/auth/sso/callback ─▶ state matches ─▶ code + verifier ─▶ ID token
//!   ─▶ verify (RS256, iss, aud, exp, nonce) ─▶ roles from the claim ─▶ session
//! ```

use crate::keys::sha256_hex;
use model::hex;
use model::settings::Role;
use serde_json::Value;
use std::collections::BTreeMap;

/// Where a group's people get their roles: a role on one site, on every
/// site, or the installation (super-admin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    Site { site: String, role: Role },
    EverySite(Role),
    SuperAdmin,
}

/// `OIDC_ROLES`: which values of the role claim give which roles, e.g.
/// `analytics-admins=admin@*, portal-team=viewer@backstage.example.com,
/// platform-leads=super-admin`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoleMap {
    pub grants: Vec<(String, Grant)>,
}

impl RoleMap {
    pub fn parse(text: &str) -> Result<RoleMap, String> {
        let mut grants = Vec::new();
        for (i, entry) in text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let bad = || {
                format!(
                    "entry {} ({entry:?}) is not <group>=<role>@<site or *> or <group>=super-admin",
                    i + 1
                )
            };
            let (group, grant) = entry.split_once('=').ok_or_else(bad)?;
            let (group, grant) = (group.trim(), grant.trim());
            if group.is_empty() {
                return Err(bad());
            }
            let grant = if grant == "super-admin" {
                Grant::SuperAdmin
            } else {
                let (role, site) = grant.split_once('@').ok_or_else(bad)?;
                let role = Role::parse(role.trim()).ok_or_else(bad)?;
                match site.trim() {
                    "*" => Grant::EverySite(role),
                    "" => return Err(bad()),
                    site => Grant::Site {
                        site: model::settings::normalize_domain(site),
                        role,
                    },
                }
            };
            grants.push((group.to_string(), grant));
        }
        if grants.is_empty() {
            return Err("no entries: name at least one group and its role".into());
        }
        Ok(RoleMap { grants })
    }

    /// The roles a person with these claim values gets on `sites`: whether
    /// they are a super-admin, and their role per site (the highest one
    /// any of their groups gives). `None` when no group of theirs is mapped.
    pub fn roles(
        &self,
        values: &[String],
        sites: &[String],
    ) -> Option<(bool, BTreeMap<String, Role>)> {
        let mut super_admin = false;
        let mut roles: BTreeMap<String, Role> = BTreeMap::new();
        let mut any = false;
        let mut give = |site: &str, role: Role| {
            let entry = roles.entry(site.to_string()).or_insert(role);
            *entry = (*entry).max(role);
        };
        for (group, grant) in &self.grants {
            if !values.iter().any(|v| v == group) {
                continue;
            }
            any = true;
            match grant {
                Grant::SuperAdmin => super_admin = true,
                Grant::EverySite(role) => sites.iter().for_each(|s| give(s, *role)),
                Grant::Site { site, role } => {
                    if sites.contains(site) {
                        give(site, *role)
                    }
                }
            }
        }
        any.then_some((super_admin, roles))
    }
}

/// The values of the role claim: a list of strings, or one string.
pub fn claim_values(claims: &Value, claim: &str) -> Vec<String> {
    match claims.get(claim) {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// A login under way: what the callback must find again. Kept by the
/// Worker in the settings object (keyed by the state's SHA-256), single
/// use, for [`PENDING_MS`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub state_hash: String,
    pub nonce: String,
    pub verifier: String,
    pub expires_ms: u64,
}

/// How long a login at the provider may take.
pub const PENDING_MS: u64 = 10 * 60 * 1000;
/// Random bytes of a start: 32 for the state, 32 for the nonce, 32 for the verifier.
pub const START_RANDOM_BYTES: usize = 96;

/// A new login: the pending record, the state to send, and the
/// authorization URL (code flow, PKCE S256); `None` when the endpoint
/// the provider announced is not a URL.
pub fn start(
    authorization_endpoint: &str,
    client_id: &str,
    redirect_uri: &str,
    random: &[u8; START_RANDOM_BYTES],
    now_ms: u64,
) -> Option<(Pending, String, String)> {
    let state = base64url(&random[..32]);
    let nonce = base64url(&random[32..64]);
    let verifier = base64url(&random[64..]);
    let challenge = base64url(&sha2_digest(verifier.as_bytes()));
    let mut url = url::Url::parse(authorization_endpoint).ok()?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid email profile")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let pending = Pending {
        state_hash: sha256_hex(state.as_bytes()),
        nonce,
        verifier,
        expires_ms: now_ms + PENDING_MS,
    };
    Some((pending, state, url.into()))
}

fn sha2_digest(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// Base64url without padding (RFC 7515 §2).
pub fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding, or `None`.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

/// Whether `state` is the one `pending` was started with (constant time).
pub fn state_matches(pending: &Pending, state: &str) -> bool {
    hex::same_text(&pending.state_hash, &sha256_hex(state.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_the_mapped_groups_only() {
        let map = RoleMap::parse(
            "analytics-admins=admin@*, portal-team=viewer@WWW.Backstage.example, leads=super-admin",
        )
        .unwrap();
        let sites = vec!["backstage.example".to_string(), "docs.example".to_string()];
        let (root, roles) = map.roles(&["portal-team".into()], &sites).unwrap();
        assert!(!root);
        assert_eq!(
            roles,
            [("backstage.example".to_string(), Role::Viewer)].into()
        );
        let (_, roles) = map
            .roles(&["portal-team".into(), "analytics-admins".into()], &sites)
            .unwrap();
        assert_eq!(
            roles.get("backstage.example"),
            Some(&Role::Admin),
            "the highest"
        );
        assert_eq!(roles.len(), 2);
        assert!(map.roles(&["leads".into()], &sites).unwrap().0);
        assert_eq!(
            map.roles(&["everyone".into()], &sites),
            None,
            "outside every mapped group"
        );
        for bad in ["", "x", "x=root@*", "=admin@*", "x=admin", "x=admin@"] {
            assert!(RoleMap::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn base64url_round_trips_and_matches_rfc_7636() {
        for n in 0..10 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
            assert_eq!(base64url_decode(&base64url(&bytes)), Some(bytes));
        }
        // RFC 7636 appendix B
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            base64url(&sha2_digest(verifier.as_bytes())),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(base64url_decode("a$"), None);
    }

    #[test]
    fn a_start_sends_state_nonce_and_the_s256_challenge() {
        let (pending, state, url) = start(
            "https://idp.example/auth?tenant=x",
            "dash",
            "https://a.example/api/auth/sso/callback",
            &std::array::from_fn(|i| i as u8),
            1_000,
        )
        .unwrap();
        assert!(url.starts_with("https://idp.example/auth?tenant=x&response_type=code&client_id=dash&redirect_uri=https%3A%2F%2Fa.example%2Fapi%2Fauth%2Fsso%2Fcallback&scope=openid+email+profile&state="), "{url}");
        assert!(url.contains("&code_challenge_method=S256"));
        assert!(url.contains(&format!("&nonce={}", pending.nonce)));
        assert!(!url.contains(&pending.verifier), "the verifier stays here");
        assert!(state_matches(&pending, &state));
        assert!(!state_matches(&pending, "forged"));
        assert_eq!(pending.expires_ms, 1_000 + PENDING_MS);
    }
}

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

/// A login under way (`model::settings::SsoPending`): what the callback must find again.
pub use model::settings::SsoPending as Pending;

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

/// Why a single sign-on did not end in a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsoError {
    /// The provider answered what OpenID Connect does not describe (502).
    #[error("the identity provider's {0} is not usable: {1}")]
    Provider(&'static str, String),
    /// No key of the provider's matches the token's: its keys may have
    /// rotated (fetch them again, once).
    #[error("the ID token is signed with a key the provider does not publish")]
    UnknownKey,
    /// The login is refused (403): the message says why.
    #[error("{0}")]
    Refused(String),
}

impl SsoError {
    pub fn status(&self) -> u16 {
        match self {
            SsoError::Provider(..) => 502,
            SsoError::UnknownKey | SsoError::Refused(_) => 403,
        }
    }
}

fn refused<T>(message: impl Into<String>) -> Result<T, SsoError> {
    Err(SsoError::Refused(message.into()))
}

/// The provider's endpoints, from its discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

/// Reads `/.well-known/openid-configuration`: its issuer must be the
/// configured one (OpenID Connect Discovery §4.3), its endpoints URLs.
pub fn discovery(document: &Value, issuer: &str) -> Result<Discovery, SsoError> {
    let text = |field: &'static str| {
        document
            .get(field)
            .and_then(Value::as_str)
            .filter(|v| url::Url::parse(v).is_ok())
            .map(str::to_string)
            .ok_or_else(|| {
                SsoError::Provider(
                    "discovery document",
                    format!("{field} is missing or not a URL"),
                )
            })
    };
    let announced = text("issuer")?;
    if announced.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(SsoError::Provider(
            "discovery document",
            format!("its issuer {announced:?} is not the configured OIDC_ISSUER {issuer:?}"),
        ));
    }
    Ok(Discovery {
        authorization_endpoint: text("authorization_endpoint")?,
        token_endpoint: text("token_endpoint")?,
        jwks_uri: text("jwks_uri")?,
    })
}

/// The token endpoint's body for `code` (client_secret_basic carries the
/// client's credentials in the `Authorization` header: [`basic_auth`]).
pub fn token_request(code: &str, redirect_uri: &str, verifier: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", verifier)
        .finish()
}

/// `Authorization: Basic …` for the client (RFC 6749 §2.3.1: each part
/// form-encoded first).
pub fn basic_auth(client_id: &str, client_secret: &str) -> String {
    use base64::Engine;
    let encode =
        |part: &str| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(client_id), encode(client_secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The ID token of the token endpoint's answer, or why there is none.
pub fn id_token(status: u16, body: &str) -> Result<String, SsoError> {
    let Ok(answer) = serde_json::from_str::<Value>(body) else {
        return Err(SsoError::Provider(
            "token endpoint",
            format!("answered {status} with no JSON"),
        ));
    };
    if let Some(error) = answer.get("error").and_then(Value::as_str) {
        let description = answer
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or("");
        return refused(format!(
            "the identity provider refused the code ({error}{}{description}): sign in again",
            if description.is_empty() { "" } else { ": " }
        ));
    }
    match answer.get("id_token").and_then(Value::as_str) {
        Some(token) if status == 200 => Ok(token.to_string()),
        _ => Err(SsoError::Provider(
            "token endpoint",
            format!("answered {status} without an id_token"),
        )),
    }
}

/// What the ID token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now_s: u64,
}

/// Seconds a token may be past its `exp` (the provider's clock and ours).
pub const LEEWAY_S: u64 = 5;
/// The longest ID token accepted.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The ID token's claims, once its RS256 signature verifies against one of
/// the provider's keys (`jwks`) and it names this provider, this client,
/// this login's nonce, and is not expired (OpenID Connect Core §3.1.3.7).
pub fn verify(token: &str, jwks: &Value, expected: &Expected) -> Result<Value, SsoError> {
    if token.len() > MAX_TOKEN_BYTES {
        return refused("the ID token is too large");
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return refused("the ID token is not a signed JWT");
    };
    let json = |part: &str| {
        base64url_decode(part).and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    };
    let (Some(header_json), Some(claims), Some(signature)) =
        (json(header), json(payload), base64url_decode(signature))
    else {
        return refused("the ID token is not a signed JWT");
    };
    // "none" and the HMAC algorithms (whose key would be our client secret) are refused
    let alg = header_json.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != "RS256" {
        return refused(format!(
            "the ID token's algorithm {alg:?} is not accepted (RS256 is)"
        ));
    }
    let kid = header_json.get("kid").and_then(Value::as_str);
    let keys: Vec<&Value> = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
                .filter(|k| {
                    k.get("use")
                        .and_then(Value::as_str)
                        .is_none_or(|u| u == "sig")
                })
                .filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)
                .collect()
        })
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(SsoError::UnknownKey);
    }
    let message = format!("{header}.{payload}");
    let verified = keys
        .iter()
        .any(|key| rsa_verifies(key, message.as_bytes(), &signature));
    if !verified {
        return refused("the ID token's signature does not verify");
    }
    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if issuer.trim_end_matches('/') != expected.issuer.trim_end_matches('/') {
        return refused(format!(
            "the ID token is from {issuer:?}, not the configured provider"
        ));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return refused("the ID token is meant for another client (its audience is not this one)");
    }
    if audiences.len() > 1 && claims.get("azp").and_then(Value::as_str) != Some(expected.client_id)
    {
        return refused("the ID token has several audiences and is not authorized for this client");
    }
    match claims.get("exp").and_then(Value::as_u64) {
        Some(exp) if exp + LEEWAY_S > expected.now_s => {}
        Some(_) => return refused("the ID token has expired: sign in again"),
        None => return refused("the ID token has no expiry"),
    }
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !hex::same_text(nonce, expected.nonce) {
        return refused("the ID token's nonce is not this login's");
    }
    Ok(claims)
}

/// Whether `signature` is an RSASSA-PKCS1-v1_5 SHA-256 signature of
/// `message` by the JWK `key` (`n`, `e`).
fn rsa_verifies(key: &Value, message: &[u8], signature: &[u8]) -> bool {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    let part = |name: &str| {
        key.get(name)
            .and_then(Value::as_str)
            .and_then(base64url_decode)
            .map(|bytes| rsa::BigUint::from_bytes_be(&bytes))
    };
    let (Some(n), Some(e)) = (part("n"), part("e")) else {
        return false;
    };
    let Ok(public) = rsa::RsaPublicKey::new(n, e) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(signature) else {
        return false;
    };
    VerifyingKey::<sha2::Sha256>::new(public)
        .verify(message, &signature)
        .is_ok()
}

/// Whether the provider says the sign-in used more than a password (RFC
/// 8176's `amr`: `mfa`, or two methods or more): a site that requires a
/// second factor takes the provider's.
pub fn multi_factor(claims: &Value) -> bool {
    let methods: Vec<&str> = claims
        .get("amr")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut distinct = methods.clone();
    distinct.sort_unstable();
    distinct.dedup();
    methods.contains(&"mfa") || distinct.len() >= 2
}

/// The person a verified ID token signs in, with the roles the provider's
/// groups give on today's sites (replacing those they had: the provider
/// decides); refused when their e-mail is missing or unverified, or no
/// group of theirs is mapped.
pub fn sign_in(
    store: &model::settings::Store,
    claims: &Value,
    roles: &RoleMap,
    claim: &str,
    new_id: &[u8; 8],
    now_ms: u64,
) -> Result<model::settings::User, SsoError> {
    let Some(address) = claims.get("email").and_then(Value::as_str) else {
        return refused("the provider sent no e-mail address (ask for the email scope)");
    };
    // (Entra ID sends no email_verified: absent is the provider's word; false is refused)
    if claims.get("email_verified").and_then(Value::as_bool) == Some(false) {
        return refused(format!(
            "{address}: the provider has not verified this e-mail address"
        ));
    }
    let (Some(issuer), Some(sub)) = (
        claims.get("iss").and_then(Value::as_str),
        claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty()),
    ) else {
        return refused("the ID token names no subject");
    };
    let subject = format!("{} {sub}", issuer.trim_end_matches('/'));
    let email = crate::admin::email(address).map_err(|e| SsoError::Refused(e.0))?;
    let sites: Vec<String> = store.sites.iter().map(|s| s.domain.clone()).collect();
    let Some((super_admin, site_roles)) = roles.roles(&claim_values(claims, claim), &sites) else {
        return refused(format!(
            "{email} is in no group this installation gives a role to (claim {claim:?}): ask an administrator"
        ));
    };
    let name = claims
        .get("name")
        .and_then(Value::as_str)
        .map(|n| {
            n.chars()
                .filter(|c| !c.is_control())
                .take(crate::people::MAX_NAME_CHARS)
                .collect()
        })
        .filter(|n: &String| !n.trim().is_empty())
        .unwrap_or_else(|| email.clone());
    let by_subject = store
        .users
        .iter()
        .find(|u| u.sso_subject.as_deref() == Some(subject.as_str()));
    let existing = match (by_subject, store.user_by_email(&email)) {
        (Some(person), _) => Some(person),
        // an account of the same address is never taken over: one with a
        // password (or a second factor) is its owner's, one linked to another
        // identity at the provider is that identity's
        (None, Some(person))
            if person.password.is_empty()
                && person.second_factor.is_none()
                && person.sso_subject.is_none() =>
        {
            Some(person)
        }
        (None, Some(_)) => {
            return refused(format!(
                "{email} has an account here already (with a password, or another sign-in): sign in as before, or ask an administrator to remove it"
            ))
        }
        (None, None) => None,
    };
    Ok(match existing {
        Some(existing) => model::settings::User {
            email,
            name,
            roles: site_roles,
            super_admin,
            sso_subject: Some(subject),
            ..existing.clone()
        },
        None => model::settings::User {
            id: hex::encode(new_id),
            email,
            name,
            password: String::new(),
            super_admin,
            roles: site_roles,
            second_factor: None,
            created_ms: now_ms,
            last_login_ms: None,
            sso_subject: Some(subject),
        },
    })
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

    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    use rsa::traits::PublicKeyParts;
    use serde_json::json;

    /// A key made for these tests only (`openssl genpkey`).
    const TEST_KEY: &str = include_str!("sso_test_key.pem");
    const ISSUER: &str = "https://idp.example/realms/portal";
    const NOW: u64 = 1_800_000_000;

    fn private_key() -> rsa::RsaPrivateKey {
        rsa::RsaPrivateKey::from_pkcs1_pem(TEST_KEY).unwrap()
    }

    fn jwks(kid: &str) -> Value {
        let public = private_key().to_public_key();
        json!({ "keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": base64url(&public.n().to_bytes_be()), "e": base64url(&public.e().to_bytes_be()),
        }]})
    }

    fn sign(header: &Value, claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private_key());
        let signature = key.sign(message.as_bytes()).to_vec();
        format!("{message}.{}", base64url(&signature))
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "aud": "dash", "sub": "ada-1", "exp": NOW + 60, "iat": NOW,
            "nonce": "n-1", "email": "Ada@Example.com", "email_verified": true, "name": "Ada",
            "groups": ["analytics-admins"],
        })
    }

    const EXPECTED: Expected = Expected {
        issuer: ISSUER,
        client_id: "dash",
        nonce: "n-1",
        now_s: NOW,
    };

    #[test]
    fn a_token_verifies_only_when_signed_by_the_provider_for_this_client_and_login() {
        let header = json!({"alg": "RS256", "kid": "k1"});
        let good = sign(&header, &claims());
        assert_eq!(
            verify(&good, &jwks("k1"), &EXPECTED).unwrap()["sub"],
            "ada-1"
        );
        assert_eq!(
            verify(&good, &jwks("k2"), &EXPECTED),
            Err(SsoError::UnknownKey),
            "rotated keys"
        );
        let with = |field: &str, value: Value| {
            let mut claims = claims();
            claims[field] = value;
            verify(&sign(&header, &claims), &jwks("k1"), &EXPECTED)
                .unwrap_err()
                .to_string()
        };
        assert!(with("aud", json!("another-client")).contains("meant for another client"));
        assert!(with("aud", json!(["dash", "other"])).contains("several audiences"));
        assert!(with("iss", json!("https://evil.example")).contains("not the configured provider"));
        assert!(with("exp", json!(NOW - LEEWAY_S)).contains("expired"));
        assert!(with("nonce", json!("n-2")).contains("nonce"));
        // a payload changed after signing, or no signature at all
        let (signed, _) = good.rsplit_once('.').unwrap();
        let (head, _) = signed.split_once('.').unwrap();
        let mut forged = claims();
        forged["groups"] = json!(["leads"]);
        let swapped = format!(
            "{head}.{}.{}",
            base64url(forged.to_string().as_bytes()),
            good.rsplit('.').next().unwrap()
        );
        assert!(verify(&swapped, &jwks("k1"), &EXPECTED)
            .unwrap_err()
            .to_string()
            .contains("signature"));
        let unsigned = format!(
            "{}.{}.",
            base64url(br#"{"alg":"none"}"#),
            base64url(claims().to_string().as_bytes())
        );
        assert!(verify(&unsigned, &jwks("k1"), &EXPECTED)
            .unwrap_err()
            .to_string()
            .contains("\"none\" is not accepted"));
        let hmac = sign(&json!({"alg": "HS256", "kid": "k1"}), &claims());
        assert!(verify(&hmac, &jwks("k1"), &EXPECTED).is_err());
        for garbage in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert_eq!(
                verify(garbage, &jwks("k1"), &EXPECTED),
                Err(SsoError::Refused("the ID token is not a signed JWT".into())),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn the_providers_multi_factor_sign_in_counts_as_a_second_factor() {
        assert!(multi_factor(&json!({"amr": ["mfa"]})));
        assert!(multi_factor(&json!({"amr": ["pwd", "otp"]})));
        assert!(!multi_factor(&json!({"amr": ["pwd"]})));
        assert!(!multi_factor(&json!({"amr": ["pwd", "pwd"]})));
        assert!(!multi_factor(&json!({"amr": "mfa"})), "amr is a list");
        assert!(
            !multi_factor(&claims()),
            "no amr: a password, for all we know"
        );
    }

    #[test]
    fn a_verified_person_gets_the_mapped_roles_or_nothing() {
        let store = model::settings::Store {
            sites: vec![model::settings::Site::new("backstage.example")],
            ..Default::default()
        };
        let map = RoleMap::parse("analytics-admins=admin@*").unwrap();
        let user = sign_in(&store, &claims(), &map, "groups", &[1; 8], 5).unwrap();
        assert_eq!(user.email, "ada@example.com");
        assert_eq!(user.roles.get("backstage.example"), Some(&Role::Admin));
        assert!(user.password.is_empty(), "no password: single sign-on only");
        let mut outsider = claims();
        outsider["groups"] = json!(["everyone"]);
        let refused = sign_in(&store, &outsider, &map, "groups", &[1; 8], 5).unwrap_err();
        assert!(refused.to_string().contains("in no group"), "{refused}");
        let mut unverified = claims();
        unverified["email_verified"] = json!(false);
        assert!(sign_in(&store, &unverified, &map, "groups", &[1; 8], 5).is_err());
        // found again by their identity at the provider, even under a new address
        let mut store = store;
        store.users.push(user.clone());
        let mut renamed = claims();
        renamed["email"] = json!("ada.lovelace@example.com");
        let again = sign_in(&store, &renamed, &map, "groups", &[2; 8], 6).unwrap();
        assert_eq!(
            (again.id.as_str(), again.email.as_str()),
            (user.id.as_str(), "ada.lovelace@example.com")
        );
        // another identity claiming Ada's address takes nothing over
        let mut impostor = claims();
        impostor["sub"] = json!("someone-else");
        let refused = sign_in(&store, &impostor, &map, "groups", &[3; 8], 7).unwrap_err();
        assert!(
            refused.to_string().contains("has an account here already"),
            "{refused}"
        );
        // nor a password account of the same address
        store.users[0].sso_subject = None;
        store.users[0].password = "pbkdf2-sha256$…".into();
        assert!(sign_in(&store, &claims(), &map, "groups", &[4; 8], 8).is_err());
    }

    #[test]
    fn the_providers_documents_are_checked() {
        let document = json!({
            "issuer": ISSUER, "authorization_endpoint": "https://idp.example/auth",
            "token_endpoint": "https://idp.example/token", "jwks_uri": "https://idp.example/jwks",
        });
        assert_eq!(
            discovery(&document, ISSUER).unwrap().token_endpoint,
            "https://idp.example/token"
        );
        let mut other = document.clone();
        other["issuer"] = json!("https://evil.example");
        assert_eq!(discovery(&other, ISSUER).unwrap_err().status(), 502);
        assert_eq!(
            discovery(&json!("garbage"), ISSUER).unwrap_err().status(),
            502
        );
        assert_eq!(id_token(200, "<html>").unwrap_err().status(), 502);
        let replayed = id_token(
            400,
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
        )
        .unwrap_err();
        assert_eq!(replayed.status(), 403);
        assert!(replayed.to_string().contains("invalid_grant"));
        assert_eq!(id_token(200, r#"{"id_token":"a.b.c"}"#).unwrap(), "a.b.c");
        assert_eq!(basic_auth("dash", "s:3 cret"), "Basic ZGFzaDpzJTNBMytjcmV0");
    }
}

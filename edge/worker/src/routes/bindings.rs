//! The Worker's environment: its variables (validated once per isolate into
//! a [`Config`]), the names of its bindings (as in wrangler.toml), and the
//! runtime's CSPRNG.

use crate::config::{Config, ConfigError, RawConfig};
use worker::Env;

pub const EVENTS_QUEUE: &str = "EVENTS";
pub const SALTS: &str = "SALTS";
/// The static assets (`www/`): Cloudflare's assets binding, or under workerd the front's directory.
pub const ASSETS: &str = "ASSETS";
pub const SITE_SETTINGS: &str = "SITE_SETTINGS";
/// Self-hosted replicas only: the control instance that holds the salts and
/// the settings for all of them (`super::state`).
pub const CONTROL: &str = "CONTROL";
/// The R2 bucket of messages set aside (`ingest::store::dead_letter`).
pub const DEAD_LETTERS: &str = "DEAD_LETTERS";
/// Without the bucket (bare workerd): the Durable Object that keeps them.
pub const DEAD_LETTER_STORE: &str = "DEAD_LETTER_STORE";
/// The queue Cloudflare moves a message to after the consumer's retries.
pub const DEAD_LETTER_QUEUE_NAME: &str = "events-dlq";

thread_local! {
    /// The configuration, validated on an isolate's first request (the
    /// Worker's start-up, as far as it has one) and reused after.
    static CONFIG: std::cell::OnceCell<Config> = const { std::cell::OnceCell::new() };
}

/// The validated configuration; a misconfigured Worker fails loudly (a 500
/// naming the variable) on every request until it is fixed.
pub fn config(env: &Env) -> Result<Config, ConfigError> {
    if let Some(config) = CONFIG.with(|cell| cell.get().cloned()) {
        return Ok(config);
    }
    // Variables and secrets are strings in `env`, or JSON values for a
    // wrangler.toml number or boolean (`RETRY_BUDGET_SECONDS = 3600`): those
    // are read as their text, so the rules apply to them too. Read directly
    // rather than by `env.var`: under self-hosted workerd an unset
    // `fromEnvironment` variable is `null`, whose type check throws inside
    // workers-rs.
    let var = |name: &str| {
        let value = worker::js_sys::Reflect::get(env, &name.into()).ok()?;
        if value.is_null() || value.is_undefined() {
            return None;
        }
        value.as_string().or_else(|| {
            worker::js_sys::JSON::stringify(&value)
                .ok()
                .and_then(|text| text.as_string())
        })
    };
    let config = RawConfig {
        clickhouse_url: var("CLICKHOUSE_URL"),
        clickhouse_user: var("CLICKHOUSE_USER"),
        clickhouse_password: var("CLICKHOUSE_PASSWORD"),
        clickhouse_database: var("CLICKHOUSE_DATABASE"),
        clickhouse_cluster: var("CLICKHOUSE_CLUSTER"),
        clickhouse_read_user: var("CLICKHOUSE_READ_USER"),
        clickhouse_read_password: var("CLICKHOUSE_READ_PASSWORD"),
        trusted_proxy: var("TRUSTED_PROXY"),
        admin_token: var("ADMIN_TOKEN"),
        admin_user: var("ADMIN_USER"),
        admin_password_hash: var("ADMIN_PASSWORD_HASH"),
        retry_budget_seconds: var("RETRY_BUDGET_SECONDS"),
        control_token: var("CONTROL_TOKEN"),
        metrics_token: var("METRICS_TOKEN"),
        oidc_issuer: var("OIDC_ISSUER"),
        oidc_client_id: var("OIDC_CLIENT_ID"),
        oidc_client_secret: var("OIDC_CLIENT_SECRET"),
        oidc_roles: var("OIDC_ROLES"),
        oidc_role_claim: var("OIDC_ROLE_CLAIM"),
        sso_only: var("SSO_ONLY"),
        smtp_url: var("SMTP_URL"),
        mail_from: var("MAIL_FROM"),
        export_url: var("EXPORT_URL"),
        export_key_id: var("EXPORT_KEY_ID"),
        export_secret: var("EXPORT_SECRET"),
        control_bound: env.service(CONTROL).is_ok(),
    }
    .validate()?;
    // a concurrent first request may have set it already: either copy is the same
    CONFIG.with(|cell| cell.set(config.clone()).ok());
    Ok(config)
}

#[worker::wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The runtime's CSPRNG (Web Crypto).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// `N` bytes from the runtime's CSPRNG: salts, API keys, session tokens.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    get_random_values(&mut bytes);
    bytes
}

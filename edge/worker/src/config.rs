//! The Worker's configuration (wrangler.toml `[vars]` and secrets), validated
//! once into a type where only valid states exist. Sites, goals, API keys and
//! retention are not configuration but site settings (`model::settings`),
//! changed at run time through the admin API.

use control::admin::is_private_host;
use control::login::PasswordHash;
use ingest::privacy::client::ProxyTrust;
use ingest::store::delivery::RetryBudget;
use model::tables::Topology;
use url::Url;

/// The settings as the environment gives them.
#[derive(Debug, Default, Clone)]
pub struct RawConfig {
    /// `CLICKHOUSE_URL`: ClickHouse's HTTP interface.
    pub clickhouse_url: Option<String>,
    pub clickhouse_user: Option<String>,
    pub clickhouse_password: Option<String>,
    pub clickhouse_database: Option<String>,
    /// `CLICKHOUSE_CLUSTER`: the cluster whose nodes hold the tables
    /// (docs/scaling.md); unset, one server.
    pub clickhouse_cluster: Option<String>,
    /// `CLICKHOUSE_READ_USER` / `CLICKHOUSE_READ_PASSWORD`: the user the
    /// Stats API reads as — in production one granted only SELECT on the
    /// database (not a `readonly = 1` profile: it refuses the limits each
    /// read sets); unset, the writing user (each read is `readonly = 2` all
    /// the same).
    pub clickhouse_read_user: Option<String>,
    pub clickhouse_read_password: Option<String>,
    /// `TRUSTED_PROXY`: empty (Cloudflare) or `forwarded` (a reverse proxy
    /// whose `X-Forwarded-For`/`Forwarded`/`CF-IPCountry` are believed).
    pub trusted_proxy: Option<String>,
    /// `ADMIN_TOKEN` (a secret): the bearer token of the admin API; unset, the
    /// admin API is closed.
    pub admin_token: Option<String>,
    /// `ADMIN_USER` (default `admin`) and `ADMIN_PASSWORD_HASH` (a secret,
    /// `pbkdf2-sha256$…`): the dashboard's login; unset, no one logs in.
    pub admin_user: Option<String>,
    pub admin_password_hash: Option<String>,
    /// `RETRY_BUDGET_SECONDS` (default 259200, 72 h): how long the queue
    /// consumer retries an event through a ClickHouse outage before setting
    /// it aside in the dead-letter bucket. Keep it under the queue's
    /// retention (4 days by default).
    pub retry_budget_seconds: Option<String>,
    /// `CONTROL_TOKEN` (a secret, self-hosted with several replicas): what a
    /// replica shows the control instance, which holds the daily salts and
    /// the site settings for all of them (docs/self-hosting.md).
    pub control_token: Option<String>,
    /// `METRICS_TOKEN` (a secret, 24+ characters): what a Prometheus scrape
    /// of `/metrics` shows; unset, there is no metrics endpoint.
    pub metrics_token: Option<String>,
    /// Single sign-on (OpenID Connect, docs/teams.md): `OIDC_ISSUER` (the
    /// provider's issuer URL; https, or http to a private host),
    /// `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` (a secret), `OIDC_ROLES` (which
    /// groups give which roles, `control::sso::RoleMap`), `OIDC_ROLE_CLAIM`
    /// (default `groups`) and `SSO_ONLY` (`true`: people sign in only
    /// through the provider). Unset issuer: no single sign-on.
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    pub oidc_roles: Option<String>,
    pub oidc_role_claim: Option<String>,
    pub sso_only: Option<String>,
    /// E-mail for reports and alerts (docs/notifications.md): `SMTP_URL`
    /// (a secret: `smtp://` to a relay on a private network, `smtp+starttls://`
    /// (587) or `smtps://` (465), with `user:password@` when the server wants
    /// them) and `MAIL_FROM` (the sender's address). Unset: no e-mail; alerts
    /// still reach webhooks.
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    /// The scheduled Parquet export (docs/exports.md): `EXPORT_URL` is
    /// `file:<directory>` (under ClickHouse's `user_files`, self-hosted) or
    /// an S3-compatible bucket's https URL (R2), with `EXPORT_KEY_ID` and
    /// `EXPORT_SECRET` (a secret) for the bucket. Unset: no export.
    pub export_url: Option<String>,
    pub export_key_id: Option<String>,
    pub export_secret: Option<String>,
    /// Whether the `CONTROL` service binding exists: this is a replica, and
    /// its salts and settings live in the control instance.
    pub control_bound: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The queue consumer, the cron and the admin API write as this user.
    pub clickhouse: Clickhouse,
    /// The Stats API reads as this one.
    pub clickhouse_read: Clickhouse,
    pub proxy: ProxyTrust,
    pub admin_token: Option<AdminToken>,
    /// The dashboard's administrator, when a password hash is set.
    pub login: Option<Login>,
    pub retry_budget: RetryBudget,
    /// One ClickHouse server, or a cluster (`CLICKHOUSE_CLUSTER`).
    pub topology: Topology,
    /// Where the salts and the settings are: in this runtime's own Durable
    /// Objects, or in the control instance's (a self-hosted replica).
    pub state: StateAccess,
    /// `CONTROL_TOKEN`: on the control instance, what a replica must show.
    pub control_token: Option<AdminToken>,
    /// `METRICS_TOKEN`: what a scrape of `/metrics` must show.
    pub metrics_token: Option<AdminToken>,
    /// Single sign-on, when an issuer is configured.
    pub sso: Option<Sso>,
    /// Where e-mail goes out, when configured.
    pub smtp: Option<Smtp>,
    /// Where closed days are exported as Parquet, when configured.
    pub export: Option<ingest::store::parquet::Target>,
    /// Optional features whose variables were refused (e-mail, the export):
    /// they are off, and `/api/health` and their passes name the variable;
    /// events are accepted all the same (a typo in an optional setting must
    /// not lose them).
    pub off: Vec<ConfigError>,
}

/// The SMTP server; the password is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Smtp(pub notify::smtp::Server);

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.0.host)
            .field("port", &self.0.port)
            .field("security", &self.0.security)
            .field("from", &self.0.from)
            .finish()
    }
}

impl Config {
    /// Whether people may only sign in through the provider (`SSO_ONLY`).
    pub fn single_sign_on_only(&self) -> bool {
        self.sso.as_ref().is_some_and(|sso| sso.only)
    }
}

/// An OpenID provider and how its groups map to roles.
#[derive(Clone, PartialEq, Eq)]
pub struct Sso {
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: String,
    pub roles: control::sso::RoleMap,
    pub role_claim: String,
    pub only: bool,
}

impl std::fmt::Debug for Sso {
    // the client secret never reaches a log
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id)
            .field("role_claim", &self.role_claim)
            .field("only", &self.only)
            .finish()
    }
}

/// Where the Durable Objects that hold shared state (the daily salts, the
/// site settings) are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateAccess {
    /// In this runtime (Cloudflare; a single workerd).
    Local,
    /// Through the `CONTROL` service binding, showing the token.
    Control(AdminToken),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub password: PasswordHash,
}

/// The admin API's bearer token; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(pub String);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(…)")
    }
}

/// The shortest admin token accepted: a guessable one would open every site.
pub const MIN_ADMIN_TOKEN_BYTES: usize = 24;

#[derive(Clone, PartialEq, Eq)]
pub struct Clickhouse {
    pub url: Url,
    pub user: String,
    pub password: String,
    pub database: String,
}

impl std::fmt::Debug for Clickhouse {
    // the password never reaches a log
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // a password in the URL itself is not shown either
        let mut url = self.url.clone();
        let _ = url.set_password(None);
        f.debug_struct("Clickhouse")
            .field("url", &url.as_str())
            .field("user", &self.user)
            .field("database", &self.database)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_BYTES} characters")]
    ShortAdminToken,
    #[error("ADMIN_PASSWORD_HASH must be pbkdf2-sha256$<iterations ≥ 100000>$<salt hex>$<hash hex> (node scripts/admin.mjs hash-password)")]
    BadPasswordHash,
    #[error("CLICKHOUSE_URL is required")]
    NoClickhouse,
    /// (The value is not repeated: a URL may carry a password.)
    #[error("CLICKHOUSE_URL is not an http(s) URL")]
    BadClickhouseUrl,
    #[error("CLICKHOUSE_DATABASE must be an identifier: {0:?}")]
    BadDatabase(String),
    #[error("CLICKHOUSE_CLUSTER must be an identifier: {0:?}")]
    BadCluster(String),
    #[error("TRUSTED_PROXY must be empty or \"forwarded\", not {0:?}")]
    BadTrustedProxy(String),
    /// (The value is not repeated: a URL may carry a password.)
    #[error("CLICKHOUSE_URL uses http to a host outside this machine or private network: use https (http is for loopback, private addresses and cluster-internal names)")]
    InsecureClickhouse,
    #[error("CONTROL_TOKEN is required when the CONTROL service is bound (a self-hosted replica), and must be at least {MIN_ADMIN_TOKEN_BYTES} characters")]
    BadControlToken,
    #[error("METRICS_TOKEN must be at least {MIN_ADMIN_TOKEN_BYTES} characters")]
    ShortMetricsToken,
    #[error("{0}")]
    BadSso(&'static str, String),
    /// An SMTP or export variable (the value is not repeated: it may carry a password).
    #[error("{0}")]
    BadVariable(&'static str, String),
    #[error("RETRY_BUDGET_SECONDS must be a whole number of seconds from 1 to {MAX_RETRY_BUDGET_SECONDS} (a queue keeps messages 14 days at most), not {0:?}")]
    BadRetryBudget(String),
}

/// A Cloudflare Queue keeps a message 14 days at most.
pub const MAX_RETRY_BUDGET_SECONDS: u64 = 14 * 24 * 3600;

impl ConfigError {
    /// The variable to fix: all a client is told of a misconfigured Worker.
    pub fn variable(&self) -> &'static str {
        match self {
            ConfigError::ShortAdminToken => "ADMIN_TOKEN",
            ConfigError::BadPasswordHash => "ADMIN_PASSWORD_HASH",
            ConfigError::NoClickhouse
            | ConfigError::BadClickhouseUrl
            | ConfigError::InsecureClickhouse => "CLICKHOUSE_URL",
            ConfigError::BadControlToken => "CONTROL_TOKEN",
            ConfigError::ShortMetricsToken => "METRICS_TOKEN",
            ConfigError::BadDatabase(_) => "CLICKHOUSE_DATABASE",
            ConfigError::BadCluster(_) => "CLICKHOUSE_CLUSTER",
            ConfigError::BadTrustedProxy(_) => "TRUSTED_PROXY",
            ConfigError::BadRetryBudget(_) => "RETRY_BUDGET_SECONDS",
            ConfigError::BadSso(variable, _) | ConfigError::BadVariable(variable, _) => variable,
        }
    }
}

impl RawConfig {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let admin_token = match self.admin_token.filter(|t| !t.is_empty()) {
            Some(token) if token.len() < MIN_ADMIN_TOKEN_BYTES => {
                return Err(ConfigError::ShortAdminToken)
            }
            token => token.map(AdminToken),
        };
        let url_text = self
            .clickhouse_url
            .filter(|u| !u.is_empty())
            .ok_or(ConfigError::NoClickhouse)?;
        let url = Url::parse(&url_text).map_err(|_| ConfigError::BadClickhouseUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::BadClickhouseUrl);
        }
        if url.scheme() == "http" && !is_private_host(&url) {
            return Err(ConfigError::InsecureClickhouse);
        }
        let database = self
            .clickhouse_database
            .unwrap_or_else(|| "analytics".into());
        if !is_identifier(&database) {
            return Err(ConfigError::BadDatabase(database));
        }
        let topology = match self.clickhouse_cluster.filter(|c| !c.is_empty()) {
            None => Topology::Single,
            Some(cluster) if is_identifier(&cluster) => Topology::Cluster(cluster),
            Some(other) => return Err(ConfigError::BadCluster(other)),
        };
        let proxy = match self.trusted_proxy.as_deref().map(str::trim).unwrap_or("") {
            "" | "cloudflare" => ProxyTrust::Cloudflare,
            "forwarded" => ProxyTrust::ForwardedHeaders,
            other => return Err(ConfigError::BadTrustedProxy(other.to_string())),
        };
        let login = match self.admin_password_hash.filter(|h| !h.is_empty()) {
            None => None,
            Some(text) => Some(Login {
                user: self
                    .admin_user
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| "admin".into()),
                password: PasswordHash::parse(&text).ok_or(ConfigError::BadPasswordHash)?,
            }),
        };
        let retry_budget = match self.retry_budget_seconds.as_deref().map(str::trim) {
            None | Some("") => RetryBudget::DEFAULT,
            Some(text) => match text.parse::<u64>() {
                Ok(seconds) if (1..=MAX_RETRY_BUDGET_SECONDS).contains(&seconds) => {
                    RetryBudget { seconds }
                }
                _ => return Err(ConfigError::BadRetryBudget(text.to_string())),
            },
        };
        let control_token = match self.control_token.filter(|t| !t.is_empty()) {
            Some(token) if token.len() < MIN_ADMIN_TOKEN_BYTES => {
                return Err(ConfigError::BadControlToken)
            }
            token => token.map(AdminToken),
        };
        let metrics_token = match self.metrics_token.filter(|t| !t.is_empty()) {
            Some(token) if token.len() < MIN_ADMIN_TOKEN_BYTES => {
                return Err(ConfigError::ShortMetricsToken)
            }
            token => token.map(AdminToken),
        };
        let state = match (self.control_bound, &control_token) {
            (false, _) => StateAccess::Local,
            (true, Some(token)) => StateAccess::Control(token.clone()),
            (true, None) => return Err(ConfigError::BadControlToken),
        };
        let clickhouse = Clickhouse {
            url,
            user: self.clickhouse_user.unwrap_or_else(|| "default".into()),
            password: self.clickhouse_password.unwrap_or_default(),
            database,
        };
        let clickhouse_read = match self.clickhouse_read_user.filter(|u| !u.is_empty()) {
            Some(user) => Clickhouse {
                user,
                password: self.clickhouse_read_password.unwrap_or_default(),
                ..clickhouse.clone()
            },
            None => clickhouse.clone(),
        };
        let sso = sso(
            self.oidc_issuer,
            self.oidc_client_id,
            self.oidc_client_secret,
            self.oidc_roles,
            self.oidc_role_claim,
            self.sso_only,
        )?;
        let mut off = Vec::new();
        let smtp = smtp(self.smtp_url, self.mail_from).unwrap_or_else(|e| {
            off.push(e);
            None
        });
        let export = export(self.export_url, self.export_key_id, self.export_secret)
            .unwrap_or_else(|e| {
                off.push(e);
                None
            });
        Ok(Config {
            sso,
            smtp,
            export,
            off,
            clickhouse,
            clickhouse_read,
            proxy,
            retry_budget,
            topology,
            admin_token,
            login,
            state,
            control_token,
            metrics_token,
        })
    }
}

/// Single sign-on from its variables: all of issuer, client and roles, or none.
fn sso(
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    roles: Option<String>,
    role_claim: Option<String>,
    only: Option<String>,
) -> Result<Option<Sso>, ConfigError> {
    let set = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let only = match set(only).as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ConfigError::BadSso(
                "SSO_ONLY",
                format!("SSO_ONLY must be true or false, not {other:?}"),
            ))
        }
    };
    let Some(issuer_text) = set(issuer) else {
        if only {
            return Err(ConfigError::BadSso(
                "SSO_ONLY",
                "SSO_ONLY needs single sign-on: set OIDC_ISSUER and the rest".into(),
            ));
        }
        return Ok(None);
    };
    let issuer = Url::parse(&issuer_text)
        .ok()
        .filter(|u| u.scheme() == "https" || (u.scheme() == "http" && is_private_host(u)))
        .ok_or_else(|| {
            ConfigError::BadSso(
                "OIDC_ISSUER",
                "OIDC_ISSUER must be the provider's https URL (http only to a private host)".into(),
            )
        })?;
    let client_id = set(client_id).ok_or_else(|| {
        ConfigError::BadSso(
            "OIDC_CLIENT_ID",
            "OIDC_CLIENT_ID is required with OIDC_ISSUER".into(),
        )
    })?;
    let client_secret = set(client_secret).ok_or_else(|| {
        ConfigError::BadSso(
            "OIDC_CLIENT_SECRET",
            "OIDC_CLIENT_SECRET is required with OIDC_ISSUER".into(),
        )
    })?;
    let roles = control::sso::RoleMap::parse(&set(roles).unwrap_or_default())
        .map_err(|why| ConfigError::BadSso("OIDC_ROLES", format!("OIDC_ROLES: {why}")))?;
    Ok(Some(Sso {
        issuer,
        client_id,
        client_secret,
        roles,
        role_claim: set(role_claim).unwrap_or_else(|| "groups".into()),
        only,
    }))
}

/// The Parquet export's target from `EXPORT_URL` (and the bucket's key).
fn export(
    url: Option<String>,
    key_id: Option<String>,
    secret: Option<String>,
) -> Result<Option<ingest::store::parquet::Target>, ConfigError> {
    use ingest::store::parquet::Target;
    let set = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let bad = |why: &str| ConfigError::BadVariable("EXPORT_URL", format!("EXPORT_URL {why}"));
    let Some(url) = set(url) else {
        return Ok(None);
    };
    if let Some(dir) = url.strip_prefix("file:") {
        // a relative path under ClickHouse's user_files: nothing that climbs out
        let dir = dir.trim_end_matches('/');
        let fine = !dir.is_empty()
            && !dir.starts_with('/')
            && dir
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..")
            && dir
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
        if !fine {
            return Err(bad(
                "file:<directory> must name a relative directory (letters, digits, _ - . /; no ..)",
            ));
        }
        return Ok(Some(Target::Directory(dir.to_string())));
    }
    let parsed = Url::parse(&url).map_err(|_| bad("is not file:<directory> or an https URL"))?;
    if parsed.scheme() != "https" && !(parsed.scheme() == "http" && is_private_host(&parsed)) {
        return Err(bad(
            "must be https (http only to a private host), or file:<directory>",
        ));
    }
    // the file's path is appended: nothing may follow the path, and s3()
    // reads `* ? { }` as globs
    if parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.path().contains(['*', '?', '{', '}'])
    {
        return Err(bad(
            "must be a bucket URL without a query, fragment, user or glob characters",
        ));
    }
    let (Some(key_id), Some(secret)) = (set(key_id), set(secret)) else {
        return Err(ConfigError::BadVariable(
            "EXPORT_KEY_ID",
            "EXPORT_KEY_ID and EXPORT_SECRET are required with a bucket's EXPORT_URL".into(),
        ));
    };
    if !ingest::store::parquet::is_bucket_credential(&key_id)
        || !ingest::store::parquet::is_bucket_credential(&secret)
    {
        return Err(ConfigError::BadVariable(
            "EXPORT_KEY_ID",
            "EXPORT_KEY_ID and EXPORT_SECRET must be a bucket's access key (letters, digits, + / = _ - .)".into(),
        ));
    }
    let mut url = parsed.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(Some(Target::Bucket {
        url,
        key_id,
        secret,
    }))
}

/// The SMTP server from `SMTP_URL` and `MAIL_FROM`: both or neither.
fn smtp(url: Option<String>, from: Option<String>) -> Result<Option<Smtp>, ConfigError> {
    use notify::smtp::{Security, Server};
    let set = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let bad_url = |why: &str| ConfigError::BadVariable("SMTP_URL", format!("SMTP_URL {why}"));
    let (url, from) = match (set(url), set(from)) {
        (None, None) => return Ok(None),
        (Some(url), Some(from)) => (url, from),
        (None, Some(_)) => return Err(bad_url("is required with MAIL_FROM")),
        (Some(_), None) => {
            return Err(ConfigError::BadVariable(
                "MAIL_FROM",
                "MAIL_FROM (the sender's address) is required with SMTP_URL".into(),
            ))
        }
    };
    let from = control::admin::email(&from).map_err(|_| {
        ConfigError::BadVariable("MAIL_FROM", "MAIL_FROM is not an e-mail address".into())
    })?;
    let url = Url::parse(&url).map_err(|_| bad_url("is not a URL"))?;
    let (security, default_port) = match url.scheme() {
        "smtp" => (Security::Plain, 25),
        "smtp+starttls" => (Security::StartTls, 587),
        "smtps" => (Security::Tls, 465),
        _ => {
            return Err(bad_url(
                "must start with smtp://, smtp+starttls:// or smtps://",
            ))
        }
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad_url("has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    // a plain connection only where nothing crosses the internet in clear text
    // smtp: is not a special scheme to the URL parser: its host is read as text
    let as_http = Url::parse(&format!("http://{}/", url.host_str().unwrap_or_default()));
    if security == Security::Plain && !as_http.is_ok_and(|u| is_private_host(&u)) {
        return Err(bad_url(
            "uses smtp:// to a host outside this machine or private network: use smtp+starttls:// or smtps://",
        ));
    }
    // percent-decoding only (not a form's: a `+` stays a plus)
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    let login = (!url.username().is_empty()).then(|| {
        (
            decode(url.username()),
            decode(url.password().unwrap_or_default()),
        )
    });
    Ok(Some(Smtp(Server {
        host,
        port: url.port().unwrap_or(default_port),
        security,
        login,
        from,
    })))
}

/// A ClickHouse identifier as SQL text may hold it unquoted.
fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(url: &str) -> RawConfig {
        RawConfig {
            clickhouse_url: Some(url.into()),
            ..RawConfig::default()
        }
    }

    #[test]
    fn valid_config() {
        let config = raw("http://127.0.0.1:8123").validate().unwrap();
        assert_eq!(config.clickhouse.database, "analytics");
        assert_eq!(config.admin_token, None);
        let with_secrets = RawConfig {
            clickhouse_password: Some("hunter2".into()),
            admin_token: Some("t".repeat(32)),
            ..raw("http://x")
        }
        .validate()
        .unwrap();
        let shown = format!("{with_secrets:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("tttt"));
        assert_eq!(
            with_secrets.clickhouse_read, with_secrets.clickhouse,
            "reads as the writer when no reader is set"
        );
        let reader = RawConfig {
            clickhouse_read_user: Some("stats_reader".into()),
            clickhouse_read_password: Some("r3ad".into()),
            ..raw("http://x")
        }
        .validate()
        .unwrap();
        assert_eq!(
            (
                reader.clickhouse_read.user.as_str(),
                reader.clickhouse.user.as_str()
            ),
            ("stats_reader", "default")
        );
        assert!(!format!("{reader:?}").contains("r3ad"));
    }

    #[test]
    fn invalid_config_says_which() {
        assert_eq!(raw("").validate(), Err(ConfigError::NoClickhouse));
        assert_eq!(
            raw("ftp://user:hunter2@x").validate(),
            Err(ConfigError::BadClickhouseUrl)
        );
        assert!(!ConfigError::BadClickhouseUrl
            .to_string()
            .contains("hunter2"));
        assert_eq!(ConfigError::BadClickhouseUrl.variable(), "CLICKHOUSE_URL");
        let bad_db = RawConfig {
            clickhouse_database: Some("x; DROP".into()),
            ..raw("http://x")
        };
        assert_eq!(
            bad_db.validate(),
            Err(ConfigError::BadDatabase("x; DROP".into()))
        );
        let short = RawConfig {
            admin_token: Some("short".into()),
            ..raw("http://x")
        };
        assert_eq!(short.validate(), Err(ConfigError::ShortAdminToken));
        let weak = RawConfig {
            admin_password_hash: Some("pbkdf2-sha256$10$00$00".into()),
            ..raw("http://x")
        };
        assert_eq!(weak.validate(), Err(ConfigError::BadPasswordHash));
        for bad in ["0", "-5", "1.5", "2000000"] {
            let budget = RawConfig {
                retry_budget_seconds: Some(bad.into()),
                ..raw("http://x")
            };
            assert_eq!(
                budget.validate(),
                Err(ConfigError::BadRetryBudget(bad.into()))
            );
        }
        let budget = RawConfig {
            retry_budget_seconds: Some("60".into()),
            ..raw("http://x")
        };
        assert_eq!(
            budget.validate().unwrap().retry_budget,
            RetryBudget { seconds: 60 }
        );
        assert_eq!(
            raw("http://x").validate().unwrap().retry_budget,
            RetryBudget::DEFAULT
        );
    }

    #[test]
    fn http_only_to_a_private_network() {
        for private in [
            "http://127.0.0.1:8123",
            "http://localhost:8123",
            "http://clickhouse:8123",
            "http://clickhouse.analytics.svc.cluster.local:8123",
            "http://clickhouse.analytics.svc:8123",
            "http://10.1.2.3:8123",
            "http://192.168.0.9:8123",
            "http://[::1]:8123",
            "http://[fd00::5]:8123",
            "https://clickhouse.example.com:8443",
        ] {
            assert!(raw(private).validate().is_ok(), "{private}");
        }
        for remote in [
            "http://clickhouse.example.com:8123",
            "http://8.8.8.8:8123",
            "http://user:hunter2@ch.example.com",
            "http://[2001:db8::1]:8123",
        ] {
            let refused = raw(remote).validate();
            assert_eq!(refused, Err(ConfigError::InsecureClickhouse), "{remote}");
            assert!(!ConfigError::InsecureClickhouse
                .to_string()
                .contains("hunter2"));
        }
    }

    #[test]
    fn a_replica_needs_the_control_token() {
        let replica = |token: Option<&str>| RawConfig {
            control_bound: true,
            control_token: token.map(str::to_string),
            ..raw("http://x")
        };
        assert_eq!(replica(None).validate(), Err(ConfigError::BadControlToken));
        assert_eq!(
            replica(Some("short")).validate(),
            Err(ConfigError::BadControlToken)
        );
        let token = "c".repeat(32);
        let config = replica(Some(&token)).validate().unwrap();
        assert_eq!(config.state, StateAccess::Control(AdminToken(token)));
        assert!(!format!("{config:?}").contains("cccc"));
        assert_eq!(
            raw("http://x").validate().unwrap().state,
            StateAccess::Local
        );
        assert_eq!(ConfigError::BadControlToken.variable(), "CONTROL_TOKEN");
        let cluster = |name: &str| RawConfig {
            clickhouse_cluster: Some(name.into()),
            ..raw("http://x")
        };
        assert_eq!(
            cluster("analytics").validate().unwrap().topology,
            Topology::Cluster("analytics".into())
        );
        assert_eq!(
            cluster("a b; DROP").validate(),
            Err(ConfigError::BadCluster("a b; DROP".into()))
        );
        let metrics = |token: &str| RawConfig {
            metrics_token: Some(token.into()),
            ..raw("http://x")
        };
        assert_eq!(
            metrics("short").validate(),
            Err(ConfigError::ShortMetricsToken)
        );
        assert!(metrics(&"m".repeat(24))
            .validate()
            .unwrap()
            .metrics_token
            .is_some());
    }

    #[test]
    fn single_sign_on_needs_issuer_client_and_roles_together() {
        let sso = |issuer: &str, roles: &str, only: &str| {
            RawConfig {
                oidc_issuer: Some(issuer.into()),
                oidc_client_id: Some("dash".into()),
                oidc_client_secret: Some("s3cret".into()),
                oidc_roles: Some(roles.into()),
                sso_only: Some(only.into()),
                ..raw("http://127.0.0.1:8123")
            }
            .validate()
        };
        let config = sso("https://idp.example/realms/x", "devs=viewer@*", "true").unwrap();
        assert!(config.single_sign_on_only());
        let shown = format!("{:?}", config.sso);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(config.sso.unwrap().role_claim, "groups");
        assert!(
            sso("http://10.0.0.5:8080", "devs=viewer@*", "").is_ok(),
            "private http"
        );
        for (issuer, roles, only, variable) in [
            ("http://idp.example", "devs=viewer@*", "", "OIDC_ISSUER"),
            ("not a url", "devs=viewer@*", "", "OIDC_ISSUER"),
            ("https://idp.example", "", "", "OIDC_ROLES"),
            ("https://idp.example", "devs=root@*", "", "OIDC_ROLES"),
            ("https://idp.example", "devs=viewer@*", "yes", "SSO_ONLY"),
            ("", "", "true", "SSO_ONLY"),
        ] {
            assert_eq!(
                sso(issuer, roles, only).unwrap_err().variable(),
                variable,
                "{issuer} {roles} {only}"
            );
        }
        let no_client = RawConfig {
            oidc_issuer: Some("https://idp.example".into()),
            ..raw("http://127.0.0.1:8123")
        };
        assert_eq!(
            no_client.validate().unwrap_err().variable(),
            "OIDC_CLIENT_ID"
        );
    }

    /// `raw` with a ClickHouse: the Worker always runs, and a refused
    /// optional setting (e-mail, the export) is its first `off` entry.
    fn optional(raw: RawConfig) -> Result<Config, ConfigError> {
        let config = RawConfig {
            clickhouse_url: Some("http://127.0.0.1:8123".into()),
            ..raw
        }
        .validate()
        .expect("the Worker runs");
        match config.off.first() {
            Some(refused) => Err(refused.clone()),
            None => Ok(config),
        }
    }

    #[test]
    fn an_export_goes_to_a_relative_directory_or_a_bucket_with_its_key() {
        use ingest::store::parquet::Target;
        let with = |url: &str, key: &str, secret: &str| {
            optional(RawConfig {
                export_url: Some(url.into()),
                export_key_id: Some(key.into()),
                export_secret: Some(secret.into()),
                ..RawConfig::default()
            })
        };
        assert_eq!(
            with("file:exports/", "", "").unwrap().export,
            Some(Target::Directory("exports".into()))
        );
        for bad in [
            "file:../etc",
            "file:/etc",
            "file:",
            "file:a//b",
            "ftp://x",
            "http://r2.example.com/b",
            "https://r2.example.com/b?x=1",
            "https://r2.example.com/b/*",
        ] {
            assert_eq!(
                with(bad, "k", "s").unwrap_err().variable(),
                "EXPORT_URL",
                "{bad}"
            );
        }
        assert_eq!(
            with("https://acc.r2.cloudflarestorage.com/analytics", "", "")
                .unwrap_err()
                .variable(),
            "EXPORT_KEY_ID"
        );
        let Some(Target::Bucket { url, .. }) =
            with("https://acc.r2.cloudflarestorage.com/analytics", "k", "s")
                .unwrap()
                .export
        else {
            panic!("a bucket")
        };
        assert_eq!(url, "https://acc.r2.cloudflarestorage.com/analytics/");
    }

    #[test]
    fn smtp_is_both_variables_and_secure_off_this_network() {
        let with = |url: &str, from: &str| {
            optional(RawConfig {
                smtp_url: Some(url.into()),
                mail_from: Some(from.into()),
                ..RawConfig::default()
            })
        };
        let config = with(
            "smtp+starttls://me%40corp:p%3As+s%26@mail.corp.example",
            "analytics@corp.example",
        )
        .unwrap();
        let server = config.smtp.unwrap().0;
        assert_eq!(
            (server.host.as_str(), server.port),
            ("mail.corp.example", 587)
        );
        assert_eq!(server.login, Some(("me@corp".into(), "p:s+s&".into())));
        assert_eq!(
            with("smtp://127.0.0.1:2525", "a@b.io")
                .unwrap()
                .smtp
                .unwrap()
                .0
                .port,
            2525
        );
        let error = with("smtp://mail.example.com", "a@b.io").unwrap_err();
        assert_eq!(error.variable(), "SMTP_URL");
        assert!(!format!(
            "{error} {:?}",
            with("smtps://u:secret@x.example", "nope").unwrap_err()
        )
        .contains("secret"));
        assert_eq!(with("", "a@b.io").unwrap_err().variable(), "SMTP_URL");
        assert_eq!(
            with("smtps://x.example", "").unwrap_err().variable(),
            "MAIL_FROM"
        );
        assert!(format!(
            "{:?}",
            with("smtps://u:secret@x.example", "a@b.io").unwrap()
        )
        .find("secret")
        .is_none());
    }
}

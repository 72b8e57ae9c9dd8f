//! The Worker's configuration (wrangler.toml `[vars]` and secrets), validated
//! once into a type where only valid states exist.

use crate::privacy::client::ProxyTrust;
use url::Url;

/// The settings as the environment gives them.
#[derive(Debug, Default, Clone)]
pub struct RawSettings {
    /// `SITES`: comma-separated domains whose events are accepted.
    pub sites: Option<String>,
    /// `CLICKHOUSE_URL`: ClickHouse's HTTP interface.
    pub clickhouse_url: Option<String>,
    pub clickhouse_user: Option<String>,
    pub clickhouse_password: Option<String>,
    pub clickhouse_database: Option<String>,
    /// `TRUSTED_PROXY`: empty (Cloudflare) or `forwarded` (a reverse proxy
    /// whose `X-Forwarded-For`/`Forwarded`/`CF-IPCountry` are believed).
    pub trusted_proxy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    sites: Vec<String>,
    pub clickhouse: Clickhouse,
    pub proxy: ProxyTrust,
}

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
        f.debug_struct("Clickhouse")
            .field("url", &self.url.as_str())
            .field("user", &self.user)
            .field("database", &self.database)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("SITES must list at least one domain")]
    NoSites,
    #[error("CLICKHOUSE_URL is required")]
    NoClickhouse,
    #[error("CLICKHOUSE_URL is not an http(s) URL: {0}")]
    BadClickhouseUrl(String),
    #[error("CLICKHOUSE_DATABASE must be an identifier: {0:?}")]
    BadDatabase(String),
    #[error("TRUSTED_PROXY must be empty or \"forwarded\", not {0:?}")]
    BadTrustedProxy(String),
}

impl RawSettings {
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let sites: Vec<String> = self
            .sites
            .unwrap_or_default()
            .split(',')
            .map(crate::ingest::validate::normalize_domain)
            .filter(|site| !site.is_empty())
            .collect();
        if sites.is_empty() {
            return Err(ConfigError::NoSites);
        }
        let url_text = self
            .clickhouse_url
            .filter(|u| !u.is_empty())
            .ok_or(ConfigError::NoClickhouse)?;
        let url =
            Url::parse(&url_text).map_err(|_| ConfigError::BadClickhouseUrl(url_text.clone()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::BadClickhouseUrl(url_text));
        }
        let database = self
            .clickhouse_database
            .unwrap_or_else(|| "analytics".into());
        let identifier = database
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && database
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            return Err(ConfigError::BadDatabase(database));
        }
        let proxy = match self.trusted_proxy.as_deref().map(str::trim).unwrap_or("") {
            "" | "cloudflare" => ProxyTrust::Cloudflare,
            "forwarded" => ProxyTrust::ForwardedHeaders,
            other => return Err(ConfigError::BadTrustedProxy(other.to_string())),
        };
        Ok(Settings {
            proxy,
            sites,
            clickhouse: Clickhouse {
                url,
                user: self.clickhouse_user.unwrap_or_else(|| "default".into()),
                password: self.clickhouse_password.unwrap_or_default(),
                database,
            },
        })
    }
}

impl Settings {
    pub fn is_site(&self, domain: &str) -> bool {
        self.sites.iter().any(|site| site == domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(sites: &str, url: &str) -> RawSettings {
        RawSettings {
            sites: Some(sites.into()),
            clickhouse_url: Some(url.into()),
            ..RawSettings::default()
        }
    }

    #[test]
    fn valid_settings() {
        let settings = raw("Portal.Example, www.docs.example", "http://127.0.0.1:8123")
            .validate()
            .unwrap();
        assert!(settings.is_site("portal.example") && settings.is_site("docs.example"));
        assert!(!settings.is_site("other.example"));
        assert_eq!(settings.clickhouse.database, "analytics");
        assert!(!format!(
            "{:?}",
            RawSettings {
                clickhouse_password: None,
                ..raw("a", "http://x")
            }
            .validate()
            .unwrap()
        )
        .contains("password"));
    }

    #[test]
    fn invalid_settings_say_which() {
        assert_eq!(raw(" , ", "http://x").validate(), Err(ConfigError::NoSites));
        assert_eq!(raw("a", "").validate(), Err(ConfigError::NoClickhouse));
        assert_eq!(
            raw("a", "ftp://x").validate(),
            Err(ConfigError::BadClickhouseUrl("ftp://x".into()))
        );
        let bad_db = RawSettings {
            clickhouse_database: Some("x; DROP".into()),
            ..raw("a", "http://x")
        };
        assert_eq!(
            bad_db.validate(),
            Err(ConfigError::BadDatabase("x; DROP".into()))
        );
    }
}

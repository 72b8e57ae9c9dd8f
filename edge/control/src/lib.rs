//! Who may do what, and the one place settings change (docs/architecture.md):
//!
//! - [`settings`]: a validated `Change` applied to the settings document
//! - [`admin`]: the admin API's requests into changes, or a 400 naming the field
//! - [`access`]: who a request is (API key, admin token, session) and what it may do
//! - [`keys`]: Stats API keys (random, stored as SHA-256) and bearer tokens
//! - [`login`]: the dashboard's password hash, session cookies, failed-login throttle
//! - [`people`]: users, roles per site, invitations; shared links
//! - [`totp`]: the optional second factor (RFC 6238) and its recovery codes
//! - [`sso`]: single sign-on (OpenID Connect): the login's start, the ID token's checks, roles from groups
//! - [`audit`]: the audit log's entries, from each change
//! - [`annotations`]: dated notes on a site's chart, by its admins
//! - [`notifications`]: a site's reports, alerts and webhooks, as the admin API sends them

pub mod access;
pub mod admin;
pub mod annotations;
pub mod audit;
pub mod keys;
pub mod login;
pub mod notifications;
pub mod people;
pub mod settings;
pub mod sso;
pub mod totp;

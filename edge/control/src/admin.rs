//! The admin API's requests into [`Change`]s, or a 400 message naming the
//! field and the value.
//!
//! | request | change |
//! |---|---|
//! | `PUT /api/admin/sites/<domain>` `{timezone, retention, goals, props, funnels, segments, reports, alerts, webhooks}` | [`Change::PutSite`] |
//! | `DELETE /api/admin/sites/<domain>` | [`Change::DeleteSite`] |
//! | `POST /api/admin/keys` `{name, sites}` | [`Change::AddKey`] (the secret is answered once) |
//! | `POST /api/admin/visits/rebuild` `{from, to}` | none: the stored visits of those days are recomputed |
//! | `DELETE /api/admin/keys/<id>` | [`Change::RevokeKey`] |
//! | `GET /api/admin/export` | none: [`export`], the sites and the keys (hashes only) |
//! | `PUT /api/admin/import` (an export) | [`Change::Import`]: the sites and keys replaced |

use crate::keys;
use crate::login::PasswordHash;
use crate::notifications;
use crate::settings::Change;
use model::funnel::Funnel;
use model::row::MAX_PROP_KEY_BYTES;
use model::settings::{
    normalize_domain, Annotation, ApiKey, Goal, Retention, Segment, SharedLink, Site, Store, User,
    MAX_MIN_GROUP_SIZE,
};
use model::sql::Sql;
use model::time::is_date;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AdminError(pub String);

pub(crate) fn fail<T>(message: impl Into<String>) -> Result<T, AdminError> {
    Err(AdminError(message.into()))
}

const MAX_GOALS: usize = 100;
/// Custom properties the dashboard offers to break goals down by.
const MAX_PROPS: usize = 100;
const MAX_NAME_BYTES: usize = 120;
const MAX_PATH_BYTES: usize = 2000;

/// A domain as the edge stores it, or why it is not one.
pub fn domain(text: &str) -> Result<String, AdminError> {
    let domain = normalize_domain(text);
    // every label non-empty: no `..` (a domain names export files' folders, docs/exports.md)
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        && domain.split('.').all(|label| !label.is_empty());
    if valid {
        Ok(domain)
    } else {
        fail(format!("domain: {text:?} is not a domain"))
    }
}

/// An IANA name's shape (`UTC`, `Europe/Berlin`, `America/Argentina/Salta`);
/// whether it exists is asked of ClickHouse, which knows the zones.
pub fn timezone_shape(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

/// The statement that asks ClickHouse whether it knows a time zone (it
/// resolves every report's dates): it fails for an unknown one.
pub fn timezone_sql(timezone: &str) -> Sql {
    let mut sql = Sql::default();
    let tz = sql.bind("String", timezone);
    sql.text = format!("SELECT toTimeZone(now(), {tz})");
    sql
}

/// The body as a JSON object, or why not (also `people`'s requests).
pub(crate) fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, AdminError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => fail("the body must be a JSON object"),
        Err(e) => fail(format!("the body is not valid JSON: {e}")),
    }
}

/// Refuses a field that is not one of `fields`, naming it.
pub(crate) fn known_fields(
    object: &serde_json::Map<String, Value>,
    fields: &[&str],
) -> Result<(), AdminError> {
    match object.keys().find(|k| !fields.contains(&k.as_str())) {
        Some(unknown) => fail(format!(
            "unknown field {unknown:?}: the fields are {}",
            fields.join(", ")
        )),
        None => Ok(()),
    }
}

/// A site's fields, as the admin API and an export carry them.
const SITE_FIELDS: [&str; 15] = [
    "domain",
    "timezone",
    "retention",
    "goals",
    "props",
    "require_second_factor",
    "embed_origins",
    "funnels",
    "segments",
    "reports",
    "alerts",
    "webhooks",
    "min_group_size",
    "breakdown_props",
    "drop_opted_out",
];

/// How many segments a site may keep, and filters one may hold.
pub const MAX_SEGMENTS: usize = 20;
pub const MAX_SEGMENT_FILTERS: usize = 20;

/// How many funnels a site may keep.
pub const MAX_FUNNELS: usize = 20;

/// `PUT /api/admin/sites/<domain>`: the whole site; omitted fields take
/// their defaults (UTC, indefinite retention, no goals).
pub fn put_site(path_domain: &str, body: &[u8]) -> Result<Change, AdminError> {
    let object = object(body)?;
    known_fields(&object, &SITE_FIELDS[1..])?;
    site_from(&domain(path_domain)?, &object).map(Change::PutSite)
}

/// A site of `domain` from the fields of `object` (checked by the caller);
/// what is not given takes the defaults of a new site.
fn site_from(domain: &str, object: &serde_json::Map<String, Value>) -> Result<Site, AdminError> {
    let defaults = Site::new(domain);
    let timezone = match object.get("timezone") {
        None => defaults.timezone,
        Some(Value::String(tz)) if timezone_shape(tz) => tz.clone(),
        Some(other) => return fail(format!("timezone: {other} is not an IANA time zone")),
    };
    let retention = match object.get("retention") {
        None => defaults.retention,
        Some(Value::String(name)) => Retention::parse(name).ok_or_else(|| {
            AdminError(format!(
                "retention: {name:?} is not one of {}",
                Retention::NAMES.join(", ")
            ))
        })?,
        Some(other) => return fail(format!("retention: {other} is not a string")),
    };
    let goals = match object.get("goals") {
        None => defaults.goals,
        Some(Value::Array(list)) if list.len() <= MAX_GOALS => list
            .iter()
            .enumerate()
            .map(|(i, g)| goal(g, i))
            .collect::<Result<Vec<_>, _>>()?,
        Some(Value::Array(_)) => return fail(format!("goals: at most {MAX_GOALS}")),
        Some(other) => return fail(format!("goals: {other} is not a list")),
    };
    let mut names: Vec<String> = goals.iter().map(Goal::display_name).collect();
    names.sort();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return fail(format!("goals: {:?} is listed twice", pair[0]));
    }
    let props = match object.get("props") {
        None => defaults.props,
        Some(Value::Array(list)) if list.len() <= MAX_PROPS => {
            let mut keys: Vec<String> = Vec::new();
            for (i, key) in list.iter().enumerate() {
                match key.as_str().map(str::trim) {
                    Some(k) if !k.is_empty() && k.len() <= MAX_PROP_KEY_BYTES => {
                        if !keys.iter().any(|x| x == k) {
                            keys.push(k.to_string());
                        }
                    }
                    _ => return fail(format!("props[{i}]: {key} is not a property name (1 to {MAX_PROP_KEY_BYTES} bytes)")),
                }
            }
            keys
        }
        Some(_) => {
            return fail(format!(
                "props: a list of at most {MAX_PROPS} property names"
            ))
        }
    };
    let require_second_factor = match object.get("require_second_factor") {
        None => defaults.require_second_factor,
        Some(Value::Bool(required)) => *required,
        Some(other) => {
            return fail(format!(
                "require_second_factor: {other} is not true or false"
            ))
        }
    };
    let embed_origins = match object.get("embed_origins") {
        None => defaults.embed_origins,
        Some(Value::Array(list)) if list.len() <= MAX_EMBED_ORIGINS => list
            .iter()
            .enumerate()
            .map(|(i, origin)| embed_origin(origin, i))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return fail(format!(
                "embed_origins: a list of at most {MAX_EMBED_ORIGINS} origins"
            ))
        }
    };
    let funnels = match object.get("funnels") {
        None => defaults.funnels,
        some => named_list(some, "funnels", MAX_FUNNELS, funnel, |f| &f.name)?,
    };
    let segments = match object.get("segments") {
        None => defaults.segments,
        some => named_list(some, "segments", MAX_SEGMENTS, segment, |s| &s.name)?,
    };
    let reports = match object.get("reports") {
        None => defaults.reports,
        Some(value) => notifications::reports(value)?,
    };
    let alerts = match object.get("alerts") {
        None => defaults.alerts,
        Some(value) => notifications::alerts(value, &goals)?,
    };
    let webhooks = match object.get("webhooks") {
        None => defaults.webhooks,
        Some(value) => notifications::webhooks(value)?,
    };
    let min_group_size = match object.get("min_group_size") {
        None => defaults.min_group_size,
        Some(value) => match value.as_u64() {
            Some(k) if (1..=u64::from(MAX_MIN_GROUP_SIZE)).contains(&k) => k as u32,
            _ => {
                return fail(format!(
                    "min_group_size: {value} is not a whole number from 1 (off) to {MAX_MIN_GROUP_SIZE}"
                ))
            }
        },
    };
    let breakdown_props = match object.get("breakdown_props") {
        None | Some(Value::Null) => defaults.breakdown_props,
        Some(Value::Array(list)) if list.len() <= MAX_PROPS => {
            let mut allowed: Vec<String> = Vec::new();
            for (i, key) in list.iter().enumerate() {
                match key.as_str() {
                    Some(k) if props.iter().any(|p| p == k) => {
                        if !allowed.iter().any(|x| x == k) {
                            allowed.push(k.to_string());
                        }
                    }
                    _ => {
                        return fail(format!(
                            "breakdown_props[{i}]: {key} is not one of the site's props ({})",
                            props.join(", ")
                        ))
                    }
                }
            }
            Some(allowed)
        }
        Some(_) => {
            return fail(format!(
                "breakdown_props: null (every prop) or a list of at most {MAX_PROPS} of the site's props"
            ))
        }
    };
    let drop_opted_out = match object.get("drop_opted_out") {
        None => defaults.drop_opted_out,
        Some(Value::Bool(drop)) => *drop,
        Some(other) => return fail(format!("drop_opted_out: {other} is not true or false")),
    };
    Ok(Site {
        domain: defaults.domain,
        timezone,
        retention,
        goals,
        props,
        require_second_factor,
        embed_origins,
        funnels,
        segments,
        reports,
        alerts,
        webhooks,
        min_group_size,
        breakdown_props,
        drop_opted_out,
    })
}

/// A list of at most `max` named things (funnels, segments), each read by
/// `read`, no name twice.
fn named_list<T>(
    value: Option<&Value>,
    field: &str,
    max: usize,
    read: fn(&Value, usize) -> Result<T, AdminError>,
    name: fn(&T) -> &String,
) -> Result<Vec<T>, AdminError> {
    let Some(Value::Array(list)) = value.filter(|v| v.as_array().is_some_and(|l| l.len() <= max))
    else {
        return fail(format!("{field}: a list of at most {max}"));
    };
    let items = list
        .iter()
        .enumerate()
        .map(|(i, v)| read(v, i))
        .collect::<Result<Vec<_>, _>>()?;
    let mut names: Vec<&String> = items.iter().map(name).collect();
    names.sort();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return fail(format!("{field}: {:?} is listed twice", pair[0]));
    }
    Ok(items)
}

/// `{name, filters}`: a saved segment. Its filters' own shape is the Stats
/// API's to check (the Worker runs its parser on them).
fn segment(value: &Value, i: usize) -> Result<Segment, AdminError> {
    let field = format!("segments[{i}]");
    let object = match value {
        Value::Object(object) if object.keys().all(|k| k == "name" || k == "filters") => object,
        _ => return fail(format!("{field}: {value} is not {{name, filters}}")),
    };
    let name = match object.get("name").and_then(Value::as_str).map(str::trim) {
        Some(name) if !name.is_empty() && name.len() <= MAX_NAME_BYTES => name.to_string(),
        _ => {
            return fail(format!(
                "{field}.name: a name of 1 to {MAX_NAME_BYTES} bytes is required"
            ))
        }
    };
    let filters = match object.get("filters") {
        Some(Value::Array(list)) if !list.is_empty() && list.len() <= MAX_SEGMENT_FILTERS => {
            list.clone()
        }
        _ => {
            return fail(format!(
                "{field}.filters: a list of 1 to {MAX_SEGMENT_FILTERS} Stats API filters"
            ))
        }
    };
    Ok(Segment { name, filters })
}

/// `{name, steps}`: a saved funnel; its steps are checked as a request's are
/// (`model::funnel`).
fn funnel(value: &Value, i: usize) -> Result<Funnel, AdminError> {
    let field = format!("funnels[{i}]");
    let object = match value {
        Value::Object(object) if object.keys().all(|k| k == "name" || k == "steps") => object,
        _ => return fail(format!("{field}: {value} is not {{name, steps}}")),
    };
    let name = match object.get("name").and_then(Value::as_str).map(str::trim) {
        Some(name) if !name.is_empty() && name.len() <= MAX_NAME_BYTES => name.to_string(),
        _ => {
            return fail(format!(
                "{field}.name: a name of 1 to {MAX_NAME_BYTES} bytes is required"
            ))
        }
    };
    let steps =
        model::funnel::steps(object.get("steps"), &format!("{field}.steps")).map_err(AdminError)?;
    Ok(Funnel { name, steps })
}

/// Origins that may embed a site's shared dashboards.
pub const MAX_EMBED_ORIGINS: usize = 10;

/// `scheme://host[:port]`, nothing more: it goes into a
/// `Content-Security-Policy` header, where a space or a `;` would add a
/// directive of the caller's choosing.
fn embed_origin(value: &Value, i: usize) -> Result<String, AdminError> {
    let refused = || {
        fail(format!(
            "embed_origins[{i}]: {value} is not an origin such as https://backstage.example.com"
        ))
    };
    let Some(text) = value.as_str() else {
        return refused();
    };
    let origin = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let Some((scheme, rest)) = origin.split_once("://") else {
        return refused();
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, ""));
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok = port.is_empty() || port.parse::<u16>().is_ok_and(|p| p > 0);
    if matches!(scheme, "https" | "http") && host_ok && port_ok {
        Ok(origin)
    } else {
        refused()
    }
}

fn goal(value: &Value, i: usize) -> Result<Goal, AdminError> {
    let field = format!("goals[{i}]");
    let (Some(Value::Object(object)), _) = (Some(value), ()) else {
        return fail(format!(
            "{field}: {value} is not {{event_name}} or {{page_path}}"
        ));
    };
    match (
        object.get("event_name"),
        object.get("page_path"),
        object.len(),
    ) {
        (Some(Value::String(name)), None, 1) => {
            let name = name.trim();
            if name.is_empty() || name.len() > MAX_NAME_BYTES {
                return fail(format!(
                    "{field}.event_name: {name:?} must be 1 to {MAX_NAME_BYTES} bytes"
                ));
            }
            Ok(Goal::Event {
                event_name: name.to_string(),
            })
        }
        (None, Some(Value::String(path)), 1) => {
            if !path.starts_with('/') || path.len() > MAX_PATH_BYTES {
                return fail(format!("{field}.page_path: {path:?} must start with / and be at most {MAX_PATH_BYTES} bytes"));
            }
            Ok(Goal::Page {
                page_path: path.clone(),
            })
        }
        _ => fail(format!(
            "{field}: {value} is not {{event_name}} or {{page_path}}"
        )),
    }
}

/// `POST /api/admin/keys`: a new key for `sites` (to store with
/// [`Change::AddKey`]), and its secret to show once.
pub fn add_key(
    body: &[u8],
    random: &[u8; keys::RANDOM_BYTES],
) -> Result<(ApiKey, String), AdminError> {
    let object = object(body)?;
    known_fields(&object, &["name", "sites"])?;
    let name = match object.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() && n.len() <= MAX_NAME_BYTES => {
            n.trim().to_string()
        }
        None => "API key".to_string(),
        Some(other) => return fail(format!("name: {other} must be 1 to {MAX_NAME_BYTES} bytes")),
    };
    let sites = match object.get("sites") {
        Some(Value::Array(list)) if !list.is_empty() => {
            list.iter()
                .enumerate()
                .map(|(i, s)| match s {
                    Value::String(text) => domain(text)
                        .map_err(|_| AdminError(format!("sites[{i}]: {s} is not a domain"))),
                    other => fail(format!("sites[{i}]: {other} is not a domain")),
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        Some(other) => return fail(format!("sites: {other} must list at least one site")),
        None => return fail("sites is required"),
    };
    let (id, secret) = keys::new_key(random);
    let key = ApiKey {
        id,
        name,
        hash: keys::sha256_hex(secret.as_bytes()),
        sites,
    };
    Ok((key, secret))
}

/// `POST /api/admin/visits/rebuild`: the UTC days to recompute, inclusive.
pub fn rebuild_range(body: &[u8]) -> Result<(String, String), AdminError> {
    let object = object(body)?;
    known_fields(&object, &["from", "to"])?;
    let date = |name: &str| match object.get(name) {
        Some(Value::String(d)) if is_date(d) => Ok(d.clone()),
        Some(other) => fail(format!("{name}: {other} is not a date (YYYY-MM-DD)")),
        None => fail(format!("{name} is required")),
    };
    let (from, to) = (date("from")?, date("to")?);
    if from > to {
        return fail(format!("from: {from} is after {to}"));
    }
    Ok((from, to))
}

/// What an export says it is: an import refuses anything else.
pub const EXPORT_FORMAT: &str = "edge-analytics-settings/2";
/// The format before people and shared links: still imported (sites and
/// keys replaced, people and links kept).
pub const EXPORT_FORMAT_1: &str = "edge-analytics-settings/1";

/// `GET /api/admin/export`: what a backup keeps — every site, every API
/// key, a key by its SHA-256 only (as stored: the secret was shown once and
/// is nowhere), every person (their password as its slow hash, their second
/// factor's secret: the file is as sensitive as the settings) and every
/// shared link (its token's SHA-256). Sessions, login attempts and open
/// invitations are not kept: a restore logs everyone out.
pub fn export(store: &Store) -> Value {
    serde_json::json!({
        "format": EXPORT_FORMAT, "sites": store.sites, "keys": store.keys,
        "people": store.users, "shared_links": store.shared_links,
        "annotations": store.annotations,
    })
}

/// `PUT /api/admin/import`: an [`export`], each site and key checked as the
/// admin API checks them, into the change that replaces them all.
pub fn import(body: &[u8]) -> Result<Change, AdminError> {
    let object = object(body)?;
    let version_2 = match object.get("format").and_then(Value::as_str) {
        Some(EXPORT_FORMAT) => true,
        Some(EXPORT_FORMAT_1) => false,
        _ => {
            return fail(format!(
                "format: must be {EXPORT_FORMAT:?} (node scripts/admin.mjs export)"
            ))
        }
    };
    if version_2 {
        known_fields(
            &object,
            &[
                "format",
                "sites",
                "keys",
                "people",
                "shared_links",
                "annotations",
            ],
        )?;
    } else {
        known_fields(&object, &["format", "sites", "keys"])?;
    }
    let mut sites: Vec<Site> = Vec::new();
    for (i, value) in list(&object, "sites")?.iter().enumerate() {
        let Value::Object(fields) = value else {
            return fail(format!("sites[{i}]: {value} is not a site"));
        };
        known_fields(fields, &SITE_FIELDS).map_err(|e| AdminError(format!("sites[{i}]: {e}")))?;
        let name = fields.get("domain").and_then(Value::as_str).unwrap_or("");
        let site = domain(name)
            .and_then(|d| site_from(&d, fields))
            .map_err(|e| AdminError(format!("sites[{i}]: {e}")))?;
        if sites.iter().any(|s| s.domain == site.domain) {
            return fail(format!("sites[{i}]: {:?} is listed twice", site.domain));
        }
        sites.push(site);
    }
    let mut keys: Vec<ApiKey> = Vec::new();
    for (i, value) in list(&object, "keys")?.iter().enumerate() {
        let key: ApiKey = serde_json::from_value(value.clone())
            .map_err(|e| AdminError(format!("keys[{i}]: {e}")))?;
        let id_ok = !key.id.is_empty()
            && key.id.len() <= 64
            && key
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
        let hash_ok =
            key.hash.len() == 64 && key.hash.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'));
        if !id_ok {
            return fail(format!("keys[{i}].id: {:?} is not a key id", key.id));
        }
        if !hash_ok {
            return fail(format!("keys[{i}].hash: not a lower-case hex SHA-256"));
        }
        if key.name.trim().is_empty() || key.name.len() > MAX_NAME_BYTES {
            return fail(format!(
                "keys[{i}].name: must be 1 to {MAX_NAME_BYTES} bytes"
            ));
        }
        if key.sites.is_empty() {
            return fail(format!("keys[{i}].sites: must list at least one site"));
        }
        if let Some(unknown) = key
            .sites
            .iter()
            .find(|d| !sites.iter().any(|s| &s.domain == *d))
        {
            return fail(format!(
                "keys[{i}].sites: {unknown:?} is not one of the sites"
            ));
        }
        if keys.iter().any(|k| k.id == key.id) {
            return fail(format!("keys[{i}].id: {:?} is listed twice", key.id));
        }
        keys.push(key);
    }
    // people and links not in the file (format 1, or left out) are kept
    if !version_2 || !(object.contains_key("people") || object.contains_key("shared_links")) {
        return Ok(Change::Import {
            sites,
            keys,
            people: None,
            shared_links: None,
            annotations: None,
        });
    }
    let is_site = |d: &str| sites.iter().any(|s| s.domain == d);
    let mut people: Vec<User> = Vec::new();
    for (i, value) in list(&object, "people")?.iter().enumerate() {
        let user: User = serde_json::from_value(value.clone())
            .map_err(|e| AdminError(format!("people[{i}]: {e}")))?;
        if !handle(&user.id) {
            return fail(format!(
                "people[{i}].id: {:?} is not a person's id",
                user.id
            ));
        }
        if email(&user.email).ok().as_deref() != Some(user.email.as_str()) {
            return fail(format!(
                "people[{i}].email: {:?} is not an e-mail address",
                user.email
            ));
        }
        if !user.password.is_empty() && PasswordHash::parse(&user.password).is_none() {
            return fail(format!("people[{i}].password: not a pbkdf2-sha256 hash"));
        }
        if let Some(unknown) = user.roles.keys().find(|d| !is_site(d)) {
            return fail(format!(
                "people[{i}].roles: {unknown:?} is not one of the sites"
            ));
        }
        if people
            .iter()
            .any(|p| p.id == user.id || p.email == user.email)
        {
            return fail(format!("people[{i}]: {} is listed twice", user.email));
        }
        people.push(user);
    }
    let mut links: Vec<SharedLink> = Vec::new();
    for (i, value) in list(&object, "shared_links")?.iter().enumerate() {
        let link: SharedLink = serde_json::from_value(value.clone())
            .map_err(|e| AdminError(format!("shared_links[{i}]: {e}")))?;
        if !handle(&link.id) || links.iter().any(|l| l.id == link.id) {
            return fail(format!(
                "shared_links[{i}].id: {:?} is not a new link id",
                link.id
            ));
        }
        if link.hash.len() != 64
            || !link
                .hash
                .chars()
                .all(|c| matches!(c, '0'..='9' | 'a'..='f'))
        {
            return fail(format!(
                "shared_links[{i}].hash: not a lower-case hex SHA-256"
            ));
        }
        if !link.password.is_empty() && PasswordHash::parse(&link.password).is_none() {
            return fail(format!(
                "shared_links[{i}].password: not a pbkdf2-sha256 hash"
            ));
        }
        if !is_site(&link.site) {
            return fail(format!(
                "shared_links[{i}].site: {:?} is not one of the sites",
                link.site
            ));
        }
        links.push(link);
    }
    // chart notes: replaced when the file has them (an export from before them has none)
    let annotations = match object.get("annotations") {
        None => None,
        Some(_) => {
            let mut notes: Vec<Annotation> = Vec::new();
            for (i, value) in list(&object, "annotations")?.iter().enumerate() {
                let note: Annotation = serde_json::from_value(value.clone())
                    .map_err(|e| AdminError(format!("annotations[{i}]: {e}")))?;
                if !handle(&note.id) || notes.iter().any(|n| n.id == note.id) {
                    return fail(format!(
                        "annotations[{i}].id: {:?} is not a new note id",
                        note.id
                    ));
                }
                if !is_site(&note.site) {
                    return fail(format!(
                        "annotations[{i}].site: {:?} is not one of the sites",
                        note.site
                    ));
                }
                crate::annotations::check(&note.date, &note.text)
                    .map_err(|e| AdminError(format!("annotations[{i}].{e}")))?;
                notes.push(note);
            }
            Some(notes)
        }
    };
    Ok(Change::Import {
        sites,
        keys,
        people: Some(people),
        shared_links: Some(links),
        annotations,
    })
}

pub const MAX_EMAIL_BYTES: usize = 254;

/// An e-mail address as people are known by: lower case, one `@`, no
/// spaces, within RFC 5321's length.
pub fn email(text: &str) -> Result<String, AdminError> {
    let email = text.trim().to_ascii_lowercase();
    let shaped = email.len() <= MAX_EMAIL_BYTES
        && email.split('@').count() == 2
        && email.split('@').all(|part| !part.is_empty())
        && email
            .split('@')
            .nth(1)
            .is_some_and(|host| host.contains('.') || host == "localhost")
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if shaped {
        Ok(email)
    } else {
        fail(format!("email: {text:?} is not an e-mail address"))
    }
}

/// An id of a person or a link: 1 to 64 letters, digits, `_` or `-`.
fn handle(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

fn list<'a>(
    object: &'a serde_json::Map<String, Value>,
    field: &str,
) -> Result<&'a Vec<Value>, AdminError> {
    match object.get(field) {
        Some(Value::Array(list)) => Ok(list),
        Some(other) => fail(format!("{field}: {other} is not a list")),
        None => fail(format!("{field} is required")),
    }
}

/// The settings as the admin API shows them: no key or session hashes.
pub fn public_view(store: &Store) -> Value {
    view_for(store, |_| true)
}

/// The settings of the sites `manages` says yes to: those sites, the keys
/// that read only them, and their shared links (no hash, no password).
pub fn view_for(store: &Store, manages: impl Fn(&str) -> bool) -> Value {
    serde_json::json!({
        "sites": store.sites.iter().filter(|s| manages(&s.domain)).collect::<Vec<_>>(),
        "keys": store.keys.iter().filter(|k| k.sites.iter().all(|s| manages(s))).map(|k| serde_json::json!({
            "id": k.id, "name": k.name, "sites": k.sites,
        })).collect::<Vec<_>>(),
        "shared_links": store.shared_links.iter().filter(|l| manages(&l.site)).map(|l| serde_json::json!({
            "id": l.id, "name": l.name, "site": l.site, "password": !l.password.is_empty(),
            "filters": l.filters, "created_ms": l.created_ms,
        })).collect::<Vec<_>>(),
        // webhook deliveries waiting for another attempt, and why
        "webhook_deliveries": store.outbox.iter().filter(|d| manages(&d.site)).map(|d| serde_json::json!({
            "id": d.id, "site": d.site, "url": d.url, "attempts": d.attempts,
            "next_ms": d.next_ms, "error": d.error,
        })).collect::<Vec<_>>(),
    })
}

/// Whether plain http to `url`'s host stays on this machine or a private
/// network: loopback, a private or link-local address, or a name that only
/// resolves inside one (a single label such as `clickhouse`, a Kubernetes
/// `*.svc` / `*.cluster.local` name, `*.internal`, `*.local`, `localhost`).
/// Anything else would carry a secret (the ClickHouse password, a signed
/// webhook) over the internet in clear text.
pub fn is_private_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Some(url::Host::Ipv6(ip)) => {
            // fc00::/7 (unique local) and fe80::/10 (link-local)
            let first = ip.segments()[0];
            ip.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            !name.contains('.')
                || [
                    ".svc",
                    ".cluster.local",
                    ".internal",
                    ".local",
                    ".localhost",
                ]
                .iter()
                .any(|suffix| name.ends_with(suffix))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_with_goals() {
        let change = put_site(
            "WWW.Backstage.Example",
            br#"{"timezone":"Europe/Berlin","retention":"1y","goals":[{"event_name":"Deploy Application"},{"page_path":"/docs/**"}]}"#,
        )
        .unwrap();
        let Change::PutSite(site) = change else {
            panic!("not a site")
        };
        assert_eq!(site.domain, "backstage.example");
        assert_eq!(site.timezone, "Europe/Berlin");
        assert_eq!(site.retention, Retention::OneYear);
        assert_eq!(site.goals[1].display_name(), "Visit /docs/**");
        let Change::PutSite(with_funnel) = put_site(
            "a.example",
            br#"{"funnels":[{"name":"Onboarding","steps":[{"page_path":"/create/**"},{"event_name":"Deploy Application","props":{"language":"nodejs"}}]}]}"#,
        )
        .unwrap() else {
            panic!("not a site")
        };
        assert_eq!(with_funnel.funnels[0].name, "Onboarding");
        assert_eq!(
            with_funnel.funnels[0].steps[1].label(),
            "Deploy Application (language=nodejs)"
        );
        let Change::PutSite(defaults) = put_site("a.example", b"{}").unwrap() else {
            panic!("not a site")
        };
        assert_eq!(
            (defaults.timezone.as_str(), defaults.retention),
            ("UTC", Retention::Indefinite)
        );
    }

    #[test]
    fn bad_site_requests_name_the_field() {
        let cases: [(&str, &str, &str); 25] = [
            (
                "a.example",
                r#"{"segments":[{"name":"G","filters":[]}]}"#,
                "segments[0].filters: a list of 1 to 20 Stats API filters",
            ),
            (
                "a.example",
                r#"{"segments":[{"name":"G","filters":[["is","visit:source",["Google"]]]},{"name":"G","filters":[["is","visit:source",["x"]]]}]}"#,
                "segments: \"G\" is listed twice",
            ),
            (
                "a.example",
                r#"{"segments":{}}"#,
                "segments: a list of at most 20",
            ),
            (
                "a.example",
                r#"{"min_group_size":0}"#,
                "min_group_size: 0 is not a whole number from 1 (off) to 1000",
            ),
            (
                "a.example",
                r#"{"min_group_size":1001}"#,
                "min_group_size: 1001 is not a whole number from 1 (off) to 1000",
            ),
            (
                "a.example",
                r#"{"props":["team"],"breakdown_props":["team","user_email"]}"#,
                "breakdown_props[1]: \"user_email\" is not one of the site's props (team)",
            ),
            (
                "a.example",
                r#"{"breakdown_props":"all"}"#,
                "breakdown_props: null (every prop) or a list of at most 100 of the site's props",
            ),
            (
                "a.example",
                r#"{"drop_opted_out":"yes"}"#,
                "drop_opted_out: \"yes\" is not true or false",
            ),
            (
                "a.example",
                r#"{"funnels":[{"name":"A","steps":[{"page_path":"/"}]}]}"#,
                "funnels[0].steps: 1 steps; a funnel has 2 to 8",
            ),
            (
                "a.example",
                r#"{"funnels":[{"name":"","steps":[]}]}"#,
                "funnels[0].name: a name of 1 to 120 bytes is required",
            ),
            (
                "a.example",
                r#"{"funnels":[{"name":"A","steps":[{"page_path":"/"},{"event_name":"x","props":{"k":[]}}]}]}"#,
                "funnels[0].steps[1].props.k: [] must be a string of at most 2000 bytes, its key 1 to 300",
            ),
            (
                "a.example",
                r#"{"funnels":[{"name":"A","steps":[{"page_path":"/"},{"event_name":"x"}]},{"name":"A","steps":[{"page_path":"/"},{"event_name":"y"}]}]}"#,
                "funnels: \"A\" is listed twice",
            ),
            (
                "a.example",
                r#"{"embed_origins":["https://portal.example; script-src *"]}"#,
                "embed_origins[0]: \"https://portal.example; script-src *\" is not an origin such as https://backstage.example.com",
            ),
            (
                "a.example",
                r#"{"embed_origins":["javascript://x"]}"#,
                "embed_origins[0]: \"javascript://x\" is not an origin such as https://backstage.example.com",
            ),
            (
                "a.example",
                r#"{"require_second_factor":"yes"}"#,
                "require_second_factor: \"yes\" is not true or false",
            ),
            ("a b", "{}", "domain: \"a b\" is not a domain"),
            ("a.example", "[]", "the body must be a JSON object"),
            (
                "a.example",
                r#"{"tz":"UTC"}"#,
                "unknown field \"tz\": the fields are timezone, retention, goals, props, require_second_factor, embed_origins, funnels, segments, reports, alerts, webhooks, min_group_size, breakdown_props, drop_opted_out",
            ),
            (
                "a.example",
                r#"{"timezone":"Europe/../etc"}"#,
                "timezone: \"Europe/../etc\" is not an IANA time zone",
            ),
            (
                "a.example",
                r#"{"retention":"3y"}"#,
                "retention: \"3y\" is not one of 6mo, 1y, 2y, indefinite",
            ),
            ("a.example", r#"{"goals":{}}"#, "goals: {} is not a list"),
            (
                "a.example",
                r#"{"goals":[{"event_name":""}]}"#,
                "goals[0].event_name: \"\" must be 1 to 120 bytes",
            ),
            (
                "a.example",
                r#"{"goals":[{"page_path":"docs"}]}"#,
                "goals[0].page_path: \"docs\" must start with / and be at most 2000 bytes",
            ),
            (
                "a.example",
                r#"{"props":["language", ""]}"#,
                "props[1]: \"\" is not a property name (1 to 300 bytes)",
            ),
            (
                "a.example",
                r#"{"goals":[{"event_name":"A"},{"event_name":"A"}]}"#,
                "goals: \"A\" is listed twice",
            ),
        ];
        for (domain, body, message) in cases {
            assert_eq!(
                put_site(domain, body.as_bytes()),
                Err(AdminError(message.into())),
                "{body}"
            );
        }
    }

    #[test]
    fn rebuild_ranges_are_two_ordered_dates() {
        assert_eq!(
            rebuild_range(br#"{"from":"2026-01-01","to":"2026-01-31"}"#),
            Ok(("2026-01-01".into(), "2026-01-31".into()))
        );
        assert_eq!(
            rebuild_range(br#"{"from":"2026-1-1","to":"2026-01-31"}"#)
                .unwrap_err()
                .0,
            "from: \"2026-1-1\" is not a date (YYYY-MM-DD)"
        );
        assert_eq!(
            rebuild_range(br#"{"from":"2026-02-01","to":"2026-01-31"}"#)
                .unwrap_err()
                .0,
            "from: 2026-02-01 is after 2026-01-31"
        );
    }

    #[test]
    fn keys_are_created_for_valid_sites_only() {
        let random = [1u8; keys::RANDOM_BYTES];
        let (key, secret) = add_key(br#"{"name":"ci","sites":["a.example"]}"#, &random).unwrap();
        assert_eq!(key.hash, keys::sha256_hex(secret.as_bytes()));
        assert!(!format!("{key:?}").contains(&secret));
        assert_eq!(
            add_key(br#"{"sites":[]}"#, &random).unwrap_err().0,
            "sites: [] must list at least one site"
        );
        assert_eq!(
            add_key(br#"{"sites":[1]}"#, &random).unwrap_err().0,
            "sites[0]: 1 is not a domain"
        );
    }

    #[test]
    fn an_export_imports_into_the_same_sites_and_keys() {
        let mut store = Store::default();
        for change in [
            put_site("backstage.example", br#"{"timezone":"Europe/Berlin","retention":"2y","goals":[{"event_name":"Deploy Application"}],"props":["language"]}"#).unwrap(),
            put_site("docs.example", b"{}").unwrap(),
        ] {
            store = crate::settings::apply(&store, change).unwrap();
        }
        let (key, secret) = add_key(
            br#"{"name":"ci","sites":["backstage.example"]}"#,
            &[7; keys::RANDOM_BYTES],
        )
        .unwrap();
        store = crate::settings::apply(&store, Change::AddKey(key)).unwrap();
        let exported = serde_json::to_vec(&export(&store)).unwrap();
        let text = String::from_utf8(exported.clone()).unwrap();
        assert!(!text.contains(&secret), "a key's secret is never exported");
        let Change::Import {
            sites,
            keys,
            people,
            shared_links,
            annotations,
        } = import(&exported).unwrap()
        else {
            panic!("not an import")
        };
        assert_eq!((sites, keys), (store.sites.clone(), store.keys.clone()));
        assert_eq!(
            (people, shared_links, annotations),
            (
                Some(store.users.clone()),
                Some(store.shared_links.clone()),
                Some(store.annotations.clone())
            )
        );
        // a chart note goes through a backup and a restore; a bad one is named
        let note = crate::annotations::annotate(
            &store,
            &crate::people::Actor::Installation,
            "admin",
            "backstage.example",
            br#"{"date":"2026-11-03","text":"Backstage 1.32"}"#,
            &[3; crate::annotations::ID_BYTES],
            1,
        )
        .unwrap();
        let noted = crate::settings::apply(&store, note).unwrap();
        let backup = serde_json::to_vec(&export(&noted)).unwrap();
        let restored = crate::settings::apply(&Store::default(), import(&backup).unwrap()).unwrap();
        assert_eq!(restored.annotations, noted.annotations);
        let mut bad: Value = serde_json::from_slice(&backup).unwrap();
        bad["annotations"][0]["date"] = Value::from("2026-02-30");
        assert_eq!(
            import(&serde_json::to_vec(&bad).unwrap()).unwrap_err().0,
            "annotations[0].date: \"2026-02-30\" is not a date (YYYY-MM-DD)"
        );
        // an export of the first format still restores its sites and keys, and keeps the people
        let old = format!(
            r#"{{"format":"{EXPORT_FORMAT_1}","sites":{},"keys":[]}}"#,
            serde_json::to_string(&store.sites).unwrap()
        );
        assert!(matches!(
            import(old.as_bytes()),
            Ok(Change::Import { people: None, .. })
        ));
    }

    #[test]
    fn a_bad_import_names_the_field() {
        let site = r#"{"domain":"a.example"}"#;
        let key = |sites: &str, hash: &str| {
            format!(r#"{{"id":"k1","name":"ci","hash":"{hash}","sites":{sites}}}"#)
        };
        let hash = "ab".repeat(32);
        let cases = [
            (r#"{"sites":[],"keys":[]}"#.to_string(), "format"),
            (
                format!(r#"{{"format":"{EXPORT_FORMAT}","sites":[{{"domain":"x y"}}],"keys":[]}}"#),
                "sites[0]: domain",
            ),
            (
                format!(r#"{{"format":"{EXPORT_FORMAT}","sites":[{site},{site}],"keys":[]}}"#),
                "sites[1]: \"a.example\" is listed twice",
            ),
            (
                format!(
                    r#"{{"format":"{EXPORT_FORMAT}","sites":[{{"domain":"a.example","timezone":"no zone"}}],"keys":[]}}"#
                ),
                "sites[0]: timezone",
            ),
            (
                format!(
                    r#"{{"format":"{EXPORT_FORMAT}","sites":[{site}],"keys":[{}]}}"#,
                    key(r#"["b.example"]"#, &hash)
                ),
                "keys[0].sites",
            ),
            (
                format!(
                    r#"{{"format":"{EXPORT_FORMAT}","sites":[{site}],"keys":[{}]}}"#,
                    key(r#"["a.example"]"#, "secret")
                ),
                "keys[0].hash",
            ),
            (
                format!(
                    r#"{{"format":"{EXPORT_FORMAT}","sites":[{site}],"keys":[{},{}]}}"#,
                    key(r#"["a.example"]"#, &hash),
                    key(r#"["a.example"]"#, &hash)
                ),
                "keys[1].id",
            ),
            (
                format!(r#"{{"format":"{EXPORT_FORMAT}","sites":[{site}]}}"#),
                "keys is required",
            ),
        ];
        for (body, field) in cases {
            let error = import(body.as_bytes()).unwrap_err().0;
            assert!(error.starts_with(field), "{body}: {error}");
        }
        let good = format!(
            r#"{{"format":"{EXPORT_FORMAT}","sites":[{site}],"keys":[{}]}}"#,
            key(r#"["a.example"]"#, &hash)
        );
        assert!(import(good.as_bytes()).is_ok());
        let person = |fields: &str| {
            format!(
                r#"{{"format":"{EXPORT_FORMAT}","sites":[{site}],"keys":[],"people":[{{"id":"u1","email":"a@example.com","name":"A","created_ms":0{fields}}}],"shared_links":[]}}"#
            )
        };
        assert!(import(person("").as_bytes()).is_ok());
        for (fields, field) in [
            (r#","roles":{"b.example":"viewer"}"#, "people[0].roles"),
            (r#","password":"hunter2""#, "people[0].password"),
            (
                r#","roles":{"a.example":"emperor"}"#,
                "people[0]: unknown variant",
            ),
        ] {
            let error = import(person(fields).as_bytes()).unwrap_err().0;
            assert!(error.starts_with(field), "{fields}: {error}");
        }
    }
}

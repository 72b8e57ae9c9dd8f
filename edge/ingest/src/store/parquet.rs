//! The scheduled export of each closed UTC day's events and visits as
//! Parquet files, for a data warehouse (docs/exports.md). ClickHouse writes
//! them itself — to a directory under its `user_files` (self-hosted), or to
//! an S3-compatible bucket such as Cloudflare R2 — so the Worker only sends
//! these statements: which days are due, the two exports of a day, and the
//! mark that it was exported. The rows hold no IP or User-Agent: `events`
//! has none.

use model::sql::Sql;
use model::tables::{DAY_CHANGES, DAY_EXPORTS, EVENTS, VISITOR_DAYS};

/// Days exported per run, all sites together: each is three ClickHouse
/// requests, after the rollups' (a Worker invocation may make 1,000 on a paid
/// plan); a year of one site's backlog takes a day or so of hourly runs.
pub const DAYS_PER_RUN: u32 = 20;

/// Where the files go.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// A directory under ClickHouse's `user_files` (relative, no `..`).
    Directory(String),
    /// An S3-compatible bucket URL ending in `/` (R2:
    /// `https://<account>.r2.cloudflarestorage.com/<bucket>/<prefix>/`),
    /// with the access key ClickHouse signs with.
    Bucket {
        url: String,
        key_id: String,
        secret: String,
    },
}

impl std::fmt::Debug for Target {
    // the bucket's secret never reaches a log
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Directory(dir) => f.debug_tuple("Directory").field(dir).finish(),
            Target::Bucket { url, .. } => f.debug_struct("Bucket").field("url", url).finish(),
        }
    }
}

/// The closed UTC days of `site` changed since their last export, oldest
/// first: rows `[date, changed]`.
pub fn due_sql(site: &str, limit: u32) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", site);
    let limit_p = sql.bind("UInt32", &limit.to_string());
    sql.text = format!(
        "SELECT toString(c.date), toString(c.last) FROM \
         (SELECT date, max(changed) AS last FROM {DAY_CHANGES} \
          WHERE site_domain = {site_p} AND date < toDate(now(), 'UTC') GROUP BY date) AS c \
         LEFT JOIN (SELECT date, max(changed) AS exported FROM {DAY_EXPORTS} \
          WHERE site_domain = {site_p} GROUP BY date) AS e ON c.date = e.date \
         WHERE c.last > e.exported ORDER BY c.date LIMIT {limit_p}"
    );
    sql
}

/// The two files of `site`'s UTC `date` (`YYYY-MM-DD`): `<site>/events/<date>.parquet`
/// (every stored event of the day) and `<site>/visits/<date>.parquet` (one
/// row per stored visit with a pageview or custom event — not one of only
/// engagement events, which no report counts — with its visitor's device,
/// browser, OS and country).
/// A file written before is replaced.
pub fn export_sql(site: &str, date: &str, target: &Target) -> Vec<Sql> {
    let events = format!(
        "SELECT * FROM {EVENTS} WHERE site_domain = {{site}} AND toDate(timestamp) = {{date}} \
         ORDER BY timestamp, event_id"
    );
    let visits = format!(
        "SELECT site_domain, date, visitor_id, device, browser, browser_version, \
         operating_system, operating_system_version, country_code, \
         `visit.start` AS start, `visit.end` AS end, `visit.pageviews` AS pageviews, \
         `visit.interactions` AS interactions, `visit.entry_page` AS entry_page, \
         `visit.exit_page` AS exit_page, `visit.source` AS source, `visit.referrer` AS referrer, \
         `visit.utm_medium` AS utm_medium, `visit.utm_source` AS utm_source, \
         `visit.utm_campaign` AS utm_campaign, `visit.utm_content` AS utm_content, \
         `visit.utm_term` AS utm_term, `visit.channel` AS channel \
         FROM {VISITOR_DAYS} FINAL ARRAY JOIN visit \
         WHERE site_domain = {{site}} AND date = {{date}} AND `visit.active` > 0 \
         ORDER BY visitor_id, start"
    );
    [("events", events), ("visits", visits)]
        .into_iter()
        .map(|(kind, select)| {
            let mut sql = Sql::default();
            let site_p = sql.bind("String", site);
            let date_p = sql.bind("Date", date);
            let select = select.replace("{site}", &site_p).replace("{date}", &date_p);
            let path = format!("{site}/{kind}/{date}.parquet");
            sql.text = match target {
                Target::Directory(dir) => {
                    let path_p = sql.bind("String", &format!("{dir}/{path}"));
                    format!(
                        "INSERT INTO FUNCTION file({path_p}, 'Parquet') {select} \
                         SETTINGS engine_file_truncate_on_insert = 1"
                    )
                }
                Target::Bucket {
                    url,
                    key_id,
                    secret,
                } => {
                    let url_p = sql.bind("String", &format!("{url}{path}"));
                    // the key is written in the statement's text (the POST body),
                    // not bound: a bound value travels in the URL, which proxies
                    // and ClickHouse's trace log record, while ClickHouse masks
                    // s3()'s credentials in its query log. Its characters are
                    // checked at start-up; `literal` escapes all the same.
                    format!(
                        "INSERT INTO FUNCTION s3({url_p}, {}, {}, 'Parquet') {select} \
                         SETTINGS s3_truncate_on_insert = 1",
                        literal(key_id),
                        literal(secret)
                    )
                }
            };
            sql
        })
        .collect()
}

/// A ClickHouse string literal of `text`: quotes and backslashes escaped.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Whether `text` may be a bucket key id or secret: what S3-compatible
/// stores issue (letters, digits, `+ / = _ - .`), 1 to 256 characters.
pub fn is_bucket_credential(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 256
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-' | '.'))
}

/// Marks `site`'s `date` exported as of its change `changed`.
pub fn exported_sql(site: &str, date: &str, changed: u64) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", site);
    let date_p = sql.bind("Date", date);
    let changed_p = sql.bind("UInt64", &changed.to_string());
    sql.text = format!("INSERT INTO {DAY_EXPORTS} SELECT {site_p}, {date_p}, {changed_p}");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_bound_and_each_day_is_two_files() {
        let dir = Target::Directory("exports".into());
        let statements = export_sql("portal.example", "2026-11-28", &dir);
        assert_eq!(statements.len(), 2);
        assert!(statements[0]
            .text
            .starts_with("INSERT INTO FUNCTION file({p"));
        assert!(!statements[0].text.contains("portal.example"));
        assert!(statements[0]
            .params
            .iter()
            .any(|(_, v)| v == "exports/portal.example/events/2026-11-28.parquet"));
        assert!(statements[1]
            .params
            .iter()
            .any(|(_, v)| v == "exports/portal.example/visits/2026-11-28.parquet"));
        let bucket = Target::Bucket {
            url: "https://acc.r2.cloudflarestorage.com/analytics/".into(),
            key_id: "id".into(),
            secret: "s3cret".into(),
        };
        let s3 = export_sql("portal.example", "2026-11-28", &bucket);
        assert!(s3[0].text.contains("s3({p") && s3[0].text.contains("'id', 's3cret'"));
        assert!(
            s3[0].params.iter().all(|(_, v)| !v.contains("s3cret")),
            "not in the URL"
        );
        assert_eq!(literal("a'b\\c"), "'a\\'b\\\\c'");
        assert!(is_bucket_credential("AKIA/x+y=") && !is_bucket_credential("a'b"));
        assert!(!format!("{bucket:?}").contains("s3cret"));
        assert!(due_sql("portal.example", 10)
            .text
            .contains("date < toDate(now(), 'UTC')"));
    }
}

//! Data retention: the statement that deletes a site's events older than
//! its retention, run by the Worker's cron (`worker::retention`).

use super::Site;
use crate::stats::sql::Sql;

/// `None` for indefinite retention. A lightweight delete: rows vanish from
/// queries at once and from disk at the next merge.
pub fn delete_sql(site: &Site) -> Option<Sql> {
    let months = site.retention.months()?;
    let mut sql = Sql::default();
    let site_p = sql.bind("String", &site.domain);
    let months_p = sql.bind("UInt32", &months.to_string());
    sql.text = format!(
        "DELETE FROM events WHERE site_domain = {site_p} AND timestamp < now() - toIntervalMonth({months_p})"
    );
    Some(sql)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Retention;

    #[test]
    fn indefinite_keeps_everything_and_the_rest_bind_their_values() {
        let mut site = Site {
            domain: "a.example".into(),
            timezone: "UTC".into(),
            retention: Retention::Indefinite,
            goals: vec![],
        };
        assert_eq!(delete_sql(&site), None);
        site.retention = Retention::SixMonths;
        let sql = delete_sql(&site).unwrap();
        assert!(!sql.text.contains("a.example"));
        assert_eq!(sql.params[1].1, "6");
    }
}

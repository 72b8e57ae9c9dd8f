//! Data retention: the statements that delete a site's data older than its
//! retention, run by the Worker's cron.

use model::settings::Site;
use model::sql::Sql;
use model::tables::{
    Topology, DAY_CHANGES, DAY_EXPORTS, DAY_ROLLS, DAY_ROLLUPS, EVENTS, PAGE_DAYS, VISITOR_DAYS,
};

/// The deletes for `site`: its events, stored visits and rollups of the UTC days
/// older than its retention (none when indefinite). Lightweight deletes:
/// rows vanish from queries at once and from disk at the next merge. On a
/// cluster, from the local tables of every node.
pub fn delete_sql(site: &Site, topology: &Topology) -> Vec<Sql> {
    let Some(months) = site.retention.months() else {
        return Vec::new();
    };
    [
        (EVENTS, "toDate(timestamp)"),
        (VISITOR_DAYS, "date"),
        (PAGE_DAYS, "date"),
        (DAY_ROLLUPS, "date"),
        (DAY_ROLLS, "date"),
        (DAY_CHANGES, "date"),
        (DAY_EXPORTS, "date"),
    ]
    .into_iter()
    .map(|(table, day)| {
        let mut sql = Sql::default();
        let site_p = sql.bind("String", &site.domain);
        let months_p = sql.bind("UInt32", &months.to_string());
        let target = topology.delete_target(table);
        sql.text = format!(
            "DELETE FROM {target} WHERE site_domain = {site_p} \
                 AND {day} < toDate(now() - toIntervalMonth({months_p}))"
        );
        sql
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::settings::Retention;

    #[test]
    fn indefinite_keeps_everything_and_the_rest_bind_their_values() {
        let mut site = Site::new("a.example");
        assert!(delete_sql(&site, &Topology::Single).is_empty());
        site.retention = Retention::SixMonths;
        let deletes = delete_sql(&site, &Topology::Single);
        assert_eq!(
            deletes.len(),
            7,
            "events, their visits, rollups, roll logs and export marks"
        );
        assert!(deletes
            .iter()
            .all(|sql| !sql.text.contains("a.example") && sql.params[1].1 == "6"));
        let cluster = delete_sql(&site, &Topology::Cluster("c1".into()));
        assert!(cluster[0]
            .text
            .starts_with("DELETE FROM events_local ON CLUSTER c1 WHERE"));
    }
}

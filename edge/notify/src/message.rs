//! What is sent: the e-mails of an alert and a report (plain text), and the
//! JSON body of an alert's webhook.

use crate::alert::Firing;
use crate::measure::Report;
use crate::schedule::DueReport;
use model::settings::AlertKind;
use serde_json::json;

/// An e-mail before it is encoded ([`crate::smtp::encode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

/// What an alert says, in words.
fn alert_sentence(site: &str, firing: &Firing) -> String {
    let hours = match firing.hours {
        1 => "the last hour".to_string(),
        h => format!("the last {h} hours"),
    };
    match (firing.kind, &firing.goal) {
        (AlertKind::Spike, _) => format!(
            "{site} had {} visitors in {hours}, at or above the alert's threshold of {}.",
            firing.visitors, firing.threshold
        ),
        (AlertKind::Drop, _) => format!(
            "{site} had {} visitors in {hours}, below the alert's threshold of {}.",
            firing.visitors, firing.threshold
        ),
        (AlertKind::Goal, goal) => format!(
            "{} visitors of {site} completed the goal \"{}\" in {hours}, at or above the alert's threshold of {}.",
            firing.visitors,
            goal.as_deref().unwrap_or(""),
            firing.threshold
        ),
    }
}

/// The e-mail of an alert that fired.
pub fn alert_email(site: &str, firing: &Firing, to: &[String]) -> Email {
    let what = match firing.kind {
        AlertKind::Spike => "traffic spike",
        AlertKind::Drop => "traffic drop",
        AlertKind::Goal => "goal reached",
    };
    Email {
        to: to.to_vec(),
        subject: format!("{site}: {what} ({})", firing.name),
        text: format!(
            "{}\n\nAlert: {}\nWindow: {} to {} (UTC)\n\nSent by the analytics of {site}; the site's admins change its alerts in Settings.\n",
            alert_sentence(site, firing),
            firing.name,
            firing.from,
            firing.to,
        ),
    }
}

/// An alert's webhook body (Standard Webhooks: `type`, `timestamp`, `data`).
pub fn alert_body(site: &str, firing: &Firing, timestamp: &str) -> String {
    json!({
        "type": "alert.fired",
        "timestamp": timestamp,
        "data": {
            "site": site,
            "alert": firing.name,
            "kind": firing.kind.name(),
            "goal": firing.goal,
            "visitors": firing.visitors,
            "threshold": firing.threshold,
            "hours": firing.hours,
            "from": firing.from,
            "to": firing.to,
            "text": alert_sentence(site, firing),
        }
    })
    .to_string()
}

/// The e-mail of a report.
pub fn report_email(site: &str, due: &DueReport, report: &Report) -> Email {
    let period = match due.frequency {
        model::settings::Frequency::Weekly => "week",
        model::settings::Frequency::Monthly => "month",
    };
    let mut text = format!(
        "{site}: {} to {} (the site's time zone)\n\n",
        due.first, due.last
    );
    let names = [
        "Visitors",
        "Visits",
        "Pageviews",
        "Bounce rate",
        "Visit duration",
    ];
    for (i, name) in names.iter().enumerate() {
        let (now, before) = (report.totals[i], report.previous[i]);
        let fewer = format!("fewer than {}", report.min_group_size.unwrap_or(0));
        let shown = match i {
            _ if now.is_nan() => fewer.clone(),
            3 => format!("{now:.0} %"),
            4 => duration(now),
            _ => format!("{now:.0}"),
        };
        let change = match i {
            // a number from fewer visitors than the site's minimum group size
            _ if now.is_nan() || before.is_nan() => {
                format!("not compared: {fewer} visitors in one of the two")
            }
            // a rate changes by points, as Plausible's dashboard shows it
            3 => format!("{:+.0} points on the {period} before", now - before),
            _ if before == 0.0 && now == 0.0 => format!("none the {period} before either"),
            _ if before == 0.0 => format!("none the {period} before"),
            _ => format!(
                "{:+.0} % on the {period} before",
                (now - before) / before * 100.0
            ),
        };
        text.push_str(&format!("{name:<16}{shown:>10}   ({change})\n"));
    }
    let mut list = |title: &str, rows: Vec<String>| {
        text.push_str(&format!("\n{title}\n"));
        if rows.is_empty() {
            text.push_str("  none\n");
        }
        for row in rows {
            text.push_str(&format!("  {row}\n"));
        }
    };
    list(
        "Top pages (visitors, pageviews)",
        report
            .pages
            .iter()
            .map(|(page, v, p)| format!("{page}  {v:.0}, {p:.0}"))
            .collect(),
    );
    list(
        "Top sources (visitors)",
        report
            .sources
            .iter()
            .map(|(source, v)| format!("{source}  {v:.0}"))
            .collect(),
    );
    if !report.goals.is_empty() {
        list(
            "Goals (visitors, events)",
            report
                .goals
                .iter()
                .map(|(goal, v, e)| format!("{goal}  {v:.0}, {e:.0}"))
                .collect(),
        );
    }
    text.push_str(&format!(
        "\nA {} report of {site}; the site's admins change its reports in Settings.\n",
        due.frequency.name()
    ));
    Email {
        to: due.recipients.clone(),
        subject: format!(
            "{site}: {} report, {} to {}",
            due.frequency.name(),
            due.first,
            due.last
        ),
        text,
    }
}

/// `1m 05s`, as Plausible shows a visit's duration.
fn duration(seconds: f64) -> String {
    let s = seconds.round().max(0.0) as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::settings::Frequency;

    fn firing(kind: AlertKind) -> Firing {
        Firing {
            name: "Portal spike".into(),
            kind,
            goal: None,
            visitors: 12,
            threshold: 10,
            hours: 1,
            from: "2026-11-30T10:00:00Z".into(),
            to: "2026-11-30T10:59:59Z".into(),
        }
    }

    #[test]
    fn an_alert_says_what_it_saw() {
        let email = alert_email(
            "portal.example",
            &firing(AlertKind::Spike),
            &["a@b.io".into()],
        );
        assert_eq!(
            email.subject,
            "portal.example: traffic spike (Portal spike)"
        );
        assert!(email.text.starts_with(
            "portal.example had 12 visitors in the last hour, at or above the alert's threshold of 10."
        ));
        let body: serde_json::Value =
            serde_json::from_str(&alert_body("portal.example", &firing(AlertKind::Drop), "t"))
                .unwrap();
        assert_eq!(body["type"], "alert.fired");
        assert_eq!(body["data"]["visitors"], 12);
        assert_eq!(body["data"]["kind"], "drop");
    }

    #[test]
    fn a_report_lists_totals_changes_and_tops() {
        let due = DueReport {
            frequency: Frequency::Weekly,
            first: "2026-11-23".into(),
            last: "2026-11-29".into(),
            previous_first: "2026-11-16".into(),
            previous_last: "2026-11-22".into(),
            recipients: vec!["a@b.io".into()],
            key: "k".into(),
        };
        let report = Report {
            totals: [12.0, 15.0, 40.0, 20.0, 65.0],
            previous: [10.0, 10.0, 0.0, 30.0, 60.0],
            pages: vec![("/create".into(), 7.0, 9.0)],
            sources: vec![],
            goals: vec![("Deploy".into(), 3.0, 4.0)],
            min_group_size: None,
        };
        let email = report_email("portal.example", &due, &report);
        assert_eq!(
            email.subject,
            "portal.example: weekly report, 2026-11-23 to 2026-11-29"
        );
        for line in [
            "Visitors                12   (+20 % on the week before)",
            "Pageviews               40   (none the week before)",
            "Bounce rate           20 %   (-10 points on the week before)",
            "Visit duration      1m 05s   (+8 % on the week before)",
            "  /create  7, 9",
            "Top sources (visitors)\n  none",
            "  Deploy  3, 4",
        ] {
            assert!(email.text.contains(line), "{line:?} not in\n{}", email.text);
        }
        // a total the site's minimum group size hides is not shown, nor compared
        let hidden = Report {
            totals: [f64::NAN, 15.0, 40.0, 20.0, 65.0],
            min_group_size: Some(5),
            ..report
        };
        let email = report_email("portal.example", &due, &hidden);
        let line = "Visitors        fewer than 5   (not compared: fewer than 5 visitors in one of the two)";
        assert!(email.text.contains(line), "{line:?} not in\n{}", email.text);
    }
}

//! Whether an alert fires, from the number measured over its window.

use model::settings::{Alert, AlertKind};

/// An alert that fired: what it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    pub name: String,
    pub kind: AlertKind,
    pub goal: Option<String>,
    /// Visitors (or converted visitors, for a goal) in the window.
    pub visitors: u64,
    pub threshold: u64,
    pub hours: u32,
    /// The window, as the Stats API's datetimes.
    pub from: String,
    pub to: String,
}

/// `alert` fires when a spike or goal reaches its threshold, or a drop
/// falls below it.
pub fn decide(alert: &Alert, visitors: u64, window: &(String, String)) -> Option<Firing> {
    let fires = match alert.kind {
        AlertKind::Spike | AlertKind::Goal => visitors >= alert.threshold,
        AlertKind::Drop => visitors < alert.threshold,
    };
    fires.then(|| Firing {
        name: alert.name.clone(),
        kind: alert.kind,
        goal: alert.goal.clone(),
        visitors,
        threshold: alert.threshold,
        hours: alert.hours,
        from: window.0.clone(),
        to: window.1.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: AlertKind) -> Alert {
        Alert {
            name: "a".into(),
            kind,
            goal: None,
            threshold: 10,
            hours: 1,
            recipients: vec![],
        }
    }

    #[test]
    fn thresholds_are_reached_or_fallen_below() {
        let w = ("from".to_string(), "to".to_string());
        assert!(decide(&alert(AlertKind::Spike), 9, &w).is_none());
        assert_eq!(
            decide(&alert(AlertKind::Spike), 10, &w).map(|f| f.visitors),
            Some(10)
        );
        assert!(decide(&alert(AlertKind::Goal), 11, &w).is_some());
        assert!(decide(&alert(AlertKind::Drop), 10, &w).is_none());
        assert!(decide(&alert(AlertKind::Drop), 9, &w).is_some());
    }
}

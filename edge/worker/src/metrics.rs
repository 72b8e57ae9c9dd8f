//! The Worker's own counters and latencies, and their Prometheus text
//! exposition (`GET /metrics`, behind `METRICS_TOKEN`). Pure: the routes
//! record into one [`Metrics`] per isolate (`routes/metrics.rs`). Under
//! workerd an isolate is a process, so a scrape of each pod sees that pod's
//! counts since it started, as Prometheus expects; on Cloudflare each request
//! may reach another isolate (docs/operations.md says what to use there).
//!
//! Written by hand, not with the `prometheus-client` crate: the format is a
//! few lines of text, and the crate's registry and encoders would add to a
//! Worker whose Wasm is already over a megabyte.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Latency buckets, in seconds: from a cached answer to ClickHouse's 30 s timeout.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];
/// Queue-age buckets, in seconds: from the 2 s batch wait to the 72 h retry budget.
pub const AGE_BUCKETS: [f64; 9] = [
    1.0, 5.0, 30.0, 60.0, 300.0, 3_600.0, 21_600.0, 86_400.0, 259_200.0,
];

/// Observations counted into cumulative buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    /// How many observations were at most each bound (not cumulative here).
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
        }
    }

    pub fn observe(&mut self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|bound| value <= *bound) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += value;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count;
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

/// What a queue message came to in one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum QueueOutcome {
    Stored,
    Retried,
    SetAside,
}

impl QueueOutcome {
    fn label(self) -> &'static str {
        match self {
            QueueOutcome::Stored => "stored",
            QueueOutcome::Retried => "retried",
            QueueOutcome::SetAside => "set_aside",
        }
    }
}

/// Everything counted since the isolate started.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub events_accepted: u64,
    /// By drop reason (`ingest::drop::DropReason::as_str`).
    pub events_dropped: BTreeMap<&'static str, u64>,
    /// Events answered with an error, by status (400, 413, 5xx).
    pub events_refused: BTreeMap<u16, u64>,
    pub queue_messages: BTreeMap<QueueOutcome, u64>,
    /// How long each delivered message had waited on the queue.
    pub queue_age: Histogram,
    /// The oldest message of the latest batch, in seconds.
    pub queue_oldest_age: f64,
    pub insert_latency: Histogram,
    pub insert_errors: u64,
    pub query_latency: Histogram,
    pub query_errors: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            events_accepted: 0,
            events_dropped: BTreeMap::new(),
            events_refused: BTreeMap::new(),
            queue_messages: BTreeMap::new(),
            queue_age: Histogram::new(&AGE_BUCKETS),
            queue_oldest_age: 0.0,
            insert_latency: Histogram::new(&LATENCY_BUCKETS),
            insert_errors: 0,
            query_latency: Histogram::new(&LATENCY_BUCKETS),
            query_errors: 0,
        }
    }
}

/// One family of samples: its HELP and TYPE lines, then one line a sample
/// (`labels` is `""`, or `name="value"`).
fn family<L: std::fmt::Display, V: std::fmt::Display>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, V)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let labels = labels.to_string();
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

impl Metrics {
    /// The text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut text = String::new();
        let out = &mut text;
        family(
            out,
            "edge_events_accepted_total",
            "counter",
            "Events accepted (202) and queued.",
            [("", self.events_accepted)],
        );
        family(
            out,
            "edge_events_dropped_total",
            "counter",
            "Events dropped (202, not stored), by reason.",
            self.events_dropped
                .iter()
                .map(|(reason, n)| (format!("reason=\"{reason}\""), n)),
        );
        family(
            out,
            "edge_events_refused_total",
            "counter",
            "Events answered with an error status, by status.",
            self.events_refused
                .iter()
                .map(|(status, n)| (format!("status=\"{status}\""), n)),
        );
        family(
            out,
            "edge_queue_messages_total",
            "counter",
            "Queue messages delivered to the consumer, by what became of them.",
            self.queue_messages
                .iter()
                .map(|(outcome, n)| (format!("outcome=\"{}\"", outcome.label()), n)),
        );
        self.queue_age.render(
            out,
            "edge_queue_message_age_seconds",
            "How long a delivered message had waited on the queue.",
        );
        family(
            out,
            "edge_queue_oldest_message_age_seconds",
            "gauge",
            "The oldest message of the latest batch.",
            [("", self.queue_oldest_age)],
        );
        self.insert_latency.render(
            out,
            "edge_clickhouse_insert_seconds",
            "ClickHouse INSERTs of events, as the consumer waited for them.",
        );
        family(
            out,
            "edge_clickhouse_insert_errors_total",
            "counter",
            "INSERTs ClickHouse refused or did not answer.",
            [("", self.insert_errors)],
        );
        self.query_latency.render(
            out,
            "edge_stats_query_seconds",
            "Stats API requests, from request to answer.",
        );
        family(
            out,
            "edge_stats_query_errors_total",
            "counter",
            "Stats API requests that failed in ClickHouse or the Worker (5xx).",
            [("", self.query_errors)],
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let mut h = Histogram::new(&LATENCY_BUCKETS);
        for seconds in [0.004, 0.02, 0.02, 3.0, 99.0] {
            h.observe(seconds);
        }
        let mut out = String::new();
        h.render(&mut out, "x", "help");
        assert!(out.contains("x_bucket{le=\"0.005\"} 1\n"));
        assert!(out.contains("x_bucket{le=\"0.025\"} 3\n"));
        assert!(out.contains("x_bucket{le=\"2.5\"} 3\n"));
        assert!(out.contains("x_bucket{le=\"10\"} 4\n"));
        assert!(out.contains("x_bucket{le=\"30\"} 4\n"));
        assert!(out.contains("x_bucket{le=\"+Inf\"} 5\n"));
        assert!(out.contains("x_count 5\n"));
        assert!(out.contains("x_sum 102.044"));
    }

    #[test]
    fn every_family_is_declared_once_and_labelled() {
        let mut m = Metrics {
            events_accepted: 3,
            ..Metrics::default()
        };
        *m.events_dropped.entry("bot").or_default() += 2;
        *m.events_refused.entry(400).or_default() += 1;
        *m.queue_messages.entry(QueueOutcome::Retried).or_default() += 4;
        m.queue_age.observe(120.0);
        let text = m.render();
        assert!(text.contains("edge_events_accepted_total 3\n"));
        assert!(text.contains("edge_events_dropped_total{reason=\"bot\"} 2\n"));
        assert!(text.contains("edge_events_refused_total{status=\"400\"} 1\n"));
        assert!(text.contains("edge_queue_messages_total{outcome=\"retried\"} 4\n"));
        assert!(text.contains("edge_queue_message_age_seconds_bucket{le=\"300\"} 1\n"));
        let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
        let mut names: Vec<&str> = types
            .iter()
            .map(|l| l.split(' ').nth(2).unwrap_or(""))
            .collect();
        let declared = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), declared, "each family declared once");
        // every sample belongs to a declared family
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            assert!(
                names.iter().any(|family| name == *family
                    || name
                        .strip_prefix(family)
                        .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))),
                "{line}"
            );
        }
    }
}

//! The one source of truth for what a Stats API query may ask: metrics,
//! dimensions and filter operators, with their API names and what each is a
//! property of (an event, a visit, the visitor). Validation, the plan and
//! the SQL all read these.

use model::row::MAX_PROP_KEY_BYTES;

/// A metric, by its API name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    Visitors,
    Visits,
    Pageviews,
    ViewsPerVisit,
    BounceRate,
    VisitDuration,
    Events,
    Percentage,
    ConversionRate,
    ScrollDepth,
    GroupConversionRate,
    TimeOnPage,
}

impl Metric {
    pub const ALL: [Metric; 12] = [
        Metric::Visitors,
        Metric::Visits,
        Metric::Pageviews,
        Metric::ViewsPerVisit,
        Metric::BounceRate,
        Metric::VisitDuration,
        Metric::Events,
        Metric::Percentage,
        Metric::ConversionRate,
        Metric::ScrollDepth,
        Metric::GroupConversionRate,
        Metric::TimeOnPage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Visitors => "visitors",
            Metric::Visits => "visits",
            Metric::Pageviews => "pageviews",
            Metric::ViewsPerVisit => "views_per_visit",
            Metric::BounceRate => "bounce_rate",
            Metric::VisitDuration => "visit_duration",
            Metric::Events => "events",
            Metric::Percentage => "percentage",
            Metric::ConversionRate => "conversion_rate",
            Metric::ScrollDepth => "scroll_depth",
            Metric::GroupConversionRate => "group_conversion_rate",
            Metric::TimeOnPage => "time_on_page",
        }
    }

    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Metrics of visits (a visit's pageviews, length, whether it bounced).
    pub fn is_visit_metric(self) -> bool {
        matches!(
            self,
            Metric::Visits | Metric::BounceRate | Metric::VisitDuration | Metric::ViewsPerVisit
        )
    }
}

/// Time buckets of the `time` dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// `time`: chosen from the date range.
    Auto,
    Hour,
    Day,
    Week,
    Month,
}

/// A dimension, by its API name; `event:props:<key>` carries its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dimension {
    Event(EventDimension),
    Prop(String),
    Visit(VisitDimension),
    Time(Granularity),
}

/// Dimensions of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventDimension {
    Name,
    Page,
    Hostname,
    Goal,
}

/// Dimensions of a visit (from its first event, or its last for the exit page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VisitDimension {
    Source,
    Referrer,
    UtmMedium,
    UtmSource,
    UtmCampaign,
    UtmContent,
    UtmTerm,
    Device,
    Browser,
    BrowserVersion,
    Os,
    OsVersion,
    Country,
    EntryPage,
    ExitPage,
    /// Plausible's acquisition channel (Organic Search, Referral, Direct, …).
    Channel,
}

const EVENT_DIMENSIONS: [(&str, EventDimension); 4] = [
    ("event:name", EventDimension::Name),
    ("event:page", EventDimension::Page),
    ("event:hostname", EventDimension::Hostname),
    ("event:goal", EventDimension::Goal),
];

const VISIT_DIMENSIONS: [(&str, VisitDimension); 16] = [
    ("visit:source", VisitDimension::Source),
    ("visit:referrer", VisitDimension::Referrer),
    ("visit:utm_medium", VisitDimension::UtmMedium),
    ("visit:utm_source", VisitDimension::UtmSource),
    ("visit:utm_campaign", VisitDimension::UtmCampaign),
    ("visit:utm_content", VisitDimension::UtmContent),
    ("visit:utm_term", VisitDimension::UtmTerm),
    ("visit:device", VisitDimension::Device),
    ("visit:browser", VisitDimension::Browser),
    ("visit:browser_version", VisitDimension::BrowserVersion),
    ("visit:os", VisitDimension::Os),
    ("visit:os_version", VisitDimension::OsVersion),
    ("visit:country", VisitDimension::Country),
    ("visit:entry_page", VisitDimension::EntryPage),
    ("visit:exit_page", VisitDimension::ExitPage),
    ("visit:channel", VisitDimension::Channel),
];

const TIME_DIMENSIONS: [(&str, Granularity); 5] = [
    ("time", Granularity::Auto),
    ("time:hour", Granularity::Hour),
    ("time:day", Granularity::Day),
    ("time:week", Granularity::Week),
    ("time:month", Granularity::Month),
];

impl Dimension {
    pub fn parse(name: &str) -> Option<Dimension> {
        if let Some(key) = name.strip_prefix("event:props:") {
            // a longer key than a row may hold cannot match anything
            return (!key.is_empty() && key.len() <= MAX_PROP_KEY_BYTES)
                .then(|| Dimension::Prop(key.to_string()));
        }
        let event = EVENT_DIMENSIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| Dimension::Event(*d));
        let visit = || {
            VISIT_DIMENSIONS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| Dimension::Visit(*d))
        };
        let time = || {
            TIME_DIMENSIONS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, g)| Dimension::Time(*g))
        };
        event.or_else(visit).or_else(time)
    }

    pub fn name(&self) -> String {
        match self {
            Dimension::Prop(key) => format!("event:props:{key}"),
            Dimension::Event(d) => lookup(&EVENT_DIMENSIONS, d).to_string(),
            Dimension::Visit(d) => lookup(&VISIT_DIMENSIONS, d).to_string(),
            Dimension::Time(g) => lookup(&TIME_DIMENSIONS, g).to_string(),
        }
    }

    pub fn is_time(&self) -> bool {
        matches!(self, Dimension::Time(_))
    }

    /// Properties of each event: its name, page, props, time.
    pub fn is_event_level(&self) -> bool {
        matches!(
            self,
            Dimension::Event(_) | Dimension::Prop(_) | Dimension::Time(_)
        )
    }

    /// Properties of a visit, taken from its first (or, for the exit page,
    /// last) event: they may differ between one visitor's visits.
    pub fn is_visit_level(&self) -> bool {
        matches!(
            self,
            Dimension::Visit(
                VisitDimension::Source
                    | VisitDimension::Referrer
                    | VisitDimension::UtmMedium
                    | VisitDimension::UtmSource
                    | VisitDimension::UtmCampaign
                    | VisitDimension::UtmContent
                    | VisitDimension::UtmTerm
                    | VisitDimension::EntryPage
                    | VisitDimension::ExitPage
                    | VisitDimension::Channel
            )
        )
    }

    /// The visitor's own properties: the visitor id hashes the User-Agent and
    /// the IP, so device, browser, OS and country are the same on all of one
    /// visitor's events.
    pub fn is_visitors_own(&self) -> bool {
        matches!(
            self,
            Dimension::Visit(
                VisitDimension::Device
                    | VisitDimension::Browser
                    | VisitDimension::BrowserVersion
                    | VisitDimension::Os
                    | VisitDimension::OsVersion
                    | VisitDimension::Country
            )
        )
    }
}

fn lookup<T: PartialEq>(table: &[(&'static str, T)], value: &T) -> &'static str {
    table
        .iter()
        .find(|(_, v)| v == value)
        .map_or("", |(name, _)| name)
}

/// Every dimension name, for error messages and documentation.
pub fn dimension_names() -> impl Iterator<Item = &'static str> {
    EVENT_DIMENSIONS
        .iter()
        .map(|(n, _)| *n)
        .chain(std::iter::once("event:props:<key>"))
        .chain(VISIT_DIMENSIONS.iter().map(|(n, _)| *n))
        .chain(TIME_DIMENSIONS.iter().map(|(n, _)| *n))
}

/// A filter's comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Is,
    IsNot,
    Contains,
    ContainsNot,
    Matches,
    MatchesNot,
}

impl Operator {
    pub const ALL: [Operator; 6] = [
        Operator::Is,
        Operator::IsNot,
        Operator::Contains,
        Operator::ContainsNot,
        Operator::Matches,
        Operator::MatchesNot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operator::Is => "is",
            Operator::IsNot => "is_not",
            Operator::Contains => "contains",
            Operator::ContainsNot => "contains_not",
            Operator::Matches => "matches",
            Operator::MatchesNot => "matches_not",
        }
    }

    pub fn parse(name: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.name() == name)
    }

    /// The positive operator a negative one negates (`is_not` → `is`);
    /// `None` for a positive one.
    pub fn positive(self) -> Option<Operator> {
        match self {
            Operator::IsNot => Some(Operator::Is),
            Operator::ContainsNot => Some(Operator::Contains),
            Operator::MatchesNot => Some(Operator::Matches),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dimension_belongs_to_one_level() {
        for name in dimension_names().filter(|n| !n.contains('<')) {
            let d = Dimension::parse(name).unwrap();
            let levels = [d.is_event_level(), d.is_visit_level(), d.is_visitors_own()];
            assert_eq!(levels.iter().filter(|l| **l).count(), 1, "{name}");
        }
    }

    #[test]
    fn every_name_parses_back_to_itself() {
        for metric in Metric::ALL {
            assert_eq!(Metric::parse(metric.name()), Some(metric));
        }
        for operator in Operator::ALL {
            assert_eq!(Operator::parse(operator.name()), Some(operator));
        }
        for name in dimension_names().filter(|n| !n.contains('<')) {
            assert_eq!(
                Dimension::parse(name).map(|d| d.name()).as_deref(),
                Some(name)
            );
        }
        assert_eq!(
            Dimension::parse("event:props:language"),
            Some(Dimension::Prop("language".into()))
        );
    }

    #[test]
    fn unknown_names_do_not_parse() {
        assert_eq!(Metric::parse("Visitors"), None);
        assert_eq!(Dimension::parse("visit:city"), None);
        assert_eq!(Dimension::parse("event:props:"), None);
        assert_eq!(
            Dimension::parse(&format!("event:props:{}", "k".repeat(301))),
            None
        );
        assert_eq!(Operator::parse("="), None);
    }
}

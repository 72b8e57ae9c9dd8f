//! The expressions a statement is made of: each dimension over a row of
//! events (joined to its visit, where one is), each goal's condition, each
//! filter — every value bound, never spliced.

use crate::plan::granularity;
use crate::query::{Filter, Query};
use crate::range::{bucket, Resolved};
use crate::schema::{Dimension, EventDimension, Granularity, Operator, VisitDimension};
use model::settings::{Goal, Site};
use model::sql::Sql;
use model::tables::EVENTS;

/// A page goal's path pattern as an anchored RE2 expression: `**` any
/// characters, `*` any but `/` (Plausible's page goals).
pub fn page_pattern(path: &str) -> String {
    let mut out = String::from("^");
    let mut rest = path;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("**") {
            out.push_str(".*");
            rest = after;
            continue;
        }
        if c == '*' {
            out.push_str("[^/]*");
        } else if c.is_ascii_alphanumeric() || c == '/' || c == '-' || c == '_' {
            out.push(c);
        } else if c.is_ascii() {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push('$');
    out
}

/// The column an event dimension reads on an L1 row (`goal`: the goal a row
/// completes, joined by [`goal_join`]).
pub(super) fn event_column(dimension: EventDimension) -> &'static str {
    match dimension {
        EventDimension::Name => "name",
        EventDimension::Page => "pathname",
        EventDimension::Hostname => "hostname",
        EventDimension::Goal => "goal",
    }
}

/// The column a visit dimension reads on an L1 row: the visit's own
/// (`s_…`, from the stored visits), or the visitor's, which every event carries.
pub(super) fn visit_column(dimension: VisitDimension) -> &'static str {
    match dimension {
        VisitDimension::Source => "s_source",
        VisitDimension::Referrer => "s_referrer",
        VisitDimension::UtmMedium => "s_utm_medium",
        VisitDimension::UtmSource => "s_utm_source",
        VisitDimension::UtmCampaign => "s_utm_campaign",
        VisitDimension::UtmContent => "s_utm_content",
        VisitDimension::UtmTerm => "s_utm_term",
        VisitDimension::Device => "device",
        VisitDimension::Browser => "browser",
        VisitDimension::BrowserVersion => "browser_version",
        VisitDimension::Os => "operating_system",
        VisitDimension::OsVersion => "operating_system_version",
        VisitDimension::Country => "country_code",
        VisitDimension::EntryPage => "s_entry_page",
        VisitDimension::ExitPage => "s_exit_page",
        VisitDimension::Channel => "s_channel",
    }
}

/// A statement being written: its bound values, and the expressions of its
/// dimensions, goals and filters over a row of events joined to visits.
pub(super) struct Builder<'a> {
    pub sql: Sql,
    pub site: &'a Site,
    pub tz_p: String,
    /// `event:goal` is a dimension: rows are repeated per completed goal, as `goal`.
    pub goal_dimension: bool,
    /// Each group also carries `daily`, its visitors per UTC day (a
    /// `Map(Date, UInt64)`), which the privacy guard reads: the site has a
    /// minimum group size.
    pub daily: bool,
}

impl<'a> Builder<'a> {
    /// A statement for `query` on `site`, its time zone bound first.
    pub fn new(site: &'a Site, query: &Query) -> Builder<'a> {
        let mut sql = Sql::default();
        let tz_p = sql.bind("String", &site.timezone);
        Builder {
            sql,
            site,
            tz_p,
            goal_dimension: query
                .dimensions
                .contains(&Dimension::Event(EventDimension::Goal)),
            daily: site.min_group_size > 1,
        }
    }

    /// The expression of a dimension on an L1 row. Each event and visit
    /// dimension reads one column ([`event_column`], [`visit_column`]), and
    /// gives back a value it already gave (rolled days rely on it).
    pub fn dimension(&mut self, dimension: &Dimension, range: &Resolved) -> String {
        match dimension {
            Dimension::Event(e) => event_column(*e).into(),
            Dimension::Prop(key) => {
                let key_p = self.sql.bind("String", key);
                format!("if(has(`meta.key`, {key_p}), `meta.value`[indexOf(`meta.key`, {key_p})], '(none)')")
            }
            Dimension::Visit(v) => {
                let column = visit_column(*v);
                match v {
                    VisitDimension::Source | VisitDimension::Referrer => {
                        format!("if({column} = '', 'Direct / None', {column})")
                    }
                    VisitDimension::Country => format!("replaceAll(toString({column}), '\\0', '')"),
                    _ => column.into(),
                }
            }
            Dimension::Time(_) => {
                let g = granularity(dimension, range).unwrap_or(Granularity::Day);
                bucket(g, "timestamp", &self.tz_p)
            }
        }
    }

    /// Whether a row completes goal `goal`.
    pub fn goal_condition(&mut self, goal: &Goal) -> String {
        match goal {
            Goal::Event { event_name } => {
                let p = self.sql.bind("String", event_name);
                format!("name = {p}")
            }
            Goal::Page { page_path } => {
                let p = self.sql.bind("String", &page_pattern(page_path));
                format!("(name = 'pageview' AND match(pathname, {p}))")
            }
        }
    }

    /// Whether `expression` (a dimension's value) is one a positive
    /// operator keeps: the privacy guard's test of a breakdown's rows.
    pub fn keeps(
        &mut self,
        operator: Operator,
        expression: &str,
        values: &[String],
        case_sensitive: bool,
    ) -> String {
        let placeholders = self.bind_values(values);
        Self::compare(operator, expression, &placeholders, case_sensitive)
    }

    /// Placeholders for a filter's values, bound once however often used.
    fn bind_values(&mut self, values: &[String]) -> Vec<String> {
        values.iter().map(|v| self.sql.bind("String", v)).collect()
    }

    /// `expression` compared with the bound values by a positive operator.
    /// `case_sensitive: false` compares both sides in lower case (UTF-8).
    fn compare(
        operator: Operator,
        expression: &str,
        placeholders: &[String],
        case_sensitive: bool,
    ) -> String {
        let parts: Vec<String> = placeholders
            .iter()
            .map(|p| match (operator, case_sensitive) {
                (Operator::Is | Operator::IsNot, true) => format!("{expression} = {p}"),
                (Operator::Is | Operator::IsNot, false) => {
                    format!("lowerUTF8({expression}) = lowerUTF8({p})")
                }
                (Operator::Contains | Operator::ContainsNot, true) => {
                    format!("position({expression}, {p}) > 0")
                }
                (Operator::Contains | Operator::ContainsNot, false) => {
                    format!("positionCaseInsensitiveUTF8({expression}, {p}) > 0")
                }
                (Operator::Matches | Operator::MatchesNot, _) => {
                    format!("match({expression}, {p})")
                }
            })
            .collect();
        format!("({})", parts.join(" OR "))
    }

    fn filter(&mut self, filter: &Filter, range: &Resolved) -> String {
        match filter {
            Filter::And(list) => self.all(list, range),
            Filter::Or(list) => {
                let parts: Vec<String> = list.iter().map(|f| self.filter(f, range)).collect();
                format!("({})", parts.join(" OR "))
            }
            Filter::Not(inner) => format!("NOT {}", self.filter(inner, range)),
            Filter::HasDone { inner, negated } => {
                // the visitor's other events of the range, by their own
                // columns (a goal by its condition, never a breakdown's row)
                let site_p = self.sql.bind("String", &self.site.domain);
                let from_p = self.sql.bind("UInt32", &range.from.to_string());
                let to_p = self.sql.bind("UInt32", &range.to.to_string());
                let goal_dimension = std::mem::replace(&mut self.goal_dimension, false);
                let condition = self.filter(inner, range);
                self.goal_dimension = goal_dimension;
                format!(
                    "{}visitor_id IN (SELECT visitor_id FROM {EVENTS} WHERE site_domain = {site_p} \
                     AND timestamp >= toDateTime({from_p}, 'UTC') AND timestamp < toDateTime({to_p}, 'UTC') \
                     AND name != 'engagement' AND {condition})",
                    if *negated { "NOT " } else { "" }
                )
            }
            Filter::Condition {
                operator,
                dimension,
                values,
                case_sensitive,
            } => {
                let positive = if *dimension == Dimension::Event(EventDimension::Goal)
                    && !self.goal_dimension
                {
                    // a row completing any goal whose name compares true
                    let goals = self.site.goals.clone();
                    let placeholders = self.bind_values(values);
                    let parts: Vec<String> = goals
                        .iter()
                        .map(|goal| {
                            let completes = self.goal_condition(goal);
                            let name_p = self.sql.bind("String", &goal.display_name());
                            let named =
                                Self::compare(*operator, &name_p, &placeholders, *case_sensitive);
                            format!("({completes} AND {named})")
                        })
                        .collect();
                    if parts.is_empty() {
                        "0".to_string()
                    } else {
                        format!("({})", parts.join(" OR "))
                    }
                } else {
                    let expression = self.dimension(dimension, range);
                    let placeholders = self.bind_values(values);
                    Self::compare(*operator, &expression, &placeholders, *case_sensitive)
                };
                match operator {
                    Operator::Is | Operator::Contains | Operator::Matches => positive,
                    _ => format!("NOT {positive}"),
                }
            }
        }
    }

    pub fn all(&mut self, list: &[Filter], range: &Resolved) -> String {
        if list.is_empty() {
            return "1".into();
        }
        let parts: Vec<String> = list.iter().map(|f| self.filter(f, range)).collect();
        format!("({})", parts.join(" AND "))
    }
}

/// The goals a row completes, as the `goal` column (rows completing none
/// are dropped), for a breakdown by `event:goal`.
pub(super) fn goal_join(b: &mut Builder) -> String {
    let goals = b.site.goals.clone();
    let items: Vec<String> = goals
        .iter()
        .map(|goal| {
            let completes = b.goal_condition(goal);
            let name_p = b.sql.bind("String", &goal.display_name());
            format!("if({completes}, {name_p}, '')")
        })
        .collect();
    format!(
        " ARRAY JOIN arrayFilter(g -> g != '', CAST([{}], 'Array(String)')) AS goal",
        items.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_patterns_are_anchored_globs() {
        assert_eq!(page_pattern("/docs/**"), "^/docs/.*$");
        assert_eq!(page_pattern("/catalog/*/about"), "^/catalog/[^/]*/about$");
        assert_eq!(page_pattern("/a.b?(c)"), "^/a\\.b\\?\\(c\\)$");
    }
}

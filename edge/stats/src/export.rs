//! `POST /api/v2/export`: a dashboard view (its range and filters) as
//! Plausible's CSV export, a zip of one CSV per panel. Each panel is a v2
//! query parsed by [`crate::query::parse`], so it is checked and answered
//! as any query is; here are the panels, the CSV text and the zip.

use crate::query::{self, fail, shown, Query, QueryError};
use model::settings::Site;
use serde_json::{json, Map, Value};
use std::io::Write;

/// The request's fields: a view is a site, a range and filters.
const FIELDS: [&str; 3] = ["site_id", "date_range", "filters"];

/// Custom properties exported, at most (each is one more query).
pub const MAX_EXPORTED_PROPS: usize = 20;

/// One panel: the file it goes to, the query, and the names of the
/// columns its dimensions fill (a fixed value first, for custom props).
#[derive(Debug, Clone)]
pub struct Panel {
    pub file: &'static str,
    pub query: Query,
    /// The metric columns' names, in the query's order.
    metrics: Vec<&'static str>,
    /// Column names of the dimensions, in order.
    dimension_columns: Vec<&'static str>,
    /// A first column with one value for every row (`property`).
    fixed: Option<(&'static str, String)>,
}

/// The panels, as Plausible's export names its files.
const PANELS: [(&str, &str, &str, &[&str]); 18] = [
    (
        "visitors.csv",
        "time",
        "date",
        &[
            "visitors",
            "pageviews",
            "visits",
            "views_per_visit",
            "bounce_rate",
            "visit_duration",
        ],
    ),
    (
        "sources.csv",
        "visit:source",
        "name",
        &["visitors", "bounce_rate", "visit_duration"],
    ),
    (
        "channels.csv",
        "visit:channel",
        "name",
        &["visitors", "bounce_rate", "visit_duration"],
    ),
    ("referrers.csv", "visit:referrer", "name", &["visitors"]),
    ("utm_mediums.csv", "visit:utm_medium", "name", &["visitors"]),
    ("utm_sources.csv", "visit:utm_source", "name", &["visitors"]),
    (
        "utm_campaigns.csv",
        "visit:utm_campaign",
        "name",
        &["visitors"],
    ),
    (
        "utm_contents.csv",
        "visit:utm_content",
        "name",
        &["visitors"],
    ),
    ("utm_terms.csv", "visit:utm_term", "name", &["visitors"]),
    (
        "pages.csv",
        "event:page",
        "name",
        &["visitors", "pageviews", "time_on_page", "scroll_depth"],
    ),
    (
        "entry_pages.csv",
        "visit:entry_page",
        "name",
        &["visitors", "visits", "bounce_rate", "visit_duration"],
    ),
    (
        "exit_pages.csv",
        "visit:exit_page",
        "name",
        &["visitors", "visits"],
    ),
    ("countries.csv", "visit:country", "name", &["visitors"]),
    ("devices.csv", "visit:device", "name", &["visitors"]),
    ("browsers.csv", "visit:browser", "name", &["visitors"]),
    ("operating_systems.csv", "visit:os", "name", &["visitors"]),
    (
        "conversions.csv",
        "event:goal",
        "name",
        &["visitors", "events", "conversion_rate"],
    ),
    ("custom_props.csv", "", "value", &["visitors", "events"]),
];

/// The panels of the view in `body` (`{site_id, date_range, filters}`) of
/// `site`: a 400 names the field when the view is not one.
pub fn panels(body: &[u8], site: &Site) -> Result<Vec<Panel>, QueryError> {
    let object = view(body)?;
    let mut panels = Vec::new();
    for (file, dimension, column, metrics) in PANELS {
        if file == "conversions.csv" && site.goals.is_empty() {
            continue;
        }
        let keys: Vec<Option<&String>> = if dimension.is_empty() {
            // only the props the site lets be listed (`breakdown_props`)
            site.props
                .iter()
                .filter(|p| site.may_list_prop(p))
                .take(MAX_EXPORTED_PROPS)
                .map(Some)
                .collect()
        } else {
            vec![None]
        };
        for key in keys {
            let dimension = match key {
                Some(key) => format!("event:props:{key}"),
                None => dimension.to_string(),
            };
            let mut body = object.clone();
            body.insert("metrics".into(), json!(metrics));
            body.insert("dimensions".into(), json!([dimension]));
            if dimension != "time" {
                body.insert(
                    "order_by".into(),
                    json!([[metrics[0], "desc"], [dimension, "asc"]]),
                );
            }
            body.insert("pagination".into(), json!({"limit": query::MAX_LIMIT}));
            let query = query::parse(Value::Object(body).to_string().as_bytes())?;
            panels.push(Panel {
                file,
                query,
                metrics: metrics.to_vec(),
                dimension_columns: vec![column],
                fixed: key.map(|k| ("property", k.clone())),
            });
        }
    }
    Ok(panels)
}

/// The site the view asks for, to check the reader may read it first.
pub fn site_id(body: &[u8]) -> Result<String, QueryError> {
    match view(body)?.get("site_id") {
        Some(Value::String(site)) if !site.is_empty() => Ok(site.clone()),
        Some(other) => fail(format!("site_id: {} is not a site", shown(other))),
        None => fail("site_id is required"),
    }
}

fn view(body: &[u8]) -> Result<Map<String, Value>, QueryError> {
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        _ => return fail("the body is not a JSON object"),
    };
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return fail(format!(
            "unknown field {unknown:?}: an export takes {}",
            FIELDS.join(", ")
        ));
    }
    Ok(object)
}

/// The most CSV text one export holds (a Worker's memory is 128 MB, and the
/// zip is made beside it): past it, a 413 asks for a narrower view.
pub const MAX_CSV_BYTES: usize = 32 * 1024 * 1024;

/// The CSV files, made one answer at a time (an answer is dropped once it is
/// a file's rows): `(file name, text)`, panels of one file under one header.
#[derive(Debug, Default)]
pub struct Files {
    files: Vec<(&'static str, String)>,
    bytes: usize,
}

impl Files {
    /// `answer`'s rows in `panel`'s file; `false` once the text passes
    /// [`MAX_CSV_BYTES`].
    pub fn add(&mut self, panel: &Panel, answer: &Value) -> bool {
        let index = match self.files.iter().position(|(name, _)| *name == panel.file) {
            Some(index) => index,
            None => {
                let header: Vec<&str> = panel
                    .fixed
                    .iter()
                    .map(|(name, _)| *name)
                    .chain(panel.dimension_columns.iter().copied())
                    .chain(panel.metrics.iter().copied())
                    .collect();
                self.files
                    .push((panel.file, format!("{}\r\n", header.join(","))));
                self.files.len() - 1
            }
        };
        let text = &mut self.files[index].1;
        let before = text.len();
        let rows = answer.get("results").and_then(Value::as_array);
        for row in rows.into_iter().flatten() {
            let cells = panel
                .fixed
                .iter()
                .map(|(_, value)| cell(&Value::String(value.clone())))
                .chain(list(row, "dimensions").map(cell))
                .chain(list(row, "metrics").map(cell))
                .collect::<Vec<_>>();
            text.push_str(&cells.join(","));
            text.push_str("\r\n");
        }
        self.bytes += text.len() - before;
        self.bytes <= MAX_CSV_BYTES
    }

    pub fn into_files(self) -> Vec<(&'static str, String)> {
        self.files
    }
}

fn list<'a>(row: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    row.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a
/// line break. Text a spreadsheet would run as a formula (a page path or a
/// prop value a visitor chose, starting with `=`, `+`, `-`, `@`) gets a
/// leading `'`, as OWASP's CSV injection advice says.
fn cell(value: &Value) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::String(text) => {
            if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{text}")
            } else {
                text.clone()
            }
        }
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The files as one zip (deflated).
pub fn zip(files: &[(&str, String)]) -> Result<Vec<u8>, String> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in files {
        writer
            .start_file(*name, options)
            .map_err(|e| e.to_string())?;
        writer
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let cursor = writer.finish().map_err(|e| e.to_string())?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::settings::Goal;

    /// The CSV files of the panels' answers, as the Worker adds them one by one.
    fn files(panels: &[Panel], answers: &[Value]) -> Vec<(&'static str, String)> {
        let mut files = Files::default();
        for (panel, answer) in panels.iter().zip(answers) {
            files.add(panel, answer);
        }
        files.into_files()
    }

    fn site() -> Site {
        let mut site = Site::new("portal.example");
        site.props = vec!["language".into(), "template".into()];
        site.goals = vec![Goal::Event {
            event_name: "Deploy Application".into(),
        }];
        site
    }

    #[test]
    fn a_view_is_one_query_per_panel() {
        let body = br#"{"site_id":"portal.example","date_range":"7d","filters":[["is","visit:country",["DE"]]]}"#;
        let panels = panels(body, &site()).unwrap();
        assert_eq!(panels.len(), 19, "17 panels, conversions, two props");
        assert!(panels.iter().all(|p| p.query.filters.len() == 1));
        assert_eq!(
            panels
                .iter()
                .filter(|p| p.file == "custom_props.csv")
                .count(),
            2
        );
        let without_goals = super::panels(body, &Site::new("portal.example")).unwrap();
        assert!(without_goals.iter().all(|p| p.file != "conversions.csv"));
        // a prop the site does not let be listed has no panel
        let allowlisted = Site {
            breakdown_props: Some(vec!["template".into()]),
            ..site()
        };
        let props: Vec<String> = super::panels(body, &allowlisted)
            .unwrap()
            .iter()
            .filter(|p| p.file == "custom_props.csv")
            .map(|p| crate::schema::Dimension::name(&p.query.dimensions[0]))
            .collect();
        assert_eq!(props, ["event:props:template"]);
        for (body, message) in [
            (&br#"{"site_id":"p","date_range":"7d","metrics":["visitors"]}"#[..], "unknown field \"metrics\": an export takes site_id, date_range, filters"),
            (br#"{"site_id":"p","date_range":"fortnight"}"#, "date_range: \"fortnight\" is not one of day, 7d, 30d, month, 6mo, 12mo, year, all or [from, to]"),
            (br#"[]"#, "the body is not a JSON object"),
        ] {
            let error = super::panels(body, &site()).unwrap_err();
            assert_eq!(error.0, message);
        }
    }

    #[test]
    fn answers_become_csv_files_safe_to_open() {
        let body = br#"{"site_id":"portal.example","date_range":"7d"}"#;
        let panels = panels(body, &site()).unwrap();
        let mut answers = vec![json!({"results": []}); panels.len()];
        answers[0] = json!({"results": [{"dimensions": ["2026-11-23"], "metrics": [3, 4, 3, 1.33, 67, 20]}]});
        answers[9] = json!({"results": [{"dimensions": ["/a,\"b\""], "metrics": [2, 2, 31, null]}, {"dimensions": ["=HYPERLINK(\"x\")"], "metrics": [1, 1, 5, 40]}]});
        let prop = panels
            .iter()
            .position(|p| p.file == "custom_props.csv")
            .unwrap();
        answers[prop] = json!({"results": [{"dimensions": ["nodejs"], "metrics": [5, 7]}]});
        answers[prop + 1] = json!({"results": [{"dimensions": ["express"], "metrics": [4, 4]}]});
        let files = files(&panels, &answers);
        let file = |name: &str| files.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(
            file("visitors.csv"),
            "date,visitors,pageviews,visits,views_per_visit,bounce_rate,visit_duration\r\n2026-11-23,3,4,3,1.33,67,20\r\n"
        );
        assert_eq!(
            file("pages.csv"),
            "name,visitors,pageviews,time_on_page,scroll_depth\r\n\"/a,\"\"b\"\"\",2,2,31,\r\n\"'=HYPERLINK(\"\"x\"\")\",1,1,5,40\r\n"
        );
        assert_eq!(
            file("custom_props.csv"),
            "property,value,visitors,events\r\nlanguage,nodejs,5,7\r\ntemplate,express,4,4\r\n"
        );
        let zipped = zip(&files).unwrap();
        assert_eq!(&zipped[..4], b"PK\x03\x04");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
        assert_eq!(archive.len(), files.len());
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("pages.csv").unwrap(), &mut text)
            .unwrap();
        assert_eq!(text, file("pages.csv"));
    }
}

//! The tracker's configuration, read once from the script tag's attributes (or
//! the npm `init()` options) by the JS adapter and validated here.

use crate::text::split;
use alloc::string::String;
use alloc::vec::Vec;

/// Optional features, one bit each, each with the one name that switches it
/// on: a `data-<name>` attribute or a `.<name>.` part of the script's file
/// name (Plausible's `script.hash.outbound-links.js` convention).
pub mod feature {
    use crate::text::split;

    /// The names, in bit order.
    pub const NAMES: [&str; 6] = ["hash", "outbound-links", "file-downloads", "tagged-events", "manual", "local"];

    /// Hash-based routing: pageviews on `hashchange`, payloads carry `h: 1`.
    pub const HASH: u32 = 1;
    /// `Outbound Link: Click` events.
    pub const OUTBOUND_LINKS: u32 = 1 << 1;
    /// `File Download` events.
    pub const FILE_DOWNLOADS: u32 = 1 << 2;
    /// Events from `plausible-event-*` CSS classes.
    pub const TAGGED_EVENTS: u32 = 1 << 3;
    /// No automatic pageviews: the page calls `plausible('pageview')`.
    pub const MANUAL: u32 = 1 << 4;
    /// Also send from localhost and automated browsers.
    pub const LOCAL: u32 = 1 << 5;

    /// The features named in a comma-separated list of words; `data-` prefixes
    /// are ignored and unknown words (other attributes) skipped.
    pub fn parse(words: &str) -> u32 {
        split(words, b',')
            .map(|word| word.trim())
            .map(|word| word.strip_prefix("data-").unwrap_or(word))
            .filter_map(|word| NAMES.iter().position(|name| *name == word))
            .fold(0, |mask, bit| mask | 1 << bit)
    }
}

/// The file extensions counted as downloads unless the page says otherwise
/// (Plausible's default list).
pub const DEFAULT_FILE_TYPES: &str =
    "pdf,xlsx,docx,txt,rtf,csv,exe,key,pps,ppt,pptx,7z,pkg,rar,gz,zip,avi,mov,mp4,mpeg,wmv,midi,mp3,wav,wma,dmg";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `d` of every payload: one domain, or several separated by commas.
    pub domain: String,
    /// Comma-separated globs; a matching pageview is not sent.
    pub exclude: Option<String>,
    /// Comma-separated globs; when set, only matching pageviews are sent.
    pub include: Option<String>,
    /// Extensions that make a link a file download.
    pub file_types: Vec<String>,
    features: u32,
}

impl Config {
    /// `file_types` replaces the default list; `add_file_types` extends it
    /// (Plausible's `file-types` and `add-file-types` attributes).
    pub fn new(
        domain: String,
        exclude: Option<String>,
        include: Option<String>,
        file_types: Option<String>,
        add_file_types: Option<String>,
        features: &str,
    ) -> Self {
        let mut types: Vec<String> = Vec::new();
        let mut add = |list: &str| types.extend(split(list, b',').filter(|t| !t.is_empty()).map(String::from));
        match (&file_types, &add_file_types) {
            (_, Some(extra)) => {
                add(extra);
                add(DEFAULT_FILE_TYPES);
            }
            (Some(only), None) => add(only),
            (None, None) => add(DEFAULT_FILE_TYPES),
        }
        Config {
            domain,
            exclude: exclude.filter(|s| !s.is_empty()),
            include: include.filter(|s| !s.is_empty()),
            file_types: types,
            features: feature::parse(features),
        }
    }

    pub fn has(&self, feature: u32) -> bool {
        self.features & feature != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn config(file_types: Option<&str>, add: Option<&str>) -> Config {
        Config::new(
            "a.b".to_string(),
            None,
            Some(String::new()),
            file_types.map(String::from),
            add.map(String::from),
            "data-domain,src,data-hash,script,manual,js",
        )
    }

    #[test]
    fn default_file_types_are_plausibles_26() {
        let c = config(None, None);
        assert_eq!(c.file_types.len(), 26);
        assert!(c.file_types.iter().any(|t| t == "dmg"));
    }

    #[test]
    fn file_types_replace_and_add_file_types_extend() {
        assert_eq!(config(Some("iso,img"), None).file_types, ["iso", "img"]);
        let added = config(Some("ignored"), Some("iso")).file_types;
        assert_eq!(added.len(), 27);
        assert_eq!(added[0], "iso");
    }

    #[test]
    fn feature_names_map_to_their_bits() {
        assert_eq!(feature::parse(""), 0);
        assert_eq!(feature::parse("data-hash,src,defer"), feature::HASH);
        assert_eq!(
            feature::parse("script, outbound-links ,file-downloads,data-tagged-events,local,js"),
            feature::OUTBOUND_LINKS | feature::FILE_DOWNLOADS | feature::TAGGED_EVENTS | feature::LOCAL
        );
        for (bit, name) in feature::NAMES.iter().enumerate() {
            assert_eq!(feature::parse(name), 1 << bit);
        }
    }

    #[test]
    fn features_and_empty_lists() {
        let c = config(None, None);
        assert!(c.has(feature::HASH) && c.has(feature::MANUAL));
        assert!(!c.has(feature::LOCAL));
        assert_eq!(c.include, None);
    }
}

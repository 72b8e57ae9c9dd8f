//! The tracker's configuration, read once from the script tag's attributes (or
//! the npm `init()` options) by the JS adapter and kept here.

use crate::text::{split, Text};

/// Optional features, one bit each, each with the one name that switches it
/// on: a `data-<name>` attribute or a `.<name>.` part of the script's file
/// name (Plausible's `script.hash.outbound-links.js` convention).
pub mod feature {

    /// The names, in bit order.
    pub const NAMES: [&str; 7] = [
        "hash",
        "outbound-links",
        "file-downloads",
        "tagged-events",
        "manual",
        "local",
        "form-submissions",
    ];

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
    /// `Form: Submission` for every valid form submitted (not tagged ones).
    pub const FORM_SUBMISSIONS: u32 = 1 << 6;

    /// The features this build holds: the runtime ones always, each optional
    /// one when its Cargo feature is on. [`super::Config::has`] masks with
    /// it, so a rule behind a feature left out is constant-false and its code
    /// is dropped from the Wasm.
    pub const COMPILED: u32 = HASH
        | MANUAL
        | LOCAL
        | if cfg!(feature = "links") {
            OUTBOUND_LINKS | FILE_DOWNLOADS
        } else {
            0
        }
        | if cfg!(feature = "tagged-events") {
            TAGGED_EVENTS
        } else {
            0
        }
        | if cfg!(feature = "form-submissions") {
            FORM_SUBMISSIONS
        } else {
            0
        };

    /// The features named in a comma-separated list of words; unknown words
    /// are skipped. The adapter does this in JS (its list of names is this
    /// one, taken at build time by scripts/lib/build.mjs): a Rust word
    /// matcher cost the Wasm ~770 bytes. The tests name features with it.
    #[cfg(test)]
    pub fn parse(words: &str) -> u32 {
        crate::text::split(words, b',')
            .filter_map(|word| NAMES.iter().position(|name| *name == word))
            .fold(0, |mask, bit| mask | 1 << bit)
    }
}

/// The file extensions counted as downloads unless the page says otherwise
/// (Plausible's default list; the npm build exports it from here).
pub const DEFAULT_FILE_TYPES: &str =
    "pdf,xlsx,docx,txt,rtf,csv,exe,key,pps,ppt,pptx,7z,pkg,rar,gz,zip,avi,mov,mp4,mpeg,wmv,midi,mp3,wav,wma,dmg";

/// The longest value of one setting; a longer one leaves the setting empty.
pub const MAX_SETTING: usize = 2048;

/// What the page chose, as the attributes gave it. (The domain is not here:
/// the adapter writes `d` into each payload.)
pub struct Settings<'a> {
    pub exclude: Option<&'a str>,
    pub include: Option<&'a str>,
    /// Replaces the default download extensions (`file-types`).
    pub file_types: Option<&'a str>,
    /// Extends the default download extensions (`add-file-types`).
    pub add_file_types: Option<&'a str>,
    /// The features the page turned on, as [`feature`] bits: the adapter sets
    /// bit n when the page's words hold [`feature::NAMES`]`[n]`.
    pub features: u32,
}

pub struct Config {
    /// Comma-separated globs; a matching pageview is not sent.
    exclude: Text<MAX_SETTING>,
    /// Comma-separated globs; when set, only matching pageviews are sent.
    include: Text<MAX_SETTING>,
    /// Comma-separated extensions that make a link a file download.
    file_types: Text<MAX_SETTING>,
    features: u32,
}

impl Config {
    pub const fn new() -> Self {
        Config {
            exclude: Text::new(),
            include: Text::new(),
            file_types: Text::new(),
            features: 0,
        }
    }

    /// Takes the page's settings (Plausible's attribute semantics: `file-types`
    /// replaces the default list, `add-file-types` extends it).
    pub fn set(&mut self, settings: &Settings) {
        if cfg!(feature = "exclusions") {
            self.exclude.set(settings.exclude.unwrap_or(""));
            self.include.set(settings.include.unwrap_or(""));
        }
        // the default extensions are only needed by a build that counts downloads
        if cfg!(feature = "links") {
            self.set_file_types(settings);
        }
        self.features = settings.features;
    }

    fn set_file_types(&mut self, settings: &Settings) {
        self.file_types.fill(|buf| {
            let mut w = crate::json::Writer::new(buf);
            match (settings.file_types, settings.add_file_types) {
                (_, Some(extra)) => {
                    w.raw(extra);
                    w.raw(",");
                    w.raw(DEFAULT_FILE_TYPES);
                }
                (Some(only), None) => w.raw(only),
                (None, None) => w.raw(DEFAULT_FILE_TYPES),
            }
            w.len()
        });
    }

    pub fn exclude(&self) -> Option<&str> {
        Some(self.exclude.as_str()).filter(|s| !s.is_empty())
    }

    pub fn include(&self) -> Option<&str> {
        Some(self.include.as_str()).filter(|s| !s.is_empty())
    }

    /// True when `extension` is one of the download extensions.
    pub fn is_file_type(&self, extension: &str) -> bool {
        split(self.file_types.as_str(), b',').any(|t| !t.is_empty() && t == extension)
    }

    /// Whether the page turned `feature` on and this build holds it.
    pub fn has(&self, feature: u32) -> bool {
        self.features & feature & feature::COMPILED != 0
    }

    /// Whether pageviews are checked against `data-exclude`/`data-include`
    /// (always when the page gave either; only in builds with exclusions).
    pub fn has_exclusions(&self) -> bool {
        cfg!(feature = "exclusions") && (self.exclude().is_some() || self.include().is_some())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn config(file_types: Option<&str>, add_file_types: Option<&str>) -> Config {
        let mut c = Config::new();
        c.set(&Settings {
            exclude: None,
            include: Some(""),
            file_types,
            add_file_types,
            features: feature::parse("domain,src,hash,script,manual,js"),
        });
        c
    }

    #[cfg(feature = "links")]
    #[test]
    fn default_file_types_are_plausibles_26() {
        let c = config(None, None);
        assert_eq!(DEFAULT_FILE_TYPES.split(',').count(), 26);
        assert!(c.is_file_type("dmg") && c.is_file_type("pdf"));
        assert!(!c.is_file_type("html") && !c.is_file_type(""));
    }

    #[cfg(feature = "links")]
    #[test]
    fn file_types_replace_and_add_file_types_extend() {
        let only = config(Some("iso,img"), None);
        assert!(only.is_file_type("iso") && !only.is_file_type("pdf"));
        let added = config(Some("ignored"), Some("iso"));
        assert!(
            added.is_file_type("iso")
                && added.is_file_type("pdf")
                && !added.is_file_type("ignored")
        );
        assert!(
            !config(Some(""), None).is_file_type(""),
            "an empty list matches nothing"
        );
    }

    #[test]
    fn feature_names_map_to_their_bits() {
        assert_eq!(feature::parse(""), 0);
        assert_eq!(feature::parse("hash,src,defer"), feature::HASH);
        assert_eq!(
            feature::parse("script,outbound-links,file-downloads,tagged-events,local,js"),
            feature::OUTBOUND_LINKS
                | feature::FILE_DOWNLOADS
                | feature::TAGGED_EVENTS
                | feature::LOCAL
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
        assert_eq!((c.include(), c.exclude()), (None, None));
    }

    #[test]
    fn a_setting_too_long_is_dropped_not_cut() {
        let mut c = Config::new();
        let long = "x".repeat(MAX_SETTING + 1);
        c.set(&Settings {
            exclude: Some(&long),
            include: None,
            file_types: None,
            add_file_types: None,
            features: 0,
        });
        assert_eq!(c.exclude(), None);
    }
}

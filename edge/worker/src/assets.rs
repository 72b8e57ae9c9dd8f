//! Plausible's script-name extensions: an existing Plausible snippet loads
//! `/js/script.hash.outbound-links.js` and the like. The static assets hold
//! one build of the tracker per combination of its optional features
//! (`script.js`, `script.links.js`, … as tracker/variants.json names them);
//! any other name reaches the Worker, which answers with the build holding
//! the features the name asks for (`routes/assets.rs`). The loader reads the
//! runtime ones (hash, manual, …) from the name the page used (and keeps
//! them when it switches to a larger build).

/// Whether `file` (a name under `/js/`) is `script.<extension>[.<extension>…].js`.
pub fn is_script_variant(file: &str) -> bool {
    let Some(extensions) = file
        .strip_prefix("script.")
        .and_then(|rest| rest.strip_suffix(".js"))
    else {
        return false;
    };
    !extensions.is_empty()
        && extensions.len() <= 200
        && extensions.split('.').all(|extension| {
            !extension.is_empty()
                && extension
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-')
        })
}

/// tracker/variants.json: each optional feature with the words that ask for it.
#[derive(serde::Deserialize)]
struct Variants {
    features: Vec<(String, Vec<String>)>,
}

const VARIANTS_JSON: &str = include_str!("../../../tracker/variants.json");

/// The build a Plausible script name (`script.<extensions>.js`) asks for:
/// `script[.<feature>…].js`, its optional features in tracker/variants.json's order.
pub fn build_for(file: &str) -> Option<String> {
    if !is_script_variant(file) {
        return None;
    }
    // the file is compiled in: a parse failure would fail every test below
    let variants: Variants = serde_json::from_str(VARIANTS_JSON).ok()?;
    let words: Vec<&str> = file.split('.').collect();
    let mut build = String::from("script");
    for (feature, asking) in &variants.features {
        if asking.iter().any(|word| words.contains(&word.as_str())) {
            build.push('.');
            build.push_str(feature);
        }
    }
    build.push_str(".js");
    Some(build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_served_as_the_build_with_the_features_it_asks_for() {
        for (name, build) in [
            ("script.hash.js", "script.js"),
            ("script.outbound-links.js", "script.links.js"),
            ("script.file-downloads.hash.js", "script.links.js"),
            (
                "script.tagged-events.outbound-links.exclusions.js",
                "script.exclusions.links.tagged-events.js",
            ),
            (
                "script.form-submissions.local.js",
                "script.form-submissions.js",
            ),
        ] {
            assert_eq!(build_for(name).as_deref(), Some(build), "{name}");
        }
        assert_eq!(build_for("script.js"), None);
        assert_eq!(build_for("other.hash.js"), None);
    }

    #[test]
    fn plausibles_names_and_nothing_else() {
        for name in [
            "script.hash.js",
            "script.outbound-links.js",
            "script.hash.outbound-links.tagged-events.js",
            "script.local.manual.js",
        ] {
            assert!(is_script_variant(name), "{name}");
        }
        for name in [
            "script.js",
            "script..js",
            "script.hash..js",
            "script.HASH.js",
            "script.hash.wasm",
            "other.hash.js",
            "script.hash/../x.js",
            "script.hash.js.map",
        ] {
            assert!(!is_script_variant(name), "{name}");
        }
    }
}

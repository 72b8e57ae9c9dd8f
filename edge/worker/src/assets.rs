//! Plausible's script-name extensions: an existing Plausible snippet loads
//! `/js/script.hash.outbound-links.js` and the like, which is our one
//! `/js/script.js` (the loader reads the features from its own name). The
//! static assets hold only that file, so such a name reaches the Worker,
//! which answers with it (`routes/assets.rs`).

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

#[cfg(test)]
mod tests {
    use super::*;

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

//! Structured logs: one JSON object a line, `{"level", "source", "message"}`,
//! which Cloudflare's Workers Logs, `wrangler tail`, Logpush and a
//! self-hosted collector (workerd writes them to its standard error) read as
//! they are. What a message holds is chosen by its caller, and never is an
//! address, a User-Agent or a secret (tests/edge.test.mjs reads every line).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// One log line; `source` is the route or handler (`event`, `stats`,
/// `admin`, `queue`, `retention`, …).
pub fn line(level: Level, source: &str, message: &str) -> String {
    let level = match level {
        Level::Info => "info",
        Level::Error => "error",
    };
    serde_json::json!({ "level": level, "source": source, "message": message }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object() {
        let text = line(
            Level::Error,
            "health",
            "TRUSTED_PROXY must be empty or \"forwarded\"\nnot x",
        );
        assert!(!text.contains('\n'), "one line");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["level"], "error");
        assert_eq!(parsed["source"], "health");
        assert_eq!(
            parsed["message"],
            "TRUSTED_PROXY must be empty or \"forwarded\"\nnot x"
        );
    }
}

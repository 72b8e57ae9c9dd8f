//! User-Agent → browser, browser version (major.minor), OS, OS version and
//! device class (Desktop / Mobile / Tablet), and whether it is a bot.
//!
//! Hand-written on purpose: the general parsers (ua-parser's regex list,
//! woothee) bring a regex engine into the Worker and compile patterns on a
//! cold start, against the free plan's 10 ms of CPU per request. This one
//! scans for a few dozen product tokens, in the order that disambiguates
//! them (Edge and Opera say "Chrome", Chrome says "Safari"); `docs/benchmarks.md`
//! compares it with woothee on the test table below.

/// What a row keeps of a User-Agent: the software, never the string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agent {
    pub browser: &'static str,
    pub browser_version: String,
    pub os: &'static str,
    pub os_version: String,
    pub device: &'static str,
}

/// Markers of crawlers, monitors, HTTP libraries and headless browsers,
/// matched case-insensitively (isbot's list is the inspiration; these are the
/// families seen in server logs of internal portals).
const BOT_MARKERS: [&str; 34] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "headless",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
    "webdriver",
    "lighthouse",
    "pagespeed",
    "pingdom",
    "uptime",
    "monitor",
    "statuscake",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "go-http-client",
    "okhttp",
    "java/",
    "apache-httpclient",
    "node-fetch",
    "axios/",
    "undici",
    "libwww",
    "scrapy",
    "facebookexternalhit",
    "preview",
    "feedfetcher",
];

/// True for crawlers, scripts and headless browsers (and for an empty UA).
pub fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.trim();
    if ua.len() < 8 {
        return true;
    }
    let lower = ua.to_ascii_lowercase();
    BOT_MARKERS.iter().any(|marker| lower.contains(marker))
}

pub fn parse(user_agent: &str) -> Agent {
    let (browser, browser_version) = browser(user_agent);
    let (os, os_version) = os(user_agent);
    Agent {
        browser,
        browser_version,
        os,
        os_version,
        device: device(user_agent, os),
    }
}

/// (name, token before the version) in precedence order.
const BROWSERS: [(&str, &str); 13] = [
    ("Microsoft Edge", "Edg/"),
    ("Microsoft Edge", "EdgA/"),
    ("Microsoft Edge", "EdgiOS/"),
    ("Opera", "OPR/"),
    ("Opera", "OPiOS/"),
    ("Samsung Browser", "SamsungBrowser/"),
    ("Yandex Browser", "YaBrowser/"),
    ("Vivaldi", "Vivaldi/"),
    ("Firefox", "Firefox/"),
    ("Firefox", "FxiOS/"),
    ("Chrome", "CriOS/"),
    ("Chrome", "Chrome/"),
    ("Safari", "Version/"),
];

fn browser(ua: &str) -> (&'static str, String) {
    for (name, token) in BROWSERS {
        if let Some(version) = version_after(ua, token) {
            // "Version/" is Safari only when the UA says Safari and no other engine claimed it
            if token == "Version/" && !ua.contains("Safari/") {
                continue;
            }
            return (name, version);
        }
    }
    ("", String::new())
}

fn os(ua: &str) -> (&'static str, String) {
    if let Some(rest) = after(ua, "Windows NT ") {
        let version = match leading_version(rest).as_str() {
            "10.0" => "10", // Windows 11 reports 10.0 too
            "6.3" => "8.1",
            "6.2" => "8",
            "6.1" => "7",
            _ => "",
        };
        return ("Windows", version.to_string());
    }
    if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
        let version = after(ua, " OS ")
            .map(|rest| leading_version(&rest.replace('_', ".")))
            .unwrap_or_default();
        return ("iOS", version);
    }
    if let Some(rest) = after(ua, "Android ") {
        return ("Android", leading_version(rest));
    }
    if ua.contains("CrOS") {
        return ("Chrome OS", String::new());
    }
    if let Some(rest) = after(ua, "Mac OS X ") {
        return ("Mac", leading_version(&rest.replace('_', ".")));
    }
    if ua.contains("Linux") || ua.contains("X11") {
        return ("GNU/Linux", String::new());
    }
    ("", String::new())
}

fn device(ua: &str, os: &str) -> &'static str {
    let tablet =
        ua.contains("iPad") || ua.contains("Tablet") || (os == "Android" && !ua.contains("Mobile"));
    if tablet {
        "Tablet"
    } else if ua.contains("Mobi") || ua.contains("iPhone") || ua.contains("iPod") {
        "Mobile"
    } else {
        "Desktop"
    }
}

fn after<'a>(ua: &'a str, token: &str) -> Option<&'a str> {
    ua.find(token).map(|i| &ua[i + token.len()..])
}

fn version_after(ua: &str, token: &str) -> Option<String> {
    after(ua, token)
        .map(leading_version)
        .filter(|v| !v.is_empty())
}

/// "131.0.6778.85 Safari" → "131.0"; "17_4_1" must be given with dots.
fn leading_version(text: &str) -> String {
    let digits: String = text
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = digits.split('.').filter(|p| !p.is_empty());
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        (Some(major), None) => format!("{major}.0"),
        _ => String::new(),
    }
}

/// Real User-Agents of current browsers (2025–2026) with what they must give;
/// shared with the benchmark that compares parsers.
pub const KNOWN: [(&str, Expected); 16] = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", ("Chrome", "131.0", "Windows", "Desktop")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", ("Microsoft Edge", "131.0", "Windows", "Desktop")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", ("Firefox", "133.0", "Windows", "Desktop")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15", ("Safari", "18.2", "Mac", "Desktop")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", ("Chrome", "131.0", "Mac", "Desktop")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0", ("Firefox", "133.0", "Mac", "Desktop")),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", ("Chrome", "131.0", "GNU/Linux", "Desktop")),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", ("Firefox", "133.0", "GNU/Linux", "Desktop")),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", ("Chrome", "131.0", "Chrome OS", "Desktop")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1", ("Safari", "18.2", "iOS", "Mobile")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", ("Chrome", "131.0", "iOS", "Mobile")),
    ("Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", ("Safari", "17.7", "iOS", "Tablet")),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", ("Chrome", "131.0", "Android", "Mobile")),
    ("Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", ("Chrome", "131.0", "Android", "Tablet")),
    ("Mozilla/5.0 (Linux; Android 14; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36", ("Samsung Browser", "27.0", "Android", "Mobile")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0", ("Opera", "116.0", "Windows", "Desktop")),
];

/// (browser, browser version, OS, device) as the table states them.
pub type Expected = (&'static str, &'static str, &'static str, &'static str);

/// Bots, monitors and scripts that must be dropped.
pub const BOTS: [&str; 10] = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/2.0",
    "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_browsers_are_named_with_major_minor_versions() {
        for (ua, (browser, version, os, device)) in KNOWN {
            let agent = parse(ua);
            assert_eq!(
                (
                    agent.browser,
                    agent.browser_version.as_str(),
                    agent.os,
                    agent.device
                ),
                (browser, version, os, device),
                "{ua}"
            );
            assert!(!is_bot(ua), "not a bot: {ua}");
        }
    }

    #[test]
    fn os_versions() {
        assert_eq!(parse(KNOWN[9].0).os_version, "18.2");
        assert_eq!(parse(KNOWN[3].0).os_version, "10.15");
        assert_eq!(parse(KNOWN[12].0).os_version, "10.0");
        assert_eq!(parse(KNOWN[0].0).os_version, "10");
    }

    #[test]
    fn bots_scripts_and_headless_browsers_are_bots() {
        for ua in BOTS {
            assert!(is_bot(ua), "{ua}");
        }
    }

    #[test]
    fn nothing_panics_on_odd_input() {
        for ua in [
            "Version/",
            "Chrome/",
            "Android ",
            "Windows NT ",
            "é Chrome/é",
            "Mozilla/5.0 (iPhone; CPU iPhone OS _ like",
        ] {
            let _ = parse(ua);
        }
    }
}

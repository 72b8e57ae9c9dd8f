//! The User-Agent parser, hand-written (ingest/src/enrich/user_agent.rs), against
//! woothee on the same table of current browsers and bots: accuracy, and time
//! per User-Agent (cold: the first parse, which includes any lazy set-up; and
//! warm). `cargo bench -p ingest --bench user_agent`.

use ingest::enrich::user_agent::{is_bot, parse, BOTS, KNOWN};
use std::hint::black_box;
use std::time::Instant;

fn woothee_device(category: &str, ua: &str) -> &'static str {
    match category {
        "pc" => "Desktop",
        "smartphone" | "mobilephone"
            if ua.contains("iPad") || (ua.contains("Android") && !ua.contains("Mobile")) =>
        {
            "Tablet"
        }
        "smartphone" | "mobilephone" => "Mobile",
        _ => "Other",
    }
}

fn main() {
    let woothee = woothee::parser::Parser::new();

    // cold start: the first call of each
    let start = Instant::now();
    black_box(parse(KNOWN[0].0));
    let ours_cold = start.elapsed();
    let start = Instant::now();
    black_box(woothee.parse(KNOWN[0].0));
    let woothee_cold = start.elapsed();

    let (mut ours_right, mut woothee_right) = (0, 0);
    for (ua, (browser, _, os, device)) in KNOWN {
        let ours = parse(ua);
        ours_right += usize::from(ours.browser == browser)
            + usize::from(ours.os == os)
            + usize::from(ours.device == device);
        if let Some(w) = woothee.parse(ua) {
            let w_browser = match w.name {
                "Chrome" => "Chrome",
                "Firefox" => "Firefox",
                "Safari" => "Safari",
                "Edge" => "Microsoft Edge",
                "Opera" => "Opera",
                "SamsungBrowser" => "Samsung Browser",
                other => other,
            };
            let w_os = match w.os {
                "Windows 10" | "Windows 11" => "Windows",
                "Mac OSX" => "Mac",
                "iPhone" | "iPad" => "iOS",
                "Linux" => "GNU/Linux",
                "ChromeOS" => "Chrome OS",
                other => other,
            };
            woothee_right += usize::from(w_browser == browser)
                + usize::from(w_os == os)
                + usize::from(woothee_device(w.category, ua) == device);
        }
    }
    let ours_bots = BOTS.iter().filter(|ua| is_bot(ua)).count();
    let woothee_bots = BOTS
        .iter()
        .filter(|ua| woothee.parse(ua).is_none_or(|r| r.category == "crawler"))
        .count();

    let rounds = 20_000;
    let start = Instant::now();
    for _ in 0..rounds {
        for (ua, _) in KNOWN {
            black_box(parse(black_box(ua)));
            black_box(is_bot(black_box(ua)));
        }
    }
    let ours_warm = start.elapsed().as_secs_f64() * 1e9 / (rounds * KNOWN.len()) as f64;
    let start = Instant::now();
    for _ in 0..rounds {
        for (ua, _) in KNOWN {
            black_box(woothee.parse(black_box(ua)));
        }
    }
    let woothee_warm = start.elapsed().as_secs_f64() * 1e9 / (rounds * KNOWN.len()) as f64;

    let fields = KNOWN.len() * 3;
    println!("parser       | browser+OS+device right | bots caught | first parse | per UA (warm)");
    println!("hand-written | {ours_right:>3}/{fields}                  | {ours_bots:>2}/{}       | {:>8.1} µs | {ours_warm:>7.0} ns", BOTS.len(), ours_cold.as_secs_f64() * 1e6);
    println!("woothee      | {woothee_right:>3}/{fields}                  | {woothee_bots:>2}/{}       | {:>8.1} µs | {woothee_warm:>7.0} ns", BOTS.len(), woothee_cold.as_secs_f64() * 1e6);
}

//! Bad and hostile request bodies through the pipeline's [`admit`], each with
//! the exact answer it gets: invalid → 400 naming the field; dropped → 202
//! with `x-plausible-dropped`; and no panic on any bytes.

use crate::answer::{accepted, refused, Answer};
use crate::enrich::user_agent::KNOWN;
use crate::pipeline::{admit, Admitted, Refused};

/// A current desktop browser: these bodies are judged on their content.
const BROWSER: &str = KNOWN[0].0;

fn judge(body: &[u8]) -> (Result<Admitted, Refused>, Answer) {
    let verdict = admit(body, |domain| domain == "portal.example", BROWSER);
    let answer = match &verdict {
        Ok(_) => accepted(),
        Err(refusal) => refused(refusal),
    };
    (verdict, answer)
}

const OK: &str = "ok";
const PAGE: &str = r#""u":"https://portal.example/catalog","d":"portal.example""#;

fn body(json: &str) -> Vec<u8> {
    json.as_bytes().to_vec()
}

fn event(fields: &str) -> Vec<u8> {
    body(&format!(r#"{{"n":"pageview",{PAGE}{fields}}}"#))
}

fn engagement(fields: &str) -> Vec<u8> {
    body(&format!(r#"{{"n":"engagement",{PAGE}{fields}}}"#))
}

/// (what, body, status, dropped, exact answer body)
fn cases() -> Vec<(&'static str, Vec<u8>, u16, bool, String)> {
    let err = |field: &str, message: &str| {
        serde_json::json!({ "errors": { field: [message] } }).to_string()
    };
    let big_props: String = (0..31)
        .map(|i| format!(r#""k{i}":"v""#))
        .collect::<Vec<_>>()
        .join(",");
    let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
    vec![
        ("a pageview from our tracker", event(r#","r":null,"v":1"#), 202, false, OK.into()),
        ("Plausible's Events API long names", body(r#"{"name":"Signup","url":"https://portal.example/","domain":"portal.example","props":{"plan":"team"}}"#), 202, false, OK.into()),
        ("an unknown site is dropped", body(r#"{"n":"pageview","u":"https://evil.example/","d":"evil.example"}"#), 202, true, OK.into()),
        ("referrer spam is dropped", event(r#","r":"http://www.semalt.com/crawler.php?u=portal.example""#), 202, true, OK.into()),
        ("a subdomain of a spammer too", event(r#","r":"https://x.darodar.com/""#), 202, true, OK.into()),
        ("several domains, one configured", body(r#"{"n":"pageview","u":"https://portal.example/","d":"rollup.example,portal.example"}"#), 202, false, OK.into()),
        ("www. is not part of a domain", body(r#"{"n":"pageview","u":"https://portal.example/","d":"WWW.Portal.Example"}"#), 202, false, OK.into()),
        ("an empty body", body(""), 400, false, err("request", "the body is not valid JSON: EOF while parsing a value at line 1 column 0")),
        ("cut-off JSON", body(r#"{"n":"#), 400, false, err("request", "the body is not valid JSON: EOF while parsing a value at line 1 column 5")),
        ("a JSON array", body("[]"), 400, false, err("request", "the body must be a JSON object")),
        ("a JSON string", body(r#""pageview""#), 400, false, err("request", "the body must be a JSON object")),
        ("JSON null", body("null"), 400, false, err("request", "the body must be a JSON object")),
        ("a number", body("42"), 400, false, err("request", "the body must be a JSON object")),
        ("invalid UTF-8 inside a string", [&br#"{"n":"page"#[..], &[0xff, 0xfe], &br#"","u":"https://portal.example/","d":"portal.example"}"#[..]].concat(), 400, false, err("request", "the body is not valid JSON: invalid unicode code point at line 1 column 11")),
        ("a lone UTF-16 surrogate escape", body(r#"{"n":"\ud800","u":"x"}"#), 400, false, err("request", "the body is not valid JSON: unexpected end of hex escape at line 1 column 13")),
        ("more than 1 MB", event(&format!(r#","r":"{}""#, "x".repeat(1024 * 1024))), 400, false, err("request", "the body is larger than 1048576 bytes")),
        ("nesting 200 deep", body(&format!(r#"{{"n":"x","p":{nested}}}"#)), 400, false, err("request", "the body is not valid JSON: recursion limit exceeded at line 1 column 140")),
        ("n and name both", body(r#"{"n":"a","name":"b","u":"https://portal.example/","d":"portal.example"}"#), 400, false, err("request", "the body is not valid JSON: duplicate field `n`")),
        ("no name", body(&format!("{{{PAGE}}}")), 400, false, err("name", "is required")),
        ("a numeric name", body(&format!(r#"{{"n":7,{PAGE}}}"#)), 400, false, err("name", "must be a string")),
        ("a blank name", body(&format!(r#"{{"n":"  ",{PAGE}}}"#)), 400, false, err("name", "can't be blank")),
        ("a 121-character name", body(&format!(r#"{{"n":"{}",{PAGE}}}"#, "é".repeat(121))), 400, false, err("name", "must be at most 120 characters")),
        ("a 120-character name", body(&format!(r#"{{"n":"{}",{PAGE}}}"#, "é".repeat(120))), 202, false, OK.into()),
        ("no url", body(r#"{"n":"pageview","d":"portal.example"}"#), 400, false, err("url", "is required")),
        ("a url that is no URL", body(r#"{"n":"pageview","u":"/relative/path","d":"portal.example"}"#), 400, false, err("url", "is not a valid URL (relative URL without a base)")),
        ("a data: URL", body(r#"{"n":"pageview","u":"data:text/html,<script>alert(1)</script>","d":"portal.example"}"#), 400, false, err("url", "must not be a data: URL")),
        ("a javascript: URL", body(r#"{"n":"pageview","u":"javascript:alert(1)","d":"portal.example"}"#), 400, false, err("url", "must not be a javascript: URL")),
        ("a 2,001-byte URL", body(&format!(r#"{{"n":"pageview","u":"https://portal.example/{}","d":"portal.example"}}"#, "a".repeat(1978))), 400, false, err("url", "must be at most 2000 bytes")),
        ("no domain", body(r#"{"n":"pageview","u":"https://portal.example/"}"#), 400, false, err("domain", "is required")),
        ("a domain of commas", body(r#"{"n":"pageview","u":"https://portal.example/","d":" , ,"}"#), 400, false, err("domain", "can't be blank")),
        ("a domain list as an array", body(r#"{"n":"pageview","u":"https://portal.example/","d":["portal.example"]}"#), 400, false, err("domain", "must be a string")),
        ("a numeric referrer", event(r#","r":404"#), 400, false, err("referrer", "must be a string or null")),
        ("a 5,000-byte referrer is cut, not refused", event(&format!(r#","r":"https://ref.example/{}""#, "r".repeat(5000))), 202, false, OK.into()),
        ("props as an array", event(r#","p":["a","b"]"#), 400, false, err("props", "must be an object")),
        ("31 props: the first 30 are kept", event(&format!(r#","p":{{{big_props}}}"#)), 202, false, OK.into()),
        ("a 301-byte prop key", event(&format!(r#","p":{{"{}":"v"}}"#, "k".repeat(301))), 400, false, err("props", "keys must be at most 300 bytes")),
        ("a 2,001-byte prop value", event(&format!(r#","p":{{"k":"{}"}}"#, "v".repeat(2001))), 400, false, err("props", "values must be at most 2000 bytes (\"k\" is not)")),
        ("list and map prop values are dropped", event(r#","p":{"a":[1],"b":{"c":1},"d":"kept"}"#), 202, false, OK.into()),
        ("legacy props as a JSON string", event(r#","p":"{\"plan\":\"team\"}""#), 202, false, OK.into()),
        ("props as a string that is not JSON", event(r#","p":"plan=team""#), 400, false, err("props", "must be an object")),
        ("an empty revenue object (Plausible's tagged events)", event(r#","$":{}"#), 202, false, OK.into()),
        ("revenue with a word for an amount", event(r#","$":{"amount":"ten","currency":"EUR"}"#), 400, false, err("revenue", "amount must be a number")),
        ("revenue with a 4-letter currency", event(r#","$":{"amount":10,"currency":"EURO"}"#), 400, false, err("revenue", "currency must be a 3-letter ISO 4217 code")),
        ("revenue beyond Decimal(18, 3)", event(r#","$":{"amount":"1000000000000000000","currency":"USD"}"#), 400, false, err("revenue", "amount must be less than 10^15 in magnitude")),
        ("revenue beyond Decimal(18, 3), as a JSON number", event(r#","$":{"amount":1e300,"currency":"USD"}"#), 400, false, err("revenue", "amount must be less than 10^15 in magnitude")),
        ("the same site thirty times is one site", body(&format!(r#"{{"n":"pageview","u":"https://portal.example/","d":"{}"}}"#, ["portal.example"; 30].join(","))), 202, false, OK.into()),
        ("more sites than an event may name", body(&format!(r#"{{"n":"pageview","u":"https://portal.example/","d":"portal.example,{}"}}"#, (0..10).map(|i| format!("s{i}.example")).collect::<Vec<_>>().join(","))), 400, false, err("domain", "must name at most 10 sites")),
        ("revenue as a string", event(r#","$":"10 EUR""#), 400, false, err("revenue", "must be an object with amount and currency")),
        ("interactive as a string", event(r#","i":"false""#), 400, false, err("interactive", "must be true or false")),
        ("h: 2", event(r#","h":2"#), 400, false, err("h", "must be 1 or 0")),
        ("v: -1", event(r#","v":-1"#), 400, false, err("v", "must be an integer from 0 to 4294967295")),
        ("engagement without sd and e", engagement(""), 400, false, serde_json::json!({"errors": {"e": ["is required for engagement events"], "sd": ["is required for engagement events"]}}).to_string()),
        ("engagement sd 150 is clamped to 100", engagement(r#","sd":150,"e":1200"#), 202, false, OK.into()),
        ("engagement of 30 days", engagement(&format!(r#","sd":10,"e":{}"#, 30u64 * 24 * 3600 * 1000)), 400, false, err("e", "must be an integer from 0 to 2591999999")),
        ("negative engagement", engagement(r#","sd":10,"e":-5"#), 400, false, err("e", "must be an integer from 0 to 2591999999")),
        ("fractional scroll depth", engagement(r#","sd":10.5,"e":5"#), 400, false, err("sd", "must be an integer from 0 to 18446744073709551615")),
        ("SQL in the name is data, stored as such", body(&format!(r#"{{"n":"'); DROP TABLE events;--",{PAGE}}}"#)), 202, false, OK.into()),
        ("HTML in props is data, stored as such", event(r#","p":{"<script>":"<img src=x onerror=alert(1)>"}"#), 202, false, OK.into()),
        ("every bad field at once", body(r#"{"n":1,"u":"data:,","d":"","i":0}"#), 400, false, serde_json::json!({"errors": {"domain": ["can't be blank"], "interactive": ["must be true or false"], "name": ["must be a string"], "url": ["must not be a data: URL"]}}).to_string()),
    ]
}

#[test]
fn every_hostile_input_gets_its_exact_answer() {
    let cases = cases();
    assert!(cases.len() >= 40);
    for (what, body, status, dropped, expected) in cases {
        let (verdict, answer) = judge(&body);
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert_eq!(answer.body, expected, "{what}");
        let has_dropped_header = answer
            .headers
            .iter()
            .any(|&(name, _)| name == "x-plausible-dropped");
        assert_eq!(has_dropped_header, dropped, "{what}");
        assert_eq!(
            verdict.is_ok(),
            status == 202 && !dropped,
            "{what}: admitted only when accepted"
        );
        assert!(
            answer
                .headers
                .contains(&("access-control-allow-origin", "*")),
            "{what}: CORS on every answer"
        );
    }
}

#[test]
fn accepted_events_carry_normalized_fields() {
    let body = br#"{"n":"Deploy Application","u":"https://Portal.Example:8443/#/deploy?x=1","d":"www.portal.example,other.example","r":"https://search.example/","p":{"language":"nodejs","seats":5,"list":[1]},"$":{"amount":"10.50","currency":"eur"},"i":false,"h":1,"v":1}"#;
    let event = judge(body).0.expect("admitted").event;
    assert_eq!(event.name, "Deploy Application");
    assert_eq!(event.hostname, "portal.example");
    assert_eq!(
        event.pathname, "/#/deploy?x=1",
        "hash mode keeps the fragment"
    );
    assert_eq!(event.domains, ["portal.example"]);
    assert_eq!(event.referrer.as_deref(), Some("https://search.example/"));
    assert_eq!(
        event.props,
        [
            ("language".to_string(), "nodejs".to_string()),
            ("seats".to_string(), "5".to_string())
        ]
    );
    let revenue = event.revenue.expect("revenue");
    assert_eq!(
        (revenue.amount.as_str(), revenue.currency.as_str()),
        ("10.5", "EUR"),
        "as the column stores it"
    );
    assert!(!event.interactive);
    assert_eq!(event.tracker_version, Some(1));
}

#[test]
fn arbitrary_bytes_never_panic_and_every_verdict_holds() {
    // deterministic noise around valid payloads: truncations, flipped bytes, splices
    let seeds: Vec<Vec<u8>> = cases()
        .into_iter()
        .map(|(_, body, ..)| body)
        .filter(|b| b.len() < 10_000)
        .collect();
    for (round, body) in model::testing::mutated_bodies(&seeds, 20_000) {
        let shown = || String::from_utf8_lossy(&body).into_owned();
        match judge(&body) {
            (Ok(admitted), _) => {
                let event = admitted.event;
                assert_eq!(
                    event.domains,
                    ["portal.example"],
                    "round {round}: {}",
                    shown()
                );
                assert!(!event.name.trim().is_empty(), "round {round}: {}", shown());
            }
            (Err(Refused::Invalid(rejection)), answer) => {
                assert!(!rejection.0.is_empty(), "round {round}: {}", shown());
                assert_eq!(answer.status, 400, "round {round}");
            }
            (Err(Refused::Dropped(_)), answer) => assert_eq!(answer.status, 202, "round {round}"),
        }
    }
}

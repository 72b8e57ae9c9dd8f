//! Prints the privacy report of a new site (its default settings) as
//! docs/privacy.md holds it between its markers; `scripts/privacy-report.mjs`
//! writes it there, and `--check` (run by the privacy suite) fails when the
//! document is not what the code says.
//!
//! Usage: cargo run -q -p edge-worker --example privacy_report

use edge_worker::privacy_report::{report, to_markdown};
use model::settings::Site;

fn main() {
    let site = Site::new("your-site.example");
    print!("{}", to_markdown(&report(&site, None)));
}

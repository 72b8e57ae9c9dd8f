//! The wasm-bindgen boundary: exports the tracker's entry points to the JS
//! adapter and implements [`Host`] with the adapter's functions. No logic here.
//!
//! The adapter's ports only record what they are given (`send`, `ignore`); the
//! adapter acts on it after the export returns, so page code (callbacks,
//! `transformRequest`) never runs while the tracker is borrowed.

use crate::config::Config;
use crate::tracker::{Host, Navigation, Options, Tracker};
use alloc::string::String;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;

// `raw_module`: the generated glue lands in js/gen/, next to which the adapter
// is `../adapter.js`; bundling resolves it to the one adapter module instance.
#[wasm_bindgen(raw_module = "../adapter.js")]
extern "C" {
    fn href() -> String;
    fn referrer() -> String;
    fn environment() -> u32;
    fn now() -> f64;
    #[wasm_bindgen(js_name = pageHeight)]
    fn page_height() -> f64;
    #[wasm_bindgen(js_name = scrollTop)]
    fn scroll_y() -> f64;
    #[wasm_bindgen(js_name = viewportHeight)]
    fn viewport_height() -> f64;
    fn send(payload: &str, primary: bool);
    fn ignore(reason: &str);
}

struct Browser;

impl Host for Browser {
    fn href(&self) -> String {
        href()
    }
    fn referrer(&self) -> String {
        referrer()
    }
    fn environment(&self) -> u32 {
        environment()
    }
    fn now(&self) -> f64 {
        now()
    }
    fn page_height(&self) -> f64 {
        page_height()
    }
    fn scroll_y(&self) -> f64 {
        scroll_y()
    }
    fn viewport_height(&self) -> f64 {
        viewport_height()
    }
    fn send(&mut self, payload: String, primary: bool) {
        send(&payload, primary)
    }
    fn ignore(&mut self, reason: &str) {
        ignore(reason)
    }
}

struct Global(RefCell<Option<Tracker>>);

// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread,
// so the RefCell is never reached from two threads.
unsafe impl Sync for Global {}

static TRACKER: Global = Global(RefCell::new(None));

/// Runs `f` on the started tracker; does nothing before `start` or if called
/// re-entrantly (which the adapter's design rules out).
fn with_tracker(f: impl FnOnce(&mut Tracker, &mut Browser)) {
    if let Ok(mut slot) = TRACKER.0.try_borrow_mut() {
        if let Some(tracker) = slot.as_mut() {
            f(tracker, &mut Browser)
        }
    }
}

#[wasm_bindgen]
pub fn start(
    domain: String,
    exclude: Option<String>,
    include: Option<String>,
    file_types: Option<String>,
    add_file_types: Option<String>,
    features: &str,
) {
    let config = Config::new(domain, exclude, include, file_types, add_file_types, features);
    if let Ok(mut slot) = TRACKER.0.try_borrow_mut() {
        *slot = Some(Tracker::new(config, &Browser));
    }
}

#[wasm_bindgen]
pub fn track(
    name: &str,
    url: Option<String>,
    props: Option<String>,
    revenue: Option<String>,
    interactive: bool,
) {
    let options = Options {
        url,
        props,
        revenue,
        interactive,
    };
    with_tracker(|t, host| t.track(host, name, options))
}

#[wasm_bindgen]
pub fn navigate(code: u32) {
    if let Some(navigation) = Navigation::from_code(code) {
        with_tracker(|t, host| t.navigate(host, navigation))
    }
}

#[wasm_bindgen]
pub fn link(href: &str, tagged: bool) {
    with_tracker(|t, host| t.link_clicked(host, href, tagged))
}

#[wasm_bindgen]
pub fn tagged(classes: &str, link_href: Option<String>) {
    with_tracker(|t, host| t.tagged(host, classes, link_href.as_deref()))
}

/// Whether an element's `class` attribute names an event.
#[wasm_bindgen(js_name = isTagged)]
pub fn is_tagged(classes: &str) -> bool {
    crate::tagged::names_event(classes)
}

#[wasm_bindgen]
pub fn attention(engaged: bool) {
    with_tracker(|t, host| t.attention(host, engaged))
}

#[wasm_bindgen]
pub fn scrolled() {
    with_tracker(|t, host| t.scrolled(host))
}

#[wasm_bindgen]
pub fn resized() {
    with_tracker(|t, host| t.resized(host))
}

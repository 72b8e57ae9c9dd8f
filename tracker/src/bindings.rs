//! The wasm-bindgen boundary: the exports the JS adapter calls and the
//! [`Host`] built on the adapter's two ports. No logic here.
//!
//! Only numbers cross the boundary. Strings stay in JS until the tracker asks
//! for one: `text(source, ptr, capacity)` writes it into Wasm memory with
//! `TextEncoder.encodeInto`; `send(…)` hands a payload back as the fields of
//! a [`Payload`] (pointers, lengths, bits), and the adapter writes the JSON.
//! wasm-bindgen's string glue (an allocator in Wasm and ~1 KB of JS) is more
//! than a third of the size budget; this needs neither.
//!
//! Every export takes `(present, value)`: the adapter sets the page's string
//! arguments for the call before it calls, and `present` has bit n set when
//! argument n is not null; `value` is the one number some exports need.

use crate::config::Settings;
use crate::payload::Payload;
use crate::tagged;
use crate::text::as_str;
use crate::tracker::{Fact, Host, Navigation, Options, Source, Tracker};
use core::cell::RefCell;
use wasm_bindgen::prelude::*;

// `raw_module`: the generated glue lands in js/gen/, beside which the adapter
// is `../adapter.js`; bundling resolves both to the one module instance.
#[wasm_bindgen(raw_module = "../adapter.js")]
extern "C" {
    /// Writes text `source` (see [`Source::code`]) at `ptr`; returns its
    /// length, or -1 if it is absent or longer than `capacity`.
    fn text(source: u32, ptr: *mut u8, capacity: usize) -> i32;
    /// A [`Fact`].
    fn number(fact: u32) -> f64;
    /// A [`Payload`]: its texts as (pointer, length), a length of 0 for an
    /// absent JSON field, then [`Payload::flags`] and the engagement numbers.
    #[allow(clippy::too_many_arguments)]
    fn send(
        primary: bool,
        name: *const u8,
        name_len: usize,
        url: *const u8,
        url_len: usize,
        props: *const u8,
        props_len: usize,
        revenue: *const u8,
        revenue_len: usize,
        flags: u32,
        scroll_depth: u32,
        engaged_ms: u32,
    );
    fn ignore(ptr: *const u8, len: usize);
}

struct Browser;

impl Host for Browser {
    fn text(&self, source: Source, buf: &mut [u8]) -> Option<usize> {
        usize::try_from(text(source.code(), buf.as_mut_ptr(), buf.len())).ok()
    }
    fn fact(&self, fact: Fact) -> f64 {
        number(fact as u32)
    }
    fn send(&self, p: &Payload, primary: bool) {
        let (props, revenue) = (p.props.unwrap_or(""), p.revenue.unwrap_or(""));
        let report = p.engagement.unwrap_or(crate::engagement::Report {
            scroll_depth: 0,
            engaged_ms: 0,
        });
        send(
            primary,
            p.name.as_ptr(),
            p.name.len(),
            p.url.as_ptr(),
            p.url.len(),
            props.as_ptr(),
            props.len(),
            revenue.as_ptr(),
            revenue.len(),
            p.flags(),
            report.scroll_depth,
            report.engaged_ms,
        )
    }
    fn ignore(&self, reason: &str) {
        ignore(reason.as_ptr(), reason.len())
    }
}

struct Global(RefCell<Tracker>);

// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread,
// so the RefCell is never reached from two threads.
unsafe impl Sync for Global {}

// Zero-initialized: it costs memory pages, not bytes of the .wasm file.
static TRACKER: Global = Global(RefCell::new(Tracker::new()));

/// Runs `f` on the tracker; does nothing if called re-entrantly, which the
/// adapter rules out (ports never run page code).
fn with_tracker(f: impl FnOnce(&mut Tracker)) {
    if let Ok(mut tracker) = TRACKER.0.try_borrow_mut() {
        f(&mut tracker)
    }
}

/// How many string arguments a call can have, and room for all of them:
/// `plausible()`'s props can be as large as Plausible accepts (30 of up to
/// 300 + 2,000 bytes each, about 70 KB); other calls' texts are small (class
/// names, a link). Each call zeroes its buffer, so the small one is the rule.
const MAX_ARGS: usize = 6;
const TRACK_ARGS_BYTES: usize = 96 * 1024;
const ARGS_BYTES: usize = 16 * 1024;

/// The page's string arguments of the current call that `wanted` selects
/// (bits, as `present`), read once into `buf`; `None` when one of them did
/// not fit, so that the call is dropped whole rather than run without it.
fn args(present: u32, wanted: u32, buf: &mut [u8]) -> Option<[Option<&str>; MAX_ARGS]> {
    let mut out = [None; MAX_ARGS];
    let mut free = buf;
    for (n, slot) in (0u8..).zip(out.iter_mut()) {
        if present & wanted & 1 << n == 0 {
            continue;
        }
        let len = Browser.text(Source::Arg(n), free)?;
        let (text, rest) = core::mem::take(&mut free).split_at_mut_checked(len)?;
        *slot = Some(as_str(text));
        free = rest;
    }
    Some(out)
}

/// Arguments: exclude, include, file types, add file types (the domain is
/// the adapter's to write); `features`: the [`crate::config::feature`] bits
/// the page turned on.
#[wasm_bindgen]
pub fn start(present: u32, features: u32) {
    let mut buf = [0; ARGS_BYTES];
    // only the settings this build has features for are read
    let wanted = if cfg!(feature = "exclusions") {
        0b11
    } else {
        0
    } | if cfg!(feature = "links") { 0b1100 } else { 0 };
    // settings too long for the buffer are left out, as an absent one
    let [exclude, include, file_types, add_file_types, ..] =
        args(present, wanted, &mut buf).unwrap_or_default();
    let settings = Settings {
        exclude,
        include,
        file_types,
        add_file_types,
        features,
    };
    with_tracker(|t| t.start(&settings, &Browser))
}

/// Arguments: name, url, props JSON, revenue JSON (from the page's
/// `JSON.stringify`).
#[wasm_bindgen]
pub fn track(present: u32, interactive: bool) {
    let mut buf = [0; TRACK_ARGS_BYTES];
    // an argument given but not read did not fit: the event is dropped
    // whole, never sent cut (nor with `location.href` for a URL too long)
    let Some([name, url, props, revenue, ..]) = args(present, 0b1111, &mut buf) else {
        return Browser.ignore("too large");
    };
    let Some(name) = name else {
        return Browser.ignore("no name");
    };
    let options = Options {
        url,
        props,
        revenue,
        interactive,
    };
    with_tracker(|t| t.track(&Browser, name, options))
}

#[wasm_bindgen]
pub fn navigate(_present: u32, code: u32) {
    if let Some(navigation) = Navigation::from_code(code) {
        with_tracker(|t| t.navigate(&Browser, navigation))
    }
}

/// Arguments: the link's href and host.
#[wasm_bindgen]
pub fn link(present: u32, tagged: bool) {
    // a build without the feature keeps the export (the adapter calls it) but not its code
    if !cfg!(feature = "links") {
        return;
    }
    let mut buf = [0; ARGS_BYTES];
    if let Some([Some(href), Some(host), ..]) = args(present, !0, &mut buf) {
        with_tracker(|t| t.link_clicked(&Browser, href, host, tagged))
    }
}

/// A valid form was submitted; `tagged`: it is (in) a tagged element.
#[wasm_bindgen]
pub fn form(_present: u32, tagged: bool) {
    if !cfg!(feature = "form-submissions") {
        return;
    }
    with_tracker(|t| t.form_submitted(&Browser, tagged))
}

/// Arguments: the tagged element's classes, the clicked link's href.
#[wasm_bindgen]
pub fn tagged(present: u32) {
    if !cfg!(feature = "tagged-events") {
        return;
    }
    let mut buf = [0; ARGS_BYTES];
    if let Some([Some(classes), link, ..]) = args(present, !0, &mut buf) {
        with_tracker(|t| t.tagged(&Browser, classes, link))
    }
}

/// Arguments: an element's classes. Whether they name an event.
#[wasm_bindgen(js_name = isTagged)]
pub fn is_tagged(present: u32) -> bool {
    if !cfg!(feature = "tagged-events") {
        return false;
    }
    let mut buf = [0; ARGS_BYTES];
    args(present, !0, &mut buf)
        .is_some_and(|[classes, ..]| classes.is_some_and(tagged::names_event))
}

#[wasm_bindgen]
pub fn attention(_present: u32, engaged: bool) {
    with_tracker(|t| t.attention(&Browser, engaged))
}

#[wasm_bindgen]
pub fn scrolled() {
    with_tracker(|t| t.scrolled(&Browser))
}

#[wasm_bindgen]
pub fn resized() {
    with_tracker(|t| t.resized(&Browser))
}

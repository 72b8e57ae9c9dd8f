//! The tracker's state machine: every browser happening (a load, a history
//! change, a click, a `plausible()` call, a blur) comes in as a method call;
//! payloads go out through [`Host::send`]. Plausible's rules decide what is
//! sent; the browser is only reached through the [`Host`] trait.

use crate::config::{feature, Config, Settings};
use crate::engagement::{visible_depth, Engagement, Report, MAX_URL};
use crate::json::Writer;
use crate::links::{download_url, is_outbound};
use crate::payload::Payload;
use crate::tagged;
use crate::text::{as_str, Text};

/// Facts about the visitor's browser that the rules need, one bit each.
pub mod environment {
    /// Automation is driving the browser (`navigator.webdriver`, PhantomJS,
    /// Nightmare, Cypress) and the page did not set `window.__plausible`.
    pub const AUTOMATED: u32 = 1;
    /// The visitor excluded themselves: `localStorage.plausible_ignore == "true"`.
    pub const OPTED_OUT: u32 = 1 << 1;
}

/// A text the tracker asks the browser for. URL parts come parsed by the
/// browser (`location.*`): a URL parser in Wasm would cost a tenth of the
/// size budget. The numbers are the adapter's (`text()` in js/adapter.js).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The n-th string argument (0–7) of the current call from the page.
    Arg(u8),
    Href,
    Hostname,
    /// With its colon: `https:`, `file:`.
    Protocol,
    Pathname,
    /// `#fragment` or empty.
    Hash,
    /// `hostname[:port]`.
    Host,
}

impl Source {
    pub fn code(self) -> u32 {
        match self {
            Source::Arg(n) => u32::from(n),
            Source::Href => 8,
            Source::Hostname => 9,
            Source::Protocol => 10,
            Source::Pathname => 11,
            Source::Hash => 12,
            Source::Host => 13,
        }
    }
}

/// A number the tracker asks the browser for, by the adapter's numbering
/// (`number()` in js/adapter.js).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// `Date.now()`.
    Now = 0,
    /// [`environment`] bits.
    Environment = 1,
    /// The document's full height, in CSS pixels.
    PageHeight = 2,
    ScrollY = 3,
    ViewportHeight = 4,
}

/// The browser, as the tracker needs it: the JS adapter in the browser, a
/// recording fake in the unit tests.
pub trait Host {
    /// Writes the text into `buf` and returns its length; `None` when the
    /// text is absent or longer than `buf`.
    fn text(&self, source: Source, buf: &mut [u8]) -> Option<usize>;
    fn fact(&self, fact: Fact) -> f64;
    /// Sends one payload; `primary` is false for engagement reports, which
    /// never answer the page's callback.
    fn send(&self, payload: &Payload, primary: bool);
    /// The event was not sent; a non-empty reason is worth a console warning.
    fn ignore(&self, reason: &str);
}

/// Reads a text from the host into `buf`.
pub fn read<'b>(host: &impl Host, source: Source, buf: &'b mut [u8]) -> Option<&'b str> {
    let len = host.text(source, buf)?;
    Some(as_str(buf.get(..len)?))
}

/// What made the tracker consider a pageview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Navigation {
    /// The page loaded (or came back from the back/forward cache).
    Load,
    /// A page that loaded hidden or prerendered became visible.
    FirstVisible,
    /// `history.pushState` or `popstate`.
    History,
    /// `hashchange`.
    HashChange,
}

impl Navigation {
    /// The adapter's numbering: 0 load, 1 first visible, 2 history, 3 hash change.
    pub fn from_code(code: u32) -> Option<Self> {
        [
            Self::Load,
            Self::FirstVisible,
            Self::History,
            Self::HashChange,
        ]
        .get(code as usize)
        .copied()
    }
}

/// The options of `plausible(name, options)` that reach the payload.
pub struct Options<'a> {
    /// A custom page URL (`u` or `url`) instead of `location.href`.
    pub url: Option<&'a str>,
    /// Props and revenue as JSON text.
    pub props: Option<&'a str>,
    pub revenue: Option<&'a str>,
    pub interactive: bool,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            url: None,
            props: None,
            revenue: None,
            interactive: true,
        }
    }
}

pub struct Tracker {
    config: Config,
    /// The pathname of the last automatic pageview (empty before the first),
    /// to skip SPA navigations that change only the query string.
    last_path: Text<MAX_URL>,
    seen_page: bool,
    engagement: Engagement,
}

impl Tracker {
    /// An unstarted tracker; `const` so that it can live in a zeroed static.
    pub const fn new() -> Self {
        Tracker {
            config: Config::new(),
            last_path: Text::new(),
            seen_page: false,
            engagement: Engagement::new(),
        }
    }

    pub fn start(&mut self, settings: &Settings, host: &impl Host) {
        self.config.set(settings);
        let height = host.fact(Fact::PageHeight);
        let depth = visible_depth(
            height,
            host.fact(Fact::ScrollY),
            host.fact(Fact::ViewportHeight),
        );
        self.engagement.measure(height, depth);
    }

    /// `plausible(name, options)`: applies the ignore rules and sends the event.
    pub fn track(&mut self, host: &impl Host, name: &str, options: Options) {
        let pageview = name == "pageview";
        if pageview {
            let height = host.fact(Fact::PageHeight);
            let depth = visible_depth(
                height,
                host.fact(Fact::ScrollY),
                host.fact(Fact::ViewportHeight),
            );
            if let Some(report) =
                self.engagement
                    .before_pageview(host.fact(Fact::Now), height, depth)
            {
                self.send_engagement(host, report);
            }
        }
        if let Some(reason) = self.ignore_reason(host, pageview) {
            if pageview {
                self.engagement.pageview_ignored();
            }
            return host.ignore(reason);
        }
        let mut href = [0; MAX_URL];
        let url = match options.url {
            Some(url) => url,
            None => read(host, Source::Href, &mut href).unwrap_or(""),
        };
        let event = Payload {
            name,
            url,
            props: options.props,
            revenue: options.revenue,
            interactive: options.interactive,
            hash: self.config.has(feature::HASH),
            engagement: None,
        };
        host.send(&event, true);
        if pageview {
            self.engagement
                .after_pageview(url, options.props, host.fact(Fact::Now));
        }
    }

    /// Plausible's order: localhost, automation, the opt-out flag, exclusions.
    fn ignore_reason(&self, host: &impl Host, pageview: bool) -> Option<&'static str> {
        let environment = host.fact(Fact::Environment) as u32;
        if !self.config.has(feature::LOCAL) {
            if is_local(host) {
                return Some("localhost");
            }
            if environment & environment::AUTOMATED != 0 {
                return Some("");
            }
        }
        if environment & environment::OPTED_OUT != 0 {
            return Some("localStorage flag");
        }
        if pageview && self.config.has_exclusions() && self.excluded(host) {
            return Some("exclusion rule");
        }
        None
    }

    /// Hash-routed pages are matched with their fragment.
    fn excluded(&self, host: &impl Host) -> bool {
        let mut path = Text::<MAX_URL>::new();
        path.fill(|buf| {
            let mut w = Writer::new(buf);
            w.splice(|free| host.text(Source::Pathname, free));
            if self.config.has(feature::HASH) {
                w.splice(|free| host.text(Source::Hash, free).or(Some(0)));
            }
            w.len()
        });
        let path = path.as_str();
        let matches = |globs: &str| crate::glob::any_matches(globs, path);
        let included = self.config.include().is_none_or(matches);
        let excluded = self.config.exclude().is_some_and(matches);
        !included || excluded
    }

    /// Automatic pageviews: on load, and on SPA navigations that change the
    /// pathname (history mode) or on every hash change (hash mode).
    pub fn navigate(&mut self, host: &impl Host, navigation: Navigation) {
        let hash_mode = self.config.has(feature::HASH);
        let skip = match navigation {
            _ if self.config.has(feature::MANUAL) => true,
            Navigation::History => hash_mode,
            Navigation::HashChange => !hash_mode,
            Navigation::FirstVisible => self.seen_page,
            Navigation::Load => false,
        };
        if skip {
            return;
        }
        let mut path = [0; MAX_URL];
        let path = read(host, Source::Pathname, &mut path).unwrap_or("");
        if navigation == Navigation::History && self.seen_page && self.last_path.as_str() == path {
            return;
        }
        self.seen_page = true;
        self.last_path.set(path);
        self.track(host, "pageview", Options::default());
    }

    /// A click on a link: its `href` and `host` as the browser resolved them.
    /// `link_tagged` says the link or a close ancestor is a tagged element,
    /// whose own event wins.
    pub fn link_clicked(
        &mut self,
        host: &impl Host,
        href: &str,
        link_host: &str,
        link_tagged: bool,
    ) {
        if link_tagged && self.config.has(feature::TAGGED_EVENTS) {
            return;
        }
        let mut page_host = [0; 512];
        let page_host = read(host, Source::Host, &mut page_host).unwrap_or("");
        let (name, url) =
            if self.config.has(feature::OUTBOUND_LINKS) && is_outbound(link_host, page_host) {
                ("Outbound Link: Click", href)
            } else {
                match download_url(href, &self.config) {
                    Some(url) if self.config.has(feature::FILE_DOWNLOADS) => ("File Download", url),
                    _ => return,
                }
            };
        let mut props = [0; MAX_URL + 16];
        let mut w = Writer::new(&mut props);
        w.raw("{\"url\":");
        w.string(url, false);
        w.raw("}");
        // a link too long to write is not sent, rather than sent without its URL
        let Some(props) = w.finish() else {
            return host.ignore("too large");
        };
        let options = Options {
            props: Some(props),
            ..Options::default()
        };
        self.track(host, name, options);
    }

    /// A valid form was submitted; `tagged` says it or a close ancestor is a
    /// tagged element, whose own event wins (Plausible's `formSubmissions`).
    pub fn form_submitted(&mut self, host: &impl Host, tagged: bool) {
        if self.config.has(feature::FORM_SUBMISSIONS) && !tagged {
            self.track(host, "Form: Submission", Options::default());
        }
    }

    /// A click on (or a submit of) an element tagged with `plausible-event-*`
    /// classes; `link_href` when the click was on a link, reported as `url`.
    pub fn tagged(&mut self, host: &impl Host, classes: &str, link_href: Option<&str>) {
        if !self.config.has(feature::TAGGED_EVENTS) {
            return;
        }
        let tagged = tagged::parse(classes);
        let Some(name) = tagged.name else { return };
        // room for what the classes (at most 16 KB) and a link can hold, escaped
        let (mut spaced, mut props, mut revenue) = ([0; MAX_URL], [0; 40 << 10], [0; 40 << 10]);
        let mut w = Writer::new(&mut props);
        tagged.write_props(link_href, &mut w);
        let mut r = Writer::new(&mut revenue);
        tagged.write_revenue(&mut r);
        let (Some(name), Some(props), Some(revenue)) =
            (tagged::spaced(name, &mut spaced), w.finish(), r.finish())
        else {
            // classes too long to write are not sent, rather than sent cut
            return host.ignore("too large");
        };
        let options = Options {
            props: Some(props),
            revenue: Some(revenue),
            ..Options::default()
        };
        self.track(host, name, options);
    }

    /// The page became visible and focused (`true`) or hidden or blurred.
    pub fn attention(&mut self, host: &impl Host, engaged: bool) {
        if let Some(report) = self.engagement.attention(engaged, host.fact(Fact::Now)) {
            self.send_engagement(host, report);
        }
    }

    pub fn scrolled(&mut self, host: &impl Host) {
        let depth = visible_depth(
            self.engagement.page_height(),
            host.fact(Fact::ScrollY),
            host.fact(Fact::ViewportHeight),
        );
        self.engagement.scrolled(depth);
    }

    pub fn resized(&mut self, host: &impl Host) {
        self.engagement.resized(host.fact(Fact::PageHeight));
    }

    fn send_engagement(&mut self, host: &impl Host, report: Report) {
        let (url, props) = self.engagement.page();
        let engagement = Payload {
            name: "engagement",
            url,
            props,
            revenue: None,
            interactive: true,
            hash: self.config.has(feature::HASH),
            engagement: Some(report),
        };
        host.send(&engagement, false);
    }
}

impl Default for Tracker {
    fn default() -> Self {
        Self::new()
    }
}

/// Plausible's localhost rule: `localhost`, `127.x[.y[.z]]`, `[::1]`, `[::]`, `file:`.
fn is_local(host: &impl Host) -> bool {
    let (mut hostname, mut protocol) = ([0; 512], [0; 16]);
    let hostname = read(host, Source::Hostname, &mut hostname).unwrap_or("");
    let protocol = read(host, Source::Protocol, &mut protocol).unwrap_or("");
    protocol == "file:"
        || matches!(hostname, "localhost" | "[::1]" | "[::]")
        || is_loopback_v4(hostname)
}

/// `127.x`, `127.x.y` or `127.x.y.z`, digits only: Plausible's
/// `^127(\.[0-9]+){0,2}\.[0-9]+$`. A byte loop rather than split iterators,
/// which cost the Wasm ~300 bytes more.
fn is_loopback_v4(hostname: &str) -> bool {
    let Some(rest) = hostname.strip_prefix("127.") else {
        return false;
    };
    let (mut dots, mut previous) = (0, b'.');
    for &b in rest.as_bytes() {
        if b == b'.' {
            if previous == b'.' {
                return false;
            }
            dots += 1;
        } else if !b.is_ascii_digit() {
            return false;
        }
        previous = b;
    }
    previous != b'.' && dots <= 2
}

#[cfg(test)]
mod tests;

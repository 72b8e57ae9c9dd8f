//! The tracker's state machine: every browser happening (a load, a history
//! change, a click, a `plausible()` call, a blur) comes in as a method call;
//! payloads go out through [`Host::send`]. Plausible's rules decide what is
//! sent; the browser is only reached through the [`Host`] trait.

use crate::config::{feature, Config};
use crate::engagement::{visible_depth, Engagement, Report};
use crate::links::{download_url, is_outbound};
use crate::payload;
use crate::tagged;
use crate::url::Parts;
use alloc::string::String;

/// Facts about the visitor's browser that the rules need, one bit each.
pub mod environment {
    /// Automation is driving the browser (`navigator.webdriver`, PhantomJS,
    /// Nightmare, Cypress) and the page did not set `window.__plausible`.
    pub const AUTOMATED: u32 = 1;
    /// The visitor excluded themselves: `localStorage.plausible_ignore == "true"`.
    pub const OPTED_OUT: u32 = 1 << 1;
}

/// The browser, as the tracker needs it. Implemented by the JS adapter in the
/// browser and by a recording fake in the unit tests.
pub trait Host {
    /// `location.href`.
    fn href(&self) -> String;
    /// `document.referrer`.
    fn referrer(&self) -> String;
    /// [`environment`] bits.
    fn environment(&self) -> u32;
    /// `Date.now()`.
    fn now(&self) -> f64;
    /// The document's full height, in CSS pixels.
    fn page_height(&self) -> f64;
    fn scroll_y(&self) -> f64;
    fn viewport_height(&self) -> f64;
    /// Sends one payload; `primary` is false for engagement reports, which
    /// never answer the page's callback.
    fn send(&mut self, payload: String, primary: bool);
    /// The event was not sent; a non-empty reason is worth a console warning.
    fn ignore(&mut self, reason: &str);
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
        [Self::Load, Self::FirstVisible, Self::History, Self::HashChange]
            .get(code as usize)
            .copied()
    }
}

/// The options of `plausible(name, options)` that reach the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// A custom page URL (`u` or `url`) instead of `location.href`.
    pub url: Option<String>,
    /// Props, as `JSON.stringify` wrote them.
    pub props: Option<String>,
    /// Revenue, as `JSON.stringify` wrote it.
    pub revenue: Option<String>,
    pub interactive: bool,
}

impl Default for Options {
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
    /// The pathname of the last automatic pageview, to skip SPA navigations
    /// that change only the query string.
    last_path: Option<String>,
    engagement: Engagement,
}

impl Tracker {
    pub fn new(config: Config, host: &impl Host) -> Self {
        let mut engagement = Engagement::default();
        let height = host.page_height();
        engagement.measure(height, visible_depth(height, host.scroll_y(), host.viewport_height()));
        Tracker {
            config,
            last_path: None,
            engagement,
        }
    }

    /// `plausible(name, options)`: applies the ignore rules and sends the event.
    pub fn track(&mut self, host: &mut impl Host, name: &str, options: Options) {
        let pageview = name == "pageview";
        if pageview {
            let now = host.now();
            let height = host.page_height();
            let depth = visible_depth(height, host.scroll_y(), host.viewport_height());
            if let Some(report) = self.engagement.before_pageview(now, height, depth) {
                self.send_engagement(host, report);
            }
        }
        if let Some(reason) = self.ignore_reason(host, pageview) {
            if pageview {
                self.engagement.pageview_ignored();
            }
            return host.ignore(reason);
        }
        let url = options.url.unwrap_or_else(|| host.href());
        let referrer = host.referrer();
        let body = payload::Event {
            name,
            url: &url,
            domain: &self.config.domain,
            referrer: &referrer,
            props: options.props.as_deref(),
            revenue: options.revenue.as_deref(),
            interactive: options.interactive,
            hash: self.config.has(feature::HASH),
        }
        .to_json();
        if pageview {
            self.engagement.after_pageview(url, options.props, host.now());
        }
        host.send(body, true);
    }

    /// Plausible's order: localhost, automation, the opt-out flag, exclusions.
    fn ignore_reason(&self, host: &impl Host, pageview: bool) -> Option<&'static str> {
        let href = host.href();
        let page = Parts::parse(&href);
        let environment = host.environment();
        if !self.config.has(feature::LOCAL) {
            if is_local(&page) {
                return Some("localhost");
            }
            if environment & environment::AUTOMATED != 0 {
                return Some("");
            }
        }
        if environment & environment::OPTED_OUT != 0 {
            return Some("localStorage flag");
        }
        if pageview && self.excluded(&page) {
            return Some("exclusion rule");
        }
        None
    }

    fn excluded(&self, page: &Parts) -> bool {
        let mut path = String::from(page.path);
        if self.config.has(feature::HASH) {
            path.push_str(page.hash);
        }
        let included = self
            .config
            .include
            .as_deref()
            .is_none_or(|globs| crate::glob::any_matches(globs, &path));
        let excluded = self
            .config
            .exclude
            .as_deref()
            .is_some_and(|globs| crate::glob::any_matches(globs, &path));
        !included || excluded
    }

    /// Automatic pageviews: on load, and on SPA navigations that change the
    /// pathname (history mode) or on every hash change (hash mode).
    pub fn navigate(&mut self, host: &mut impl Host, navigation: Navigation) {
        let hash_mode = self.config.has(feature::HASH);
        let skip = match navigation {
            _ if self.config.has(feature::MANUAL) => true,
            Navigation::History => hash_mode,
            Navigation::HashChange => !hash_mode,
            Navigation::FirstVisible => self.last_path.is_some(),
            Navigation::Load => false,
        };
        if skip {
            return;
        }
        let href = host.href();
        let path = Parts::parse(&href).path;
        if navigation == Navigation::History && self.last_path.as_deref() == Some(path) {
            return;
        }
        self.last_path = Some(String::from(path));
        self.track(host, "pageview", Options::default());
    }

    /// A click on a link (`href` resolved by the browser). `link_tagged` says the
    /// link or a close ancestor is a tagged element, whose own event wins.
    pub fn link_clicked(&mut self, host: &mut impl Host, href: &str, link_tagged: bool) {
        if link_tagged && self.config.has(feature::TAGGED_EVENTS) {
            return;
        }
        let (name, url) = if self.config.has(feature::OUTBOUND_LINKS) && is_outbound(href, &host.href()) {
            ("Outbound Link: Click", href)
        } else {
            match download_url(href, &self.config.file_types) {
                Some(url) if self.config.has(feature::FILE_DOWNLOADS) => ("File Download", url),
                _ => return,
            }
        };
        let props = crate::json::object([("url", url)].into_iter());
        self.track(
            host,
            name,
            Options {
                props: Some(props),
                ..Options::default()
            },
        );
    }

    /// A click on (or a submit of) an element tagged with `plausible-event-*`
    /// classes; `link_href` when the click was on a link, reported as `url`.
    pub fn tagged(&mut self, host: &mut impl Host, classes: &str, link_href: Option<&str>) {
        if !self.config.has(feature::TAGGED_EVENTS) {
            return;
        }
        let tagged::Tagged {
            name,
            mut props,
            revenue,
        } = tagged::parse(classes);
        let Some(name) = name else { return };
        if let Some(href) = link_href {
            props.set("url", String::from(href));
        }
        self.track(
            host,
            &name,
            Options {
                props: Some(props.to_json()),
                revenue: Some(revenue.to_json()),
                ..Options::default()
            },
        );
    }

    /// The page became visible and focused (`true`) or hidden or blurred.
    pub fn attention(&mut self, host: &mut impl Host, engaged: bool) {
        if let Some(report) = self.engagement.attention(engaged, host.now()) {
            self.send_engagement(host, report);
        }
    }

    pub fn scrolled(&mut self, host: &impl Host) {
        let depth = visible_depth(self.engagement.page_height(), host.scroll_y(), host.viewport_height());
        self.engagement.scrolled(depth);
    }

    pub fn resized(&mut self, host: &impl Host) {
        self.engagement.resized(host.page_height());
    }

    fn send_engagement(&self, host: &mut impl Host, report: Report) {
        let body = payload::Engagement {
            url: &self.engagement.url,
            props: self.engagement.props.as_deref(),
            domain: &self.config.domain,
            scroll_depth: report.scroll_depth,
            engaged_ms: report.engaged_ms,
            hash: self.config.has(feature::HASH),
        }
        .to_json();
        host.send(body, false);
    }
}

/// Plausible's localhost rule: `localhost`, `127.x[.y[.z]]`, `[::1]`, `[::]`, `file:`.
fn is_local(page: &Parts) -> bool {
    let hostname = page.hostname();
    let loopback_v4 = hostname.strip_prefix("127.").is_some_and(|rest| {
        let parts = crate::text::split(rest, b'.');
        parts.clone().count() <= 3 && parts.clone().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    page.scheme == "file" || matches!(hostname, "localhost" | "[::1]" | "[::]") || loopback_v4
}

#[cfg(test)]
mod tests;

//! Who a request is, as its headers tell: read once, then judged by
//! `control::access` (pure).

use control::access::Credentials;
use worker::Request;

/// The headers `control::access` reads, owned.
pub struct Caller {
    authorization: Option<String>,
    cookie: Option<String>,
    shared_link: Option<String>,
    same_origin: bool,
}

impl Caller {
    pub fn of(request: &Request) -> Caller {
        let header = |name: &str| request.headers().get(name).ok().flatten();
        let own_origin = request
            .url()
            .map(|url| url.origin().ascii_serialization())
            .ok();
        let origin = header("Origin");
        Caller {
            authorization: header("Authorization"),
            cookie: header("Cookie"),
            shared_link: header("X-Shared-Link"),
            // a request whose own URL cannot be read is not from our page
            same_origin: own_origin
                .is_some_and(|own| control::access::same_origin(origin.as_deref(), &own)),
        }
    }

    pub fn credentials(&self) -> Credentials<'_> {
        Credentials {
            authorization: self.authorization.as_deref(),
            cookie: self.cookie.as_deref(),
            same_origin: self.same_origin,
            shared_link: self.shared_link.as_deref(),
        }
    }
}

//! The Durable Objects that hold state every request must share — the daily
//! salts and the site settings — reached where they live: in this runtime
//! (Cloudflare, where one object serves every isolate and location; a single
//! workerd), or, on a self-hosted replica, through the one control instance
//! that holds them for all replicas (the `CONTROL` service binding), so that
//! every replica uses the same salt and the same settings
//! (docs/self-hosting.md). The control instance answers replicas at
//! `/internal/state/<object>/…` when they show `CONTROL_TOKEN`.

use super::bindings::{config, CONTROL, DEAD_LETTER_STORE, SALTS, SITE_SETTINGS};
use super::caller::Caller;
use crate::config::StateAccess;
use control::access::shared_secret;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result, RouteContext};

/// The objects, by the name that is both their id and their URL's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateObject {
    Salts,
    Settings,
    /// Where there is no R2 bucket (bare workerd): `dead_letters::DeadLetterStore`.
    DeadLetters,
}

impl StateObject {
    fn name(self) -> &'static str {
        match self {
            StateObject::Salts => "salts",
            StateObject::Settings => "settings",
            StateObject::DeadLetters => "dead-letters",
        }
    }

    fn binding(self) -> &'static str {
        match self {
            StateObject::Salts => SALTS,
            StateObject::Settings => SITE_SETTINGS,
            StateObject::DeadLetters => DEAD_LETTER_STORE,
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [
            StateObject::Salts,
            StateObject::Settings,
            StateObject::DeadLetters,
        ]
        .into_iter()
        .find(|object| object.name() == name)
    }
}

/// Sends `method path` (with `body`) to `object`, wherever it lives.
pub async fn fetch(
    env: &Env,
    object: StateObject,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<Response> {
    let access = config(env)
        .map_err(|e| worker::Error::RustError(e.to_string()))?
        .state;
    let mut init = request_init(method, body);
    match access {
        StateAccess::Local => here(env, object, path, &init).await,
        StateAccess::Control(token) => {
            let headers = Headers::new();
            headers.set("authorization", &format!("Bearer {}", token.0))?;
            init.with_headers(headers);
            // the router's catch-all needs a segment: the object's root is its bare name
            let rest = if path == "/" { "" } else { path };
            let url = format!("https://control/internal/state/{}{rest}", object.name());
            let response = env.service(CONTROL)?.fetch(url, Some(init)).await?;
            if response.status_code() == 401 {
                // a configuration error, not a missing salt or setting (those
                // answer the object's own statuses, a 404 for a day with no salt among them)
                return Err(worker::Error::RustError(
                    "the control instance refused this replica (401): CONTROL_TOKEN must be the same on both, and set on the control instance".into(),
                ));
            }
            Ok(response)
        }
    }
}

/// `GET|POST /internal/state/:object[/*path]`, on the control instance: a
/// replica's request, passed on to the object here when it shows
/// `CONTROL_TOKEN`. An instance without `CONTROL_TOKEN` refuses them all.
pub async fn serve(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let control_token = config(&ctx.env)
        .ok()
        .and_then(|config| config.control_token)
        .map(|token| token.0);
    let caller = Caller::of(&request);
    let required = "Authorization: Bearer <CONTROL_TOKEN> is required";
    if let Err(denied) = shared_secret(&caller.credentials(), control_token.as_deref(), required) {
        return Response::error(denied.to_string(), denied.status());
    }
    let Some(object) = ctx
        .param("object")
        .and_then(|name| StateObject::parse(name))
    else {
        return Response::error("no such object", 404);
    };
    let path = format!("/{}", ctx.param("path").map(String::as_str).unwrap_or(""));
    let method = request.method();
    let body = match method {
        Method::Post => Some(request.text().await?),
        _ => None,
    };
    here(&ctx.env, object, &path, &request_init(method, body)).await
}

fn request_init(method: Method, body: Option<String>) -> RequestInit {
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        init.with_body(Some(body.into()));
    }
    init
}

/// The object as this runtime holds it.
async fn here(env: &Env, object: StateObject, path: &str, init: &RequestInit) -> Result<Response> {
    let stub = env
        .durable_object(object.binding())?
        .id_from_name(object.name())?
        .get_stub()?;
    let url = format!("https://{}{path}", object.name());
    stub.fetch_with_request(Request::new_with_init(&url, init)?)
        .await
}

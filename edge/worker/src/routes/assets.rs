//! `GET /js/:file`: a Plausible script name (`crate::assets`) answered with
//! the tracker build it asks for from the static assets (Cloudflare's
//! `ASSETS` binding, or under workerd the front's `www/` directory), with its
//! cache headers.

use super::bindings::ASSETS;
use crate::assets::build_for;
use worker::{Headers, Request, Response, Result, RouteContext};

pub async fn script(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let file = ctx.param("file").map(String::as_str).unwrap_or("");
    let Some(build) = build_for(file) else {
        return Response::error("not found", 404);
    };
    let mut url = request.url()?;
    url.set_path(&format!("/js/{build}"));
    url.set_query(None);
    let mut asset = ctx.env.assets(ASSETS)?.fetch(url.to_string(), None).await?;
    if asset.status_code() != 200 {
        return Response::error("not found", 404);
    }
    let body = asset.bytes().await?;
    // as www/_headers says for /js/*
    let headers = Headers::new();
    headers.set("content-type", "text/javascript; charset=utf-8")?;
    headers.set(
        "cache-control",
        "public, max-age=86400, stale-while-revalidate=604800",
    )?;
    headers.set("access-control-allow-origin", "*")?;
    Ok(Response::from_bytes(body)?.with_headers(headers))
}

//! ClickHouse over HTTP from the Worker (`fetch`), with the settings' credentials.

use crate::settings::Clickhouse;
use worker::{Fetch, Headers, Method, Request, RequestInit, Result};

/// Status, `X-ClickHouse-Exception-Code` and body of one statement.
pub struct Answer {
    pub status: u16,
    pub exception_code: Option<u32>,
    pub body: String,
}

pub async fn post(clickhouse: &Clickhouse, body: String) -> Result<Answer> {
    let mut url = clickhouse.url.clone();
    url.query_pairs_mut()
        .append_pair("database", &clickhouse.database);
    let headers = Headers::new();
    headers.set("X-ClickHouse-User", &clickhouse.user)?;
    headers.set("X-ClickHouse-Key", &clickhouse.password)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let mut response = Fetch::Request(Request::new_with_init(url.as_str(), &init)?)
        .send()
        .await?;
    let exception_code = response
        .headers()
        .get("X-ClickHouse-Exception-Code")?
        .and_then(|c| c.parse().ok());
    Ok(Answer {
        status: response.status_code(),
        exception_code,
        body: response.text().await.unwrap_or_default(),
    })
}

pub async fn ping(clickhouse: &Clickhouse) -> Result<bool> {
    let mut url = clickhouse.url.clone();
    url.set_path("/ping");
    let response = Fetch::Url(url).send().await?;
    Ok(response.status_code() == 200)
}

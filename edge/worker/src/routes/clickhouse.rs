//! ClickHouse over HTTP from the Worker (`fetch`), with the settings' credentials.
//! Every request is abandoned after [`TIMEOUT`]: a hung connection costs a
//! retry, never a stuck consumer or Stats API request.

use crate::config::Clickhouse;
use futures_util::future::{select, Either};
use model::sql::{escaped_param, Sql};
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, Result};

/// Longer than a read may run (`stats::limits::MAX_EXECUTION_SECONDS`),
/// and than an insert of one batch takes.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Status, `X-ClickHouse-Exception-Code` and body of one statement.
pub struct Answer {
    pub status: u16,
    pub exception_code: Option<u32>,
    pub body: String,
}

pub async fn post(clickhouse: &Clickhouse, body: String) -> Result<Answer> {
    send(clickhouse, body, &[]).await
}

/// Runs `sql` with its values bound as `param_<name>` (never in the text);
/// `format` (e.g. `JSONCompact`) is appended when not empty.
pub async fn run(clickhouse: &Clickhouse, sql: &Sql, format: &str) -> Result<Answer> {
    let text = if format.is_empty() {
        sql.text.clone()
    } else {
        format!("{} FORMAT {format}", sql.text)
    };
    send(clickhouse, text, &sql.params).await
}

async fn send(
    clickhouse: &Clickhouse,
    body: String,
    params: &[(String, String)],
) -> Result<Answer> {
    let mut url = clickhouse.url.clone();
    {
        let mut pairs = url.query_pairs_mut();
        pairs.append_pair("database", &clickhouse.database);
        for (name, value) in params {
            pairs.append_pair(&format!("param_{name}"), &escaped_param(value));
        }
    }
    let headers = Headers::new();
    headers.set("X-ClickHouse-User", &clickhouse.user)?;
    headers.set("X-ClickHouse-Key", &clickhouse.password)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let controller = AbortController::default();
    let fetch = Fetch::Request(Request::new_with_init(url.as_str(), &init)?);
    let signal = controller.signal();
    let sending = fetch.send_with_signal(&signal);
    let mut response = match select(Box::pin(sending), Box::pin(Delay::from(TIMEOUT))).await {
        Either::Left((response, _)) => response?,
        Either::Right(_) => {
            controller.abort();
            return Err(worker::Error::RustError(format!(
                "ClickHouse did not answer within {} s",
                TIMEOUT.as_secs()
            )));
        }
    };
    let exception_code = response
        .headers()
        .get("X-ClickHouse-Exception-Code")?
        .and_then(|c| c.parse().ok());
    Ok(Answer {
        status: response.status_code(),
        exception_code,
        // a body that breaks off is a failure, not an empty answer
        body: response.text().await?,
    })
}

/// Runs a statement that answers nothing to read (an INSERT, a DDL): a
/// status other than 200 is the failure, named by its ClickHouse code.
pub async fn execute(clickhouse: &Clickhouse, sql: &Sql) -> std::result::Result<(), String> {
    text(clickhouse, sql, "").await.map(drop)
}

/// The body of `sql`'s answer in `format` (`TSV`), or why there is none.
pub async fn text(
    clickhouse: &Clickhouse,
    sql: &Sql,
    format: &str,
) -> std::result::Result<String, String> {
    match run(clickhouse, sql, format).await {
        Ok(answer) if answer.status == 200 => Ok(answer.body),
        Ok(answer) => Err(format!(
            "ClickHouse {} (code {:?})",
            answer.status, answer.exception_code
        )),
        Err(e) => Err(e.to_string()),
    }
}

pub async fn ping(clickhouse: &Clickhouse) -> Result<bool> {
    let mut url = clickhouse.url.clone();
    url.set_path("/ping");
    let response = Fetch::Url(url).send().await?;
    Ok(response.status_code() == 200)
}

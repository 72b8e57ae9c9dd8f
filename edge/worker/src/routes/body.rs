//! Request bodies, read only up to a route's limit: a `Content-Length` over
//! it is refused before anything is read, and a streamed body (no length,
//! or a lying one) is read chunk by chunk and dropped at the limit — never
//! buffered whole (the platform allows 100 MB).

use futures_util::StreamExt;
use worker::Request;

/// The body was larger than the route takes: 413, naming the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request body is larger than {0} bytes")]
pub struct TooLarge(pub usize);

/// The body, up to `max` bytes; an empty one when there is none, or it
/// breaks off (a broken body is then judged as the route judges any other).
pub async fn read(request: &mut Request, max: usize) -> Result<Vec<u8>, TooLarge> {
    let declared = request
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|length| length.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return Err(TooLarge(max));
    }
    let Ok(mut stream) = request.stream() else {
        return Ok(Vec::new()); // no body at all
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        if body.len() + chunk.len() > max {
            return Err(TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

//! Why a Stats API request gets no answer: the request's fault (a 400 that
//! names the field and value), or an answer from ClickHouse this code cannot
//! read (a 5xx: logged, never shown).

use crate::columns::RowError;
use crate::query::QueryError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Row(#[from] RowError),
}

/// ClickHouse's code for a regular expression it cannot compile.
const CANNOT_COMPILE_REGEXP: u32 = 427;

/// The request's fault behind a ClickHouse error code, when it is one: only
/// a `matches` filter's value reaches ClickHouse unchecked (RE2 compiles it).
pub fn request_fault(exception_code: Option<u32>) -> Option<QueryError> {
    (exception_code == Some(CANNOT_COMPILE_REGEXP)).then(|| {
        QueryError("filters: a matches value is not a valid regular expression (RE2 syntax)".into())
    })
}

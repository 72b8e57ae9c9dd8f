//! The Stats API (Plausible's v2 `POST /api/v2/query`), as pure modules:
//! [`schema`] is the one list of metrics, dimensions and filter operators;
//! [`query`] turns a request body into a validated [`query::Query`] or an error
//! that names the field and the value. (Issue 4: SQL, the route, goals and
//! site settings build on these.)

pub mod query;
pub mod schema;

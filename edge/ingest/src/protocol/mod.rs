//! Plausible's event protocol: from request body to a validated event.
//!
//! - [`payload`]: the wire format (the one description of it on the edge side)
//! - [`validate`]: Plausible's limits, field by field, into a [`validate::Event`]
//! - [`props`]: custom props normalized as Plausible does

pub mod payload;
pub mod props;
pub mod validate;

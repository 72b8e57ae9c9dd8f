//! Where the client's IP address and User-Agent stop: they enter
//! [`visitor::visitor_id`] and nothing else keeps them.

pub mod visitor;

//! Where the client's IP address and User-Agent stop: [`client`] reads them
//! from the one trusted source, they enter [`visitor::visitor_id`], and
//! nothing else keeps them.

pub mod client;
pub mod salt;
pub mod visitor;

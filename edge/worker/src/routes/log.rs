//! Writes [`crate::log`] lines to the runtime's console.

use crate::log::{line, Level};
use std::fmt::Display;
use worker::{console_error, console_log};

pub fn error(source: &str, message: impl Display) {
    console_error!("{}", line(Level::Error, source, &message.to_string()));
}

pub fn info(source: &str, message: impl Display) {
    console_log!("{}", line(Level::Info, source, &message.to_string()));
}

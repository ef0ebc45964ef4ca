//! Text for people, `--json` for machines. The only module that prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use serde::Serialize;

use crate::error::CliError;

/// Note text as one line for a terminal: a note may come from anyone who can write to the
/// account or the vault folder, and control characters (escape sequences among them) would
/// be the terminal's to act on.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[derive(Clone)]
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Prints `value` as JSON in `--json` mode, else the text `text` makes of it.
    pub fn print<T: Serialize>(&self, value: &T, text: impl FnOnce(&T) -> String) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(json) => println!("{json}"),
                Err(err) => eprintln!("error: cannot print JSON: {err}"),
            }
        } else {
            let text = text(value);
            if !text.is_empty() {
                println!("{}", text.trim_end_matches('\n'));
            }
        }
    }

    /// How far a long task has come, on stderr (nothing in `--json` mode).
    pub fn progress(&self, message: &str) {
        if !self.json {
            eprintln!("{message}");
        }
    }

    pub fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }

    /// One line on stderr; a JSON object in `--json` mode.
    pub fn error(&self, err: &CliError) {
        // Keep it to one line even when a cause carries newlines.
        let message = err.to_string().replace('\n', " ");
        if self.json {
            let value = serde_json::json!({"error": {"code": err.code(), "message": message}});
            eprintln!("{value}");
        } else {
            eprintln!("error: {message}");
        }
    }
}

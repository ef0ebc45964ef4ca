//! The names the UI invokes and listens for (`ui/src/commands.ts`) are the ones the app
//! registers and sends: a renamed command fails here, not in a person's window.
#![allow(clippy::expect_used)]

use std::collections::BTreeSet;

use quire_app::{COMMAND_NAMES, EVENT_NAMES};

/// The quoted names in `ui/src/commands.ts` between `export const LIST = [` and `]`.
fn ui_list(list: &str) -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/commands.ts");
    let source = std::fs::read_to_string(path).expect("ui/src/commands.ts is readable");
    let start = format!("export const {list} = [");
    let after = &source[source.find(&start).expect("the list is there") + start.len()..];
    let body = &after[..after.find(']').expect("the list ends")];
    body.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn rust_list(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|&name| name.to_owned()).collect()
}

#[test]
fn the_ui_invokes_exactly_the_commands_the_app_registers() {
    assert_eq!(COMMAND_NAMES.len(), rust_list(COMMAND_NAMES).len());
    assert_eq!(ui_list("COMMANDS"), rust_list(COMMAND_NAMES));
}

#[test]
fn the_ui_listens_for_exactly_the_events_the_app_sends() {
    assert_eq!(ui_list("EVENTS"), rust_list(EVENT_NAMES));
}

//! The `quire` binary as a script would run it.

use std::process::Command;

fn quire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quire"))
}

#[test]
fn version_names_the_binary_and_the_workspace_version() {
    let out = quire().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("quire {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_describes_the_tool() {
    let out = quire().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Usage: quire"), "{text}");
    assert!(text.contains("offline-first notes"), "{text}");
}

#[test]
fn no_arguments_shows_usage_and_fails() {
    let out = quire().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(text.contains("Usage: quire"), "{text}");
}

#[test]
fn an_unknown_flag_is_a_clear_error() {
    let out = quire().arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(
        text.starts_with("error: unexpected argument '--frobnicate'"),
        "{text}"
    );
}

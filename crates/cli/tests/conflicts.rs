//! `quire conflicts list|show|resolve`.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{stderr, Device, LocalServer};

#[test]
fn conflicts_are_listed_shown_and_resolved_from_the_command_line() {
    let server = LocalServer::start();
    let url = server.url.as_str();
    let (laptop, phone) = (Device::new(), Device::new());
    for (device, verb) in [(&laptop, "register"), (&phone, "login")] {
        let out = device.account(
            &["account", verb, "--server", url, "--user", "flo"],
            Some("long enough pw"),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let id = laptop.ok_with_stdin(&["note", "add", "--title", "Plan"], b"1\n2\n3\n");
    let id = id.trim();
    laptop.ok(&["sync"]);
    phone.ok(&["sync"]);
    laptop.ok_with_stdin(&["note", "edit", id, "--file", "-"], b"1\nlaptop\n3\n");
    phone.ok_with_stdin(&["note", "edit", id, "--file", "-"], b"1\nphone\n3\n");
    laptop.ok(&["sync"]);
    let text = phone.ok(&["sync"]);
    assert!(text.contains("1 note needs your decision"), "{text}");

    let list = phone.json(&["conflicts", "list"]);
    assert_eq!(list[0]["noteId"], id);
    let shown = phone.ok(&["conflicts", "show", id]);
    assert!(
        shown.contains("1\n<<<<<<< mine\nphone\n=======\nlaptop\n>>>>>>> theirs\n3"),
        "{shown}"
    );
    let out = phone.run(&["conflicts", "resolve", id], b"");
    assert_eq!(out.status.code(), Some(2), "--take or --file is required");

    // Writing on in the undecided note: the change waits for the decision, and sync says so.
    phone.ok_with_stdin(
        &["note", "edit", id, "--file", "-"],
        b"1
phone, more
3
",
    );
    let err = phone.fails(&["sync"]);
    assert!(
        err.contains("1 changes wait until you decide their notes' conflicts"),
        "{err}"
    );

    phone.ok(&["conflicts", "resolve", id, "--take", "mine"]);
    assert_eq!(phone.ok(&["conflicts", "list"]).trim(), "no conflicts");
    let err = phone.fails(&["conflicts", "show", id]);
    assert!(err.contains("has no open conflict"), "{err}");
    phone.ok(&["sync"]);
    laptop.ok(&["sync"]);
    assert_eq!(
        laptop.json(&["note", "show", id])["body"],
        "1\nphone, more\n3\n"
    );
}

//! `quire note`: adding, showing, editing, listing and deleting notes.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::Device;

#[test]
fn a_note_goes_through_its_whole_life() {
    let device = Device::new();
    let id = device.ok_with_stdin(&["note", "add", "--title", "Groceries"], b"- milk\n");
    let id = id.trim();

    let note = device.json(&["note", "show", id]);
    assert_eq!(note["title"], "Groceries");
    assert_eq!(note["body"], "- milk\n");
    assert_eq!(note["deleted"], false);
    assert_eq!(device.ok(&["note", "show", id]), "# Groceries\n\n- milk\n");

    let body = device.path().join("body.md");
    std::fs::write(&body, "- milk\n- bread\n").unwrap();
    device.ok(&[
        "note",
        "edit",
        id,
        "--title",
        "Shopping",
        "--file",
        body.to_str().unwrap(),
    ]);
    let note = device.json(&["note", "show", id]);
    assert_eq!(note["title"], "Shopping");
    assert_eq!(note["body"], "- milk\n- bread\n");

    let list = device.json(&["note", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["title"], "Shopping");
    assert_eq!(list[0]["pending"], true);
    assert!(device.ok(&["note", "list"]).contains(" * Shopping"));

    // Unsent create + edit fold into one create with the latest text.
    let queue = device.json(&["queue"]);
    assert_eq!(queue.as_array().unwrap().len(), 1);
    assert_eq!(queue[0]["op"]["payload"]["kind"], "create");
    assert_eq!(queue[0]["op"]["payload"]["body"], "- milk\n- bread\n");

    assert_eq!(
        device.ok(&["note", "delete", id]).trim(),
        format!("deleted {id}")
    );
    assert_eq!(device.json(&["note", "list"]), serde_json::json!([]));
    assert_eq!(device.json(&["note", "show", id])["deleted"], true);
    let kinds: Vec<_> = device
        .json(&["queue"])
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["op"]["payload"]["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["create", "delete"]);

    // It waits in Trash, and comes back with its text; the delete is taken back.
    let trash = device.json(&["note", "trash"]);
    assert_eq!(trash.as_array().unwrap().len(), 1);
    assert_eq!(trash[0]["title"], "Shopping");
    assert!(device
        .ok(&["note", "restore", id])
        .starts_with(&format!("restored {id}")));
    assert_eq!(device.json(&["note", "trash"]), serde_json::json!([]));
    assert_eq!(
        device.json(&["note", "show", id])["body"],
        "- milk\n- bread\n"
    );
    assert_eq!(device.json(&["queue"]).as_array().unwrap().len(), 1);
}

#[test]
fn bad_input_is_one_clear_line_and_changes_nothing() {
    let device = Device::new();
    let id = device.ok_with_stdin(&["note", "add", "--title", "kept"], b"body");
    let id = id.trim();
    let missing = "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d10";

    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["note".into(), "show".into(), missing.into()],
            "no note has the id",
        ),
        (
            vec![
                "note".into(),
                "edit".into(),
                missing.into(),
                "--title".into(),
                "x".into(),
            ],
            "no note has the id",
        ),
        (
            vec!["note".into(), "delete".into(), missing.into()],
            "no note has the id",
        ),
        (
            vec!["note".into(), "restore".into(), missing.into()],
            "no note has the id",
        ),
        (
            vec!["note".into(), "add".into(), "--title".into(), "  ".into()],
            "the title is empty",
        ),
        (
            vec!["note".into(), "edit".into(), id.into()],
            "nothing to change",
        ),
        (
            vec![
                "note".into(),
                "add".into(),
                "--title".into(),
                "x".into(),
                "--file".into(),
                "/nonexistent/body.md".into(),
            ],
            "cannot read /nonexistent/body.md",
        ),
        (
            vec!["note".into(), "add".into(), "--title".into(), "a\nb".into()],
            "single line",
        ),
    ];
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = device.fails(&args);
        assert!(err.contains(expected), "quire {args:?}: {err}");
    }

    let latin1 = device.path().join("latin1.txt");
    std::fs::write(&latin1, b"caf\xe9").unwrap();
    let err = device.fails(&[
        "note",
        "add",
        "--title",
        "x",
        "--file",
        latin1.to_str().unwrap(),
    ]);
    assert!(
        err.contains("not valid UTF-8 (first bad byte at offset 3)"),
        "{err}"
    );

    // Nothing of the above was stored or queued.
    assert_eq!(device.json(&["note", "list"]).as_array().unwrap().len(), 1);
    assert_eq!(device.json(&["queue"]).as_array().unwrap().len(), 1);
    assert_eq!(device.json(&["note", "show", id])["body"], "body");
}

#[test]
fn search_finds_body_words_with_a_marked_snippet_and_never_fails_on_what_is_typed() {
    let device = Device::new();
    let kept = device.ok_with_stdin(
        &["note", "add", "--title", "Trip"],
        b"we fly to Lisbon on Friday\n",
    );
    device.ok_with_stdin(&["note", "add", "--title", "Other"], b"nothing here\n");
    let hits = device.json(&["note", "search", "lisb"]);
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["id"], kept.trim());
    let marked: Vec<&str> = hits[0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|run| run["matched"] == true)
        .map(|run| run["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["Lisbon"]);
    assert!(device
        .ok(&["note", "search", "friday"])
        .contains("[Friday]"));
    // A note's control characters never reach the terminal.
    device.ok_with_stdin(
        &["note", "add", "--title", "Esc\u{1b}]52;c;aGk=\u{7}ape"],
        b"clip \x1b[2J board\n",
    );
    let shown = device.ok(&["note", "search", "clip"]);
    assert!(shown.contains("Esc ]52;c;aGk= ape"), "{shown}");
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert!(!device.ok(&["note", "list"]).contains('\u{1b}'));
    // An operator is a word like any other: NOT is the start of "nothing".
    assert_eq!(device.json(&["note", "search", "NOT"])[0]["title"], "Other");
    for typed in ["(", "\"", "OR", "a AND", "*", "title:x", "NEAR(a b)"] {
        assert_eq!(
            device.json(&["note", "search", typed]),
            serde_json::json!([]),
            "{typed}"
        );
    }
}

//! Store tests on real SQLCipher files in temp dirs, with the file credentials store
//! (the keyring has its own tests in tests/keyring.rs).

use std::path::Path;

use quire_core::protocol::PushResult;
use quire_core::settings::{ConflictPolicy, SettingKey};
use quire_core::validate::ValidationError;
use quire_core::{Millis, NoteFields, NoteId, OpKind, OpPayload, Version};

use super::*;
use crate::credentials::{FileStore, CREDENTIALS_FILE};

fn secrets(dir: &Path) -> FileStore {
    FileStore::new(dir.join(CREDENTIALS_FILE))
}

async fn open(dir: &Path) -> Store {
    Store::open(dir, &secrets(dir)).await.unwrap()
}

fn read_all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn a_new_note_is_stored_with_its_create_op() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let note = store
        .create_note(NoteFields::new(" Groceries ", "- milk"))
        .await
        .unwrap();
    assert_eq!(note.title, "Groceries");
    assert_eq!(note.version, None);

    assert_eq!(store.note(note.id).await.unwrap(), note);
    let list = store.list_notes().await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].pending);

    let queue = store.pending_ops(10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].op.note_id, note.id);
    assert_eq!(queue[0].op.device_id, store.device_id().await.unwrap());
    assert_eq!(
        queue[0].op.payload,
        OpPayload::Create(NoteFields::new("Groceries", "- milk"))
    );
}

#[tokio::test]
async fn unsent_edits_fold_into_one_op_and_sent_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let note = store.create_note(NoteFields::new("a", "1")).await.unwrap();
    let edit = |body: &str| NoteEdit::body(body);
    store.update_note(note.id, edit("2")).await.unwrap();
    store.update_note(note.id, edit("3")).await.unwrap();
    let queue = store.pending_ops(10).await.unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(
        queue[0].op.payload,
        OpPayload::Create(NoteFields::new("a", "3"))
    );

    store
        .mark_sent(&[queue[0].op.op_id], Millis(1))
        .await
        .unwrap();
    store.update_note(note.id, edit("4")).await.unwrap();
    store.update_note(note.id, edit("5")).await.unwrap();
    let queue = store.pending_ops(10).await.unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!(
        queue[0].op.payload,
        OpPayload::Create(NoteFields::new("a", "3")),
        "the sent op keeps the text it went with"
    );
    assert_eq!(
        queue[1].op.payload,
        OpPayload::Update(NoteFields::new("a", "5"))
    );
    assert!(queue[0].op.clock < queue[1].op.clock);
}

/// What the queue would push, in order.
async fn queued_payloads(store: &Store) -> Vec<OpPayload> {
    let queue = store.pending_ops(100).await.unwrap();
    queue.into_iter().map(|q| q.op.payload).collect()
}

/// The texts the queue keeps of its own, in queue order (`None`: it shares its note's).
async fn stored_op_texts(store: &Store) -> Vec<Option<String>> {
    sqlx::query_scalar("SELECT body FROM outbox ORDER BY seq")
        .fetch_all(&store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_queued_op_shares_its_notes_text_until_the_note_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let note = store.create_note(NoteFields::new("a", "1")).await.unwrap();
    let imported = store
        .create_notes(vec![NoteFields::new("b", "2"), NoteFields::new("c", "3")])
        .await
        .unwrap();
    store
        .update_note(note.id, NoteEdit::body("1+"))
        .await
        .unwrap();
    assert_eq!(
        stored_op_texts(&store).await,
        [None, None, None],
        "no second copies"
    );

    // Once sent, an op no longer follows its note: the next edit leaves it its own copy.
    let queue = store.pending_ops(10).await.unwrap();
    let ids: Vec<_> = queue.iter().map(|q| q.op.op_id).collect();
    store.mark_sent(&ids, Millis(1)).await.unwrap();
    store
        .update_note(note.id, NoteEdit::body("1++"))
        .await
        .unwrap();
    store
        .update_note(imported[0].id, NoteEdit::body("2+"))
        .await
        .unwrap();
    store.delete_note(imported[1].id).await.unwrap();
    assert_eq!(
        stored_op_texts(&store).await,
        [
            Some("1+".to_owned()),
            Some("2".to_owned()),
            None,
            None,
            None,
            None
        ]
    );
    assert_eq!(
        queued_payloads(&store).await,
        [
            OpPayload::Create(NoteFields::new("a", "1+")),
            OpPayload::Create(NoteFields::new("b", "2")),
            OpPayload::Create(NoteFields::new("c", "3")),
            OpPayload::Update(NoteFields::new("a", "1++")),
            OpPayload::Update(NoteFields::new("b", "2+")),
            OpPayload::Delete,
        ]
    );
}

#[tokio::test]
async fn an_edit_that_changes_nothing_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let note = store.create_note(NoteFields::new("a", "1")).await.unwrap();
    let queue = store.pending_ops(10).await.unwrap();
    store
        .mark_sent(&[queue[0].op.op_id], Millis(1))
        .await
        .unwrap();
    let same = NoteEdit {
        title: Some("a".into()),
        body: Some("1".into()),
    };
    store.update_note(note.id, same).await.unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 1);
}

#[tokio::test]
async fn delete_leaves_a_tombstone_and_queues_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let first = store
        .create_note(NoteFields::new("first", ""))
        .await
        .unwrap();
    let second = store
        .create_note(NoteFields::new("second", ""))
        .await
        .unwrap();
    store.delete_note(first.id).await.unwrap();

    assert!(store.note(first.id).await.unwrap().deleted);
    let titles: Vec<_> = store
        .list_notes()
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert_eq!(titles, ["second"]);

    let queue = store.pending_ops(10).await.unwrap();
    let kinds: Vec<_> = queue
        .iter()
        .map(|q| (q.op.note_id, q.op.payload.kind()))
        .collect();
    let expected = [
        (first.id, OpKind::Create),
        (second.id, OpKind::Create),
        (first.id, OpKind::Delete),
    ];
    assert_eq!(kinds, expected);

    let edit = NoteEdit {
        title: Some("again".into()),
        body: None,
    };
    assert!(matches!(
        store.update_note(first.id, edit).await,
        Err(Error::NoteDeleted(_))
    ));
    assert!(matches!(
        store.delete_note(first.id).await,
        Err(Error::NoteDeleted(_))
    ));
}

#[tokio::test]
async fn only_acknowledged_ops_leave_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    for i in 0..5 {
        store
            .create_note(NoteFields::new(format!("n{i}"), ""))
            .await
            .unwrap();
    }
    let first_two: Vec<_> = store
        .pending_ops(2)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.op.op_id)
        .collect();
    assert_eq!(first_two.len(), 2);
    assert_eq!(store.ack(&first_two).await.unwrap(), 2);
    // Acknowledging again (a replayed confirmation) removes nothing more.
    assert_eq!(store.ack(&first_two).await.unwrap(), 0);
    let rest = store.pending_ops(10).await.unwrap();
    assert_eq!(rest.len(), 3);
    assert!(rest.iter().all(|q| !first_two.contains(&q.op.op_id)));
}

#[tokio::test]
async fn unknown_ids_and_bad_text_are_clear_errors_that_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let missing = crate::clock::new_note_id();
    assert!(matches!(store.note(missing).await, Err(Error::NoteNotFound(id)) if id == missing));
    assert!(matches!(
        store.update_note(missing, NoteEdit::default()).await,
        Err(Error::NoteNotFound(_))
    ));
    assert!(matches!(
        store.create_note(NoteFields::new("  ", "body")).await,
        Err(Error::Invalid(ValidationError::EmptyTitle))
    ));
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert!(store.list_notes().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_import_stores_every_note_with_its_op_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let refused = store
        .create_notes(vec![
            NoteFields::new("One", "1"),
            NoteFields::new("", "no title"),
        ])
        .await;
    assert!(matches!(
        refused,
        Err(Error::Invalid(ValidationError::EmptyTitle))
    ));
    assert!(store.list_notes().await.unwrap().is_empty());

    let created = store
        .create_notes(
            (0..3)
                .map(|i| NoteFields::new(format!("n{i}"), "x"))
                .collect(),
        )
        .await
        .unwrap();
    let queued: Vec<_> = store
        .pending_ops(10)
        .await
        .unwrap()
        .into_iter()
        .map(|queued| queued.op.note_id)
        .collect();
    let ids: Vec<_> = created.iter().map(|note| note.id).collect();
    assert_eq!(queued, ids, "one create op per note, in order");
    assert_eq!(store.list_notes().await.unwrap().len(), 3);
}

#[tokio::test]
async fn notes_device_and_settings_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let device = store.device_id().await.unwrap();
    let note = store
        .create_note(NoteFields::new("kept", "text"))
        .await
        .unwrap();
    store
        .set_setting(SettingKey::BatchSize, "25")
        .await
        .unwrap();
    store.close().await;

    let store = open(dir.path()).await;
    assert_eq!(store.device_id().await.unwrap(), device);
    assert_eq!(store.note(note.id).await.unwrap().body, "text");
    assert_eq!(
        store
            .setting(SettingKey::BatchSize)
            .await
            .unwrap()
            .as_deref(),
        Some("25")
    );
    assert_eq!(store.pending_count().await.unwrap(), 1);
}

#[tokio::test]
async fn settings_have_defaults_and_refuse_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    assert_eq!(
        store
            .setting(SettingKey::ConflictPolicy)
            .await
            .unwrap()
            .as_deref(),
        Some("merge")
    );
    assert_eq!(store.setting(SettingKey::Server).await.unwrap(), None);
    assert_eq!(
        store
            .set_setting(SettingKey::Server, "http://127.0.0.1:8787/")
            .await
            .unwrap(),
        "http://127.0.0.1:8787"
    );
    assert!(matches!(
        store.set_setting(SettingKey::SyncInterval, "never").await,
        Err(Error::Setting(_))
    ));
    let status = store.status().await.unwrap();
    assert_eq!(status.server.as_deref(), Some("http://127.0.0.1:8787"));
    assert_eq!(status.last_sync_at, None);
}

#[tokio::test]
async fn no_note_text_is_in_any_file_in_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let marker = "quire-plaintext-marker-7f3a9c";
    let note = store
        .create_note(NoteFields::new(marker, format!("body {marker}")))
        .await
        .unwrap();
    store
        .update_note(note.id, NoteEdit::body(format!("{marker} again")))
        .await
        .unwrap();

    // While open: the WAL holds the latest pages; it is encrypted too.
    let files = read_all_files(dir.path());
    assert!(
        files.iter().any(|(name, _)| name.ends_with("-wal")),
        "expected a WAL file"
    );
    for (name, bytes) in &files {
        assert!(
            !contains(bytes, marker.as_bytes()),
            "{name} holds note text in plain text"
        );
    }
    store.close().await;
    for (name, bytes) in read_all_files(dir.path()) {
        assert!(
            !contains(&bytes, marker.as_bytes()),
            "{name} holds note text in plain text"
        );
        // Not even SQLite's own header: the whole file is ciphertext.
        assert!(
            !contains(&bytes, b"SQLite format 3"),
            "{name} is not encrypted"
        );
    }
}

/// A closed store holding one note; returns the database's path and its bytes.
async fn store_with_a_note(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let store = open(dir).await;
    store
        .create_note(NoteFields::new("precious", ""))
        .await
        .unwrap();
    store.close().await;
    let db = dir.join(DATABASE_FILE);
    let bytes = std::fs::read(&db).unwrap();
    (db, bytes)
}

#[tokio::test]
async fn a_wrong_key_is_an_error_and_the_database_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (db, before) = store_with_a_note(dir.path()).await;

    // Swap the key for another valid-looking one.
    let secrets = secrets(dir.path());
    let meta = meta::load_or_create(dir.path(), true).unwrap();
    let name = format!("db-key/{}", meta.store_id);
    secrets.set(&name, &new_database_key()).unwrap();

    let err = Store::open(dir.path(), &secrets).await.err().unwrap();
    assert!(matches!(err, Error::WrongKeyOrNotADatabase { .. }), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[tokio::test]
async fn a_missing_key_never_makes_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let (db, before) = store_with_a_note(dir.path()).await;
    std::fs::remove_file(dir.path().join(CREDENTIALS_FILE)).unwrap();

    let err = Store::open(dir.path(), &secrets(dir.path()))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::MissingDatabaseKey { .. }), "{err}");
    assert!(err.to_string().contains("nothing was opened or changed"));
    assert_eq!(std::fs::read(&db).unwrap(), before);
    // And no key was made for it either.
    assert!(!dir.path().join(CREDENTIALS_FILE).exists());
}

#[tokio::test]
async fn a_file_that_is_not_a_quire_database_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    // A store made elsewhere, then its database replaced by something else entirely.
    open(dir.path()).await.close().await;
    let db = dir.path().join(DATABASE_FILE);
    std::fs::write(&db, b"these are my notes, not a database").unwrap();
    let _ = std::fs::remove_file(dir.path().join(format!("{DATABASE_FILE}-wal")));

    let err = Store::open(dir.path(), &secrets(dir.path()))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::WrongKeyOrNotADatabase { .. }), "{err}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        b"these are my notes, not a database"
    );
}

#[tokio::test]
async fn a_lost_store_id_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path()).await.close().await;
    std::fs::remove_file(dir.path().join(meta::META_FILE)).unwrap();
    let err = Store::open(dir.path(), &secrets(dir.path()))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::StoreMeta { .. }), "{err}");
    assert!(err.to_string().contains("store.json"));
}

#[tokio::test]
async fn a_write_blocked_by_another_process_is_a_clear_error_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let holder = open(dir.path()).await;
    let writer = open(dir.path()).await;
    // Another process in the middle of a write transaction that never ends.
    let held = holder.pool.begin_with("BEGIN IMMEDIATE").await.unwrap();

    let started = std::time::Instant::now();
    let err = writer
        .create_note(NoteFields::new("blocked", ""))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DatabaseLocked), "{err}");
    assert!(err.to_string().contains("busy in another Quire process"));
    assert!(
        started.elapsed() >= BUSY_TIMEOUT,
        "it waited for the other writer first"
    );

    drop(held);
    assert!(writer.list_notes().await.unwrap().is_empty());
    assert_eq!(writer.pending_count().await.unwrap(), 0);
    // Once the other process is done, writing works again.
    writer
        .create_note(NoteFields::new("after", ""))
        .await
        .unwrap();
}

/// A store whose database went through the migrations before `before` only, with the
/// same key and id as a store made today: what a person upgrading from then has.
async fn store_migrated_up_to(dir: &Path, before: &str) -> SqlitePool {
    let store = open(dir).await;
    let (id, path) = (store.store_id(), store.path().to_owned());
    store.close().await;
    std::fs::remove_file(&path).unwrap();
    let key = secrets(dir).get(&format!("db-key/{id}")).unwrap().unwrap();
    let older = tempfile::tempdir().unwrap();
    let all = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(all).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().as_ref() < before {
            std::fs::copy(entry.path(), older.path().join(entry.file_name())).unwrap();
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(connect_options(&path, &key, true).unwrap())
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(older.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool
}

#[tokio::test]
async fn an_upgraded_queue_shares_only_the_texts_its_notes_still_hold() {
    let dir = tempfile::tempdir().unwrap();
    let pool = store_migrated_up_to(dir.path(), "20261127100000").await;
    for (id, body) in [
        ("01936d4c-0000-7000-8000-00000000000a", "now"),
        ("01936d4c-0000-7000-8000-00000000000b", "kept"),
    ] {
        sqlx::query(
            "INSERT INTO notes (id, title, body, created_at, updated_at) VALUES (?, 't', ?, 1, 1)",
        )
        .bind(id)
        .bind(body)
        .execute(&pool)
        .await
        .unwrap();
    }
    // Note a: a sent create of an older text, then an update of the text it has now.
    // Note b: a create of its text, then its delete. Then ops left the queue before, so
    // the counter is ahead of the rows.
    for (seq, op, note, kind, body) in [
        (
            7,
            "01936d4c-0000-7000-8000-000000000001",
            'a',
            "create",
            Some("before"),
        ),
        (
            8,
            "01936d4c-0000-7000-8000-000000000002",
            'a',
            "update",
            Some("now"),
        ),
        (
            9,
            "01936d4c-0000-7000-8000-000000000003",
            'b',
            "create",
            Some("kept"),
        ),
        (
            10,
            "01936d4c-0000-7000-8000-000000000004",
            'b',
            "delete",
            None,
        ),
    ] {
        sqlx::query(
            "INSERT INTO outbox (seq, op_id, note_id, kind, title, body, device_id, clock,
                created_at)
             VALUES (?, ?, ?, ?, ?, ?, '01936d4c-0000-7000-8000-0000000000dd', ?, 1)",
        )
        .bind(seq)
        .bind(op)
        .bind(format!("01936d4c-0000-7000-8000-00000000000{note}"))
        .bind(kind)
        .bind(body.map(|_| "t"))
        .bind(body)
        .bind(seq)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE sqlite_sequence SET seq = 41 WHERE name = 'outbox'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = open(dir.path()).await;
    assert_eq!(
        stored_op_texts(&store).await,
        [Some("before".to_owned()), None, None, None]
    );
    assert_eq!(
        queued_payloads(&store).await,
        [
            OpPayload::Create(NoteFields::new("t", "before")),
            OpPayload::Update(NoteFields::new("t", "now")),
            OpPayload::Create(NoteFields::new("t", "kept")),
            OpPayload::Delete,
        ]
    );
    let note = store.create_note(NoteFields::new("new", "")).await.unwrap();
    let queue = store.pending_ops(10).await.unwrap();
    assert_eq!(queue[4].op.note_id, note.id);
    assert_eq!(queue[4].seq, 42, "queue places keep counting");
}

/// The base kept for a note: its version and text (NULL columns read as the note's own).
async fn base_of(store: &Store, id: NoteId) -> Option<(i64, String, String)> {
    sqlx::query_as(&format!(
        "SELECT {} FROM bases b JOIN notes n ON n.id = b.note_id WHERE b.note_id = ?",
        remote::BASE_COLUMNS
    ))
    .bind(id.to_string())
    .fetch_optional(&store.pool)
    .await
    .unwrap()
}

fn applied(queued: &QueuedOp, version: u64) -> PushResult {
    PushResult::Applied {
        op_id: queued.op.op_id,
        version: Version(version),
        server_time: Millis(1),
    }
}

#[tokio::test]
async fn an_applied_push_makes_the_text_it_carried_the_base_even_after_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let a = store
        .create_note(NoteFields::new("a", "sent"))
        .await
        .unwrap();
    let b = store
        .create_note(NoteFields::new("b", "as is"))
        .await
        .unwrap();
    let batch = store.pending_ops(10).await.unwrap();
    let ids: Vec<_> = batch.iter().map(|q| q.op.op_id).collect();
    store.mark_sent(&ids, Millis(1)).await.unwrap();
    // Note a changes while its create is on the wire; b does not.
    store
        .update_note(a.id, NoteEdit::body("typed meanwhile"))
        .await
        .unwrap();

    let results = [applied(&batch[0], 1), applied(&batch[1], 1)];
    store
        .apply_push_results(&batch, &results, ConflictPolicy::Merge)
        .await
        .unwrap();

    assert_eq!(
        base_of(&store, a.id).await,
        Some((1, "a".to_owned(), "sent".to_owned())),
        "the base is what the server has, not the newer local text"
    );
    assert_eq!(
        base_of(&store, b.id).await,
        Some((1, "b".to_owned(), "as is".to_owned()))
    );
    assert_eq!(store.note(a.id).await.unwrap().version, Some(Version(1)));
    assert_eq!(store.note(b.id).await.unwrap().version, Some(Version(1)));
    let queue = store.pending_ops(10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].op.base_version, Some(Version(1)), "rebased");

    // A late answer for an older version takes nothing back.
    let late = [applied(&batch[0], 1)];
    store
        .apply_push_results(&queue, &[applied(&queue[0], 2)], ConflictPolicy::Merge)
        .await
        .unwrap();
    store
        .apply_push_results(&batch[..1], &late, ConflictPolicy::Merge)
        .await
        .unwrap();
    assert_eq!(store.note(a.id).await.unwrap().version, Some(Version(2)));
    assert_eq!(
        base_of(&store, a.id).await,
        Some((2, "a".to_owned(), "typed meanwhile".to_owned()))
    );
}

#[tokio::test]
async fn an_op_folded_into_an_edit_after_it_was_read_still_leaves_its_base_when_applied() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let note = store
        .create_note(NoteFields::new("a", "sent"))
        .await
        .unwrap();
    // The push reads the op; an edit folds into it (a new op id) before it is marked
    // sent, so the text read goes to the server while the queue holds the newer one.
    let batch = store.pending_ops(10).await.unwrap();
    store
        .update_note(note.id, NoteEdit::body("folded"))
        .await
        .unwrap();
    let ids: Vec<_> = batch.iter().map(|q| q.op.op_id).collect();
    store.mark_sent(&ids, Millis(1)).await.unwrap();
    store
        .apply_push_results(&batch, &[applied(&batch[0], 1)], ConflictPolicy::Merge)
        .await
        .unwrap();

    assert_eq!(
        base_of(&store, note.id).await,
        Some((1, "a".to_owned(), "sent".to_owned()))
    );
    assert_eq!(store.note(note.id).await.unwrap().version, Some(Version(1)));
    let queue = store.pending_ops(10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(
        queue[0].op.base_version,
        Some(Version(1)),
        "goes on top of it"
    );
    assert_eq!(
        queue[0].op.payload,
        OpPayload::Create(NoteFields::new("a", "folded"))
    );
}

#[tokio::test]
async fn an_upgraded_store_keeps_each_notes_synced_version_in_its_base() {
    let dir = tempfile::tempdir().unwrap();
    let pool = store_migrated_up_to(dir.path(), "20261128000000").await;
    // (note, synced version, base version, a queued op)
    let notes = [
        (
            "01936d4c-0000-7000-8000-00000000000a",
            Some(7),
            Some(7),
            false,
        ),
        ("01936d4c-0000-7000-8000-00000000000b", None, None, true),
        // Rows no Quire writes, which the upgrade must not make worse: a version without a
        // base, with and without a queued change.
        ("01936d4c-0000-7000-8000-00000000000c", Some(3), None, false),
        ("01936d4c-0000-7000-8000-00000000000d", Some(4), None, true),
    ];
    for (id, version, base, queued) in notes {
        sqlx::query(
            "INSERT INTO notes (id, title, body, created_at, updated_at, version)
             VALUES (?, 't', 'b', 1, 1, ?)",
        )
        .bind(id)
        .bind(version)
        .execute(&pool)
        .await
        .unwrap();
        if let Some(base) = base {
            sqlx::query("INSERT INTO bases (note_id, version, title) VALUES (?, ?, 'old')")
                .bind(id)
                .bind(base)
                .execute(&pool)
                .await
                .unwrap();
        }
        if queued {
            sqlx::query(
                "INSERT INTO outbox (op_id, note_id, kind, base_version, device_id, clock,
                    created_at)
                 VALUES (?, ?, 'update', ?, '01936d4c-0000-7000-8000-0000000000dd', 1, 1)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(id)
            .bind(version)
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    pool.close().await;

    let store = open(dir.path()).await;
    let id = |i: usize| -> NoteId { notes[i].0.parse().unwrap() };
    let mut versions = Vec::new();
    let mut bases = Vec::new();
    for i in 0..notes.len() {
        versions.push(store.note(id(i)).await.unwrap().version);
        bases.push(base_of(&store, id(i)).await);
    }
    assert_eq!(versions, [Some(Version(7)), None, Some(Version(3)), None]);
    let base = |title: &str| Some((title.to_owned(), "b".to_owned()));
    let texts: Vec<_> = bases
        .iter()
        .map(|b| b.clone().map(|(_, t, b)| (t, b)))
        .collect();
    assert_eq!(texts, [base("old"), None, base("t"), None]);
    // The queued op of the note left without a base keeps the version it was made on.
    let queue = store.pending_ops(10).await.unwrap();
    let made_on: Vec<_> = queue.iter().map(|q| q.op.base_version).collect();
    assert_eq!(made_on, [None, Some(Version(4))]);
    // An edit is queued on the version the note had.
    store
        .update_note(id(0), NoteEdit::body("new"))
        .await
        .unwrap();
    let queue = store.pending_ops(10).await.unwrap();
    assert_eq!(queue[2].op.base_version, Some(Version(7)));
}

#[tokio::test]
async fn a_read_of_pushable_ops_stops_at_its_text_budget() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    for _ in 0..5 {
        store
            .create_note(NoteFields::new("t", "x".repeat(100)))
            .await
            .unwrap();
    }
    let none = std::collections::HashSet::new();
    let count = |budget| {
        let (store, none) = (&store, &none);
        async move { store.pushable_ops(10, budget, none).await.unwrap().len() }
    };
    // 101 bytes each: the ops that start under the budget.
    assert_eq!(count(250).await, 3);
    assert_eq!(count(303).await, 3);
    assert_eq!(count(304).await, 4);
    // A note larger than the budget still goes, alone.
    assert_eq!(count(1).await, 1);
    assert_eq!(count(usize::MAX).await, 5);
}

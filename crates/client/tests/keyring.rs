//! The real OS keyring: gnome-keyring's Secret Service in a private D-Bus session
//! (`scripts/with-keyring.sh`, which `make test` uses). Not a mock.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use quire_client::credentials::{KeyringStore, Secret, SecretStore};
use quire_client::Store;
use quire_core::NoteFields;

fn keyring() -> KeyringStore {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need a Secret Service: run them with scripts/with-keyring.sh"
    );
    KeyringStore
}

#[test]
fn secrets_round_trip_through_the_secret_service() {
    let keyring = keyring();
    let name = format!("test/{}", uuid::Uuid::now_v7());
    assert_eq!(keyring.get(&name).unwrap(), None);
    keyring.set(&name, &Secret::new("s3cret".into())).unwrap();
    assert_eq!(keyring.get(&name).unwrap().unwrap().expose(), "s3cret");
    keyring.set(&name, &Secret::new("changed".into())).unwrap();
    assert_eq!(keyring.get(&name).unwrap().unwrap().expose(), "changed");
    keyring.delete(&name).unwrap();
    assert_eq!(keyring.get(&name).unwrap(), None);
    // Deleting what is not there is not an error.
    keyring.delete(&name).unwrap();
}

#[tokio::test]
async fn the_database_key_lives_in_the_keyring_and_nowhere_in_the_data_dir() {
    let keyring = keyring();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &keyring).await.unwrap();
    let note = store
        .create_note(NoteFields {
            title: "in the keyring".into(),
            body: String::new(),
        })
        .await
        .unwrap();
    store.close().await;

    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("store.json")).unwrap()).unwrap();
    let key_name = format!("db-key/{}", meta["store_id"].as_str().unwrap());
    let key = keyring
        .get(&key_name)
        .unwrap()
        .expect("the key is in the keyring");
    assert_eq!(key.expose().len(), 64, "256 bits, hex");
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(64).any(|w| w == key.expose().as_bytes()));
    }
    assert!(!dir.path().join("credentials.json").exists());

    let store = Store::open(dir.path(), &keyring).await.unwrap();
    assert_eq!(store.note(note.id).await.unwrap().title, "in the keyring");
    store.close().await;

    keyring.delete(&key_name).unwrap();
    let err = Store::open(dir.path(), &keyring).await.err().unwrap();
    assert!(err.to_string().contains("not in the OS keyring"), "{err}");
}

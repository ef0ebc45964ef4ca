//! Secrets a device keeps: the database key and the auth token of its session.
//!
//! The OS keyring (Secret Service on Linux, Keychain, Credential Manager) is the default.
//! A person may choose a file instead with `QUIRE_CREDENTIALS=file`: a 0600 JSON file in
//! the data dir, for machines without a keyring. It is never chosen silently.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Environment variable that picks the credentials store: `keyring` (default) or `file`.
pub const CREDENTIALS_ENV: &str = "QUIRE_CREDENTIALS";
/// The keyring service name every Quire secret is filed under.
pub const KEYRING_SERVICE: &str = "quire";
/// File name of the explicit file store inside the data dir.
pub const CREDENTIALS_FILE: &str = "credentials.json";

/// A secret value. Its `Debug` never shows it, so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Where secrets live. Implementations do blocking I/O but are quick (a D-Bus call, a file).
pub trait SecretStore: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<Secret>>;
    fn set(&self, name: &str, secret: &Secret) -> Result<()>;
    fn delete(&self, name: &str) -> Result<()>;
    /// For messages: "OS keyring" or "credentials file".
    fn describe(&self) -> &'static str;
}

/// The store a person chose, and a warning to show them when the choice is the weaker one.
pub struct ChosenStore {
    pub store: Box<dyn SecretStore>,
    pub warning: Option<String>,
}

/// Picks the store from `QUIRE_CREDENTIALS`.
pub fn from_env(data_dir: &Path) -> Result<ChosenStore> {
    choose(std::env::var(CREDENTIALS_ENV).ok().as_deref(), data_dir)
}

fn choose(setting: Option<&str>, data_dir: &Path) -> Result<ChosenStore> {
    match setting.map(str::trim) {
        None | Some("" | "keyring") => Ok(ChosenStore {
            store: Box::new(KeyringStore),
            warning: None,
        }),
        Some("file") => {
            let path = data_dir.join(CREDENTIALS_FILE);
            let warning = format!(
                "secrets are kept in {} (QUIRE_CREDENTIALS=file), not in the OS keyring; \
                 anyone who can read that file can open your notes",
                path.display()
            );
            Ok(ChosenStore {
                store: Box::new(FileStore { path }),
                warning: Some(warning),
            })
        }
        Some(other) => Err(Error::UnknownCredentialsStore(other.to_owned())),
    }
}

/// The OS keyring through the `keyring` crate.
pub struct KeyringStore;

impl KeyringStore {
    fn entry(name: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(KEYRING_SERVICE, name).map_err(keyring_error)
    }
}

fn keyring_error(err: keyring::Error) -> Error {
    match err {
        keyring::Error::PlatformFailure(detail) | keyring::Error::NoStorageAccess(detail) => {
            Error::KeyringUnavailable {
                detail: detail.to_string(),
            }
        }
        other => Error::Keyring(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, name: &str) -> Result<Option<Secret>> {
        match Self::entry(name)?.get_password() {
            Ok(value) => Ok(Some(Secret(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(keyring_error(err)),
        }
    }

    fn set(&self, name: &str, secret: &Secret) -> Result<()> {
        Self::entry(name)?
            .set_password(secret.expose())
            .map_err(keyring_error)
    }

    fn delete(&self, name: &str) -> Result<()> {
        match Self::entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(keyring_error(err)),
        }
    }

    fn describe(&self) -> &'static str {
        "OS keyring"
    }
}

/// A JSON map of name → secret in a file only its owner can read.
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    fn file_error(&self, detail: impl fmt::Display) -> Error {
        Error::CredentialsFile {
            path: self.path.clone(),
            detail: detail.to_string(),
        }
    }

    fn read(&self) -> Result<BTreeMap<String, String>> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| self.file_error(err)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(err) => Err(self.file_error(err)),
        }
    }

    /// Replaces the file atomically: a crash leaves the old file or the new one, never half.
    fn write(&self, secrets: &BTreeMap<String, String>) -> Result<()> {
        let json = serde_json::to_vec_pretty(secrets).map_err(|err| self.file_error(err))?;
        let tmp = self.path.with_extension("json.tmp");
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(|err| self.file_error(err))?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(|err| self.file_error(err))?;
        fs::rename(&tmp, &self.path).map_err(|err| self.file_error(err))
    }
}

impl SecretStore for FileStore {
    fn get(&self, name: &str) -> Result<Option<Secret>> {
        Ok(self.read()?.remove(name).map(Secret))
    }

    fn set(&self, name: &str, secret: &Secret) -> Result<()> {
        let mut secrets = self.read()?;
        secrets.insert(name.to_owned(), secret.expose().to_owned());
        self.write(&secrets)
    }

    fn delete(&self, name: &str) -> Result<()> {
        let mut secrets = self.read()?;
        if secrets.remove(name).is_some() {
            self.write(&secrets)?;
        }
        Ok(())
    }

    fn describe(&self) -> &'static str {
        "credentials file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join(CREDENTIALS_FILE));
        assert_eq!(store.get("a").unwrap(), None);
        store.set("a", &Secret::new("one".into())).unwrap();
        store.set("b", &Secret::new("two".into())).unwrap();
        assert_eq!(store.get("a").unwrap().unwrap().expose(), "one");
        store.delete("a").unwrap();
        assert_eq!(store.get("a").unwrap(), None);
        assert_eq!(store.get("b").unwrap().unwrap().expose(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(CREDENTIALS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_credentials_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CREDENTIALS_FILE);
        fs::write(&path, b"{not json").unwrap();
        let err = FileStore::new(path).get("a").unwrap_err();
        assert!(err.to_string().contains("credentials.json"), "{err}");
    }

    #[test]
    fn choice_comes_from_the_setting_and_warns_for_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            choose(None, dir.path()).unwrap().store.describe(),
            "OS keyring"
        );
        assert_eq!(
            choose(Some("keyring"), dir.path())
                .unwrap()
                .store
                .describe(),
            "OS keyring"
        );
        let file = choose(Some("file"), dir.path()).unwrap();
        assert_eq!(file.store.describe(), "credentials file");
        assert!(file.warning.unwrap().contains("QUIRE_CREDENTIALS=file"));
        assert!(matches!(
            choose(Some("plaintext"), dir.path()),
            Err(Error::UnknownCredentialsStore(_))
        ));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        assert_eq!(format!("{:?}", Secret::new("hunter2".into())), "Secret(…)");
    }
}

//! The account's encryption keys as this device holds them (issue 19; docs/e2e-design.md):
//! fresh randomness for the core's crypto, the key material a new account is made with, and
//! the data key kept in the credentials store beside the database key, under the same rules
//! (OS keyring, or the explicit 0600 file).

use quire_core::crypto::kdf::{self, AccountSecrets, KdfParams, SALT_BYTES};
use quire_core::crypto::recovery::RecoveryKey;
use quire_core::crypto::seal::{wrap_data_key, NONCE_BYTES};
use quire_core::crypto::{CryptoError, DataKey, Secret32, KEY_BYTES};
use quire_core::protocol::{AccountKeys, Hex, WRAPPED_KEY_BYTES};
use rand::RngCore;

use crate::credentials::{Secret, SecretStore};
use crate::{Error, Result};

/// Bytes from the OS-seeded CSPRNG (the same source as the database key).
fn fresh<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A new account's (or a new password's) salt.
pub(crate) fn fresh_salt() -> [u8; SALT_BYTES] {
    fresh()
}

/// A nonce for one sealed value: fresh for every call, as sealing requires.
pub(crate) fn fresh_nonce() -> [u8; NONCE_BYTES] {
    fresh()
}

/// What a new account (or an upgraded one) is made with: what the server keeps, and what
/// only this device and the person may have.
pub(crate) struct NewAccountKeys {
    pub salt: [u8; SALT_BYTES],
    pub kdf: KdfParams,
    /// Goes to the server in place of the password; it keeps only a hash.
    pub auth: Secret32,
    pub wrapped_key: Vec<u8>,
    pub recovery_auth: Secret32,
    pub recovery_wrapped_key: Vec<u8>,
    /// Kept here, never sent.
    pub data_key: DataKey,
    /// Shown to the person once, kept in this device's keyring.
    pub recovery_key: RecoveryKey,
}

/// Fresh keys for the account `account_id` (the id every seal names), wrapped under the
/// password and under a fresh recovery key.
pub(crate) fn new_account_keys(
    password: &str,
    account_id: &str,
    kdf: KdfParams,
) -> Result<NewAccountKeys> {
    let salt = fresh();
    let AccountSecrets { auth, wrap } = kdf::derive_from_password(password, &salt, kdf)?;
    keys_from(salt, kdf, auth, &wrap, account_id)
}

/// [`new_account_keys`] off the async threads (argon2id takes a good fraction of a second).
pub(crate) async fn make_account_keys(
    password: String,
    account_id: uuid::Uuid,
) -> Result<NewAccountKeys> {
    tokio::task::spawn_blocking(move || {
        new_account_keys(&password, &account_id.to_string(), KdfParams::DEFAULT)
    })
    .await
    .map_err(|err| Error::Password(format!("the key derivation stopped: {err}")))?
}

/// A wrapped data key as the wire carries it.
pub(crate) fn wrapped_hex(bytes: &[u8]) -> Result<Hex<WRAPPED_KEY_BYTES>> {
    bytes
        .try_into()
        .map(Hex)
        .map_err(|_| Error::Password("a wrapped key came out of an unexpected size".into()))
}

impl NewAccountKeys {
    /// What the server keeps of these keys, for the account `account_id`.
    pub(crate) fn to_wire(&self, account_id: uuid::Uuid) -> Result<AccountKeys> {
        Ok(AccountKeys {
            account_id,
            salt: Hex(self.salt),
            kdf: self.kdf,
            wrapped_key: wrapped_hex(&self.wrapped_key)?,
            recovery_auth: Hex(*self.recovery_auth.expose()),
            recovery_wrapped_key: wrapped_hex(&self.recovery_wrapped_key)?,
        })
    }
}

fn keys_from(
    salt: [u8; SALT_BYTES],
    kdf: KdfParams,
    auth: Secret32,
    wrap: &Secret32,
    account_id: &str,
) -> Result<NewAccountKeys> {
    let data_key = DataKey::from_bytes(fresh());
    let recovery_key = RecoveryKey::from_bytes(fresh());
    let recovery = recovery_key.secrets();
    Ok(NewAccountKeys {
        salt,
        kdf,
        auth,
        wrapped_key: wrap_data_key(&data_key, wrap, account_id, false, fresh_nonce())?,
        recovery_auth: recovery.auth,
        recovery_wrapped_key: wrap_data_key(
            &data_key,
            &recovery.wrap,
            account_id,
            true,
            fresh_nonce(),
        )?,
        data_key,
        recovery_key,
    })
}

/// What this device keeps of an end-to-end account's keys, in the credentials store beside
/// the database key: the data key (`data-key/<store id>`), and, on the device that made it,
/// the recovery key (`recovery-key/<store id>`).
pub(crate) struct AccountKeyStore<'a> {
    secrets: &'a dyn SecretStore,
    store_id: uuid::Uuid,
}

impl<'a> AccountKeyStore<'a> {
    pub fn new(secrets: &'a dyn SecretStore, store_id: uuid::Uuid) -> Self {
        Self { secrets, store_id }
    }

    fn data_key_name(&self) -> String {
        format!("data-key/{}", self.store_id)
    }

    fn recovery_key_name(&self) -> String {
        format!("recovery-key/{}", self.store_id)
    }

    pub fn save_data_key(&self, key: &DataKey) -> Result<()> {
        self.secrets.set(
            &self.data_key_name(),
            &Secret::new(hex::encode(key.expose())),
        )
    }

    /// The data key kept here; a damaged entry is an error, never a key made anew (that
    /// would seal notes under a key no other device has).
    pub fn data_key(&self) -> Result<Option<DataKey>> {
        let Some(stored) = self.secrets.get(&self.data_key_name())? else {
            return Ok(None);
        };
        let damaged = || Error::DamagedDataKey {
            store: self.secrets.describe(),
        };
        let bytes = hex::decode(stored.expose()).map_err(|_| damaged())?;
        let bytes: [u8; KEY_BYTES] = bytes.as_slice().try_into().map_err(|_| damaged())?;
        Ok(Some(DataKey::from_bytes(bytes)))
    }

    pub fn save_recovery_key(&self, key: &RecoveryKey) -> Result<()> {
        self.secrets
            .set(&self.recovery_key_name(), &Secret::new(key.to_text()))
    }

    /// The recovery key as the person writes it, if this device holds it.
    pub fn recovery_key(&self) -> Result<Option<Secret>> {
        self.secrets.get(&self.recovery_key_name())
    }

    /// Forgets both keys (signing out).
    pub fn forget(&self) -> Result<()> {
        self.secrets.delete(&self.data_key_name())?;
        self.secrets.delete(&self.recovery_key_name())
    }
}

impl From<CryptoError> for Error {
    fn from(err: CryptoError) -> Self {
        Error::Crypto(err)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use quire_core::crypto::record::{self, NoteRecord, NoteTextContext};
    use quire_core::crypto::seal::unwrap_data_key;
    use quire_core::crypto::seal::SealKind;

    use super::*;
    use crate::credentials::FileStore;

    const ACCOUNT: &str = "01936d4c-0000-7000-8000-0000000000aa";

    /// New keys, without the 64 MiB derivation a debug test cannot afford: the password's
    /// secrets are given, the rest is as for a real account.
    fn keys() -> (NewAccountKeys, Secret32) {
        let wrap = Secret32::from_bytes(fresh());
        let auth = Secret32::from_bytes(fresh());
        let keys = keys_from(fresh(), KdfParams::DEFAULT, auth, &wrap, ACCOUNT).unwrap();
        (keys, wrap)
    }

    #[test]
    fn a_new_accounts_data_key_opens_with_the_password_and_with_the_recovery_key() {
        let (keys, wrap) = keys();
        assert_eq!(
            unwrap_data_key(&keys.wrapped_key, &wrap, ACCOUNT, false).unwrap(),
            keys.data_key
        );
        let recovery = RecoveryKey::parse(&keys.recovery_key.to_text())
            .unwrap()
            .secrets();
        assert_eq!(recovery.auth, keys.recovery_auth);
        assert_eq!(
            unwrap_data_key(&keys.recovery_wrapped_key, &recovery.wrap, ACCOUNT, true).unwrap(),
            keys.data_key
        );
    }

    #[test]
    fn every_account_gets_its_own_keys_and_every_seal_its_own_nonce() {
        let ((a, _), (b, _)) = (keys(), keys());
        assert_ne!(a.data_key, b.data_key);
        assert_ne!(a.recovery_key, b.recovery_key);
        assert_ne!(a.salt, b.salt);
        let context = NoteTextContext {
            account: ACCOUNT,
            note: quire_core::NoteId(uuid::Uuid::from_u128(1)),
            op: quire_core::OpId(uuid::Uuid::from_u128(2)),
            base_version: None,
        };
        let sealed = [(); 2].map(|()| {
            record::seal_record(&a.data_key, &context, &NoteRecord::Delete, fresh_nonce()).unwrap()
        });
        assert_ne!(sealed[0], sealed[1], "the same record sealed twice differs");
        for one in &sealed {
            assert_eq!(
                record::open_record(&a.data_key, &context, SealKind::Delete, one, 1024).unwrap(),
                NoteRecord::Delete
            );
        }
    }

    #[test]
    fn the_keys_are_kept_read_back_and_forgotten_and_a_damaged_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = FileStore::new(dir.path().join("credentials.json"));
        let store_id = uuid::Uuid::now_v7();
        let store = AccountKeyStore::new(&secrets, store_id);
        let (keys, _) = keys();
        assert_eq!(store.data_key().unwrap(), None);
        store.save_data_key(&keys.data_key).unwrap();
        store.save_recovery_key(&keys.recovery_key).unwrap();
        assert_eq!(store.data_key().unwrap(), Some(keys.data_key.clone()));
        assert_eq!(
            store.recovery_key().unwrap().unwrap().expose(),
            keys.recovery_key.to_text()
        );
        let other = AccountKeyStore::new(&secrets, uuid::Uuid::now_v7());
        assert_eq!(
            other.data_key().unwrap(),
            None,
            "another store's keys are its own"
        );

        secrets
            .set(
                &format!("data-key/{store_id}"),
                &Secret::new("not a key".to_owned()),
            )
            .unwrap();
        let err = store.data_key().unwrap_err();
        assert!(matches!(err, Error::DamagedDataKey { .. }), "{err}");

        store.forget().unwrap();
        assert_eq!(store.data_key().unwrap(), None);
        assert!(store.recovery_key().unwrap().is_none());
    }

    /// The password path itself, at the real settings: refused below the floor before any
    /// work, so a server cannot ask for cheap ones.
    #[test]
    fn new_keys_refuse_cheap_derivation_settings() {
        let cheap = KdfParams {
            memory_kib: 1024,
            ..KdfParams::DEFAULT
        };
        let err = new_account_keys("a long password", ACCOUNT, cheap)
            .err()
            .unwrap();
        assert!(
            matches!(err, Error::Crypto(CryptoError::KdfParams(_))),
            "{err}"
        );
    }
}

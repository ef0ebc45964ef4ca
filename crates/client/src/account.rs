//! Signing a device in and out of a sync server, and the account's end-to-end keys
//! (docs/e2e-design.md, "Keys"): the server and account name go into the store's settings;
//! the token, the data key and (on the device that made it) the recovery key go into the
//! credentials store, never into a file in the clear. The password never leaves the device:
//! argon2id turns it into an auth secret the server checks and a wrap secret that opens the
//! data key.

use quire_core::crypto::kdf::{self, AccountSecrets, KdfParams};
use quire_core::crypto::recovery::RecoveryKey;
use quire_core::crypto::seal::{unwrap_data_key, wrap_data_key};
use quire_core::crypto::DataKey;
use quire_core::protocol::{
    is_valid_username, Credentials, Hex, KdfInfo, KeyScheme, KeysUpgrade, NewAccount, NewPassword,
    PasswordChange, RecoveryProof, RecoveryReset, Session, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
    USERNAME_PATTERN,
};
use quire_core::settings::{check_server_url, ServerUrl, SettingKey};
use uuid::Uuid;

use crate::api::ApiClient;
use crate::credentials::{Secret, SecretStore};
use crate::keys::{fresh_nonce, fresh_salt, make_account_keys, wrapped_hex, AccountKeyStore};
use crate::sealing::Sealing;
use crate::{Error, Result, Store};

/// Settings that are engine state, not `quire config` keys.
pub(crate) const ACCOUNT_NAME: &str = "state.account";
/// The id of the end-to-end account this device is signed in to (every seal names it);
/// absent for a legacy account.
pub(crate) const ACCOUNT_ID: &str = "state.account-id";
/// The server URL the person allowed plain `http://` to, if any. It names the URL rather
/// than being a yes/no, so the permission never carries over to another `server` value,
/// whether it was set with `quire config`, the app's settings, or by editing the store;
/// `Store::set_setting` also removes it when `server` changes.
pub(crate) const INSECURE_HTTP: &str = "state.insecure-http";

/// Set while this device upgrades its account to end-to-end encryption: from the request
/// on (the server may have taken it even if its answer is lost) until the device holds the
/// keys, nothing is sent in the clear.
pub(crate) const UPGRADE_STARTED: &str = "state.upgrade-started";
/// Set once the account is upgraded, until every note is queued to go again sealed.
pub(crate) const SEALED_COPIES_DUE: &str = "state.sealed-copies-due";

fn token_name(store: &Store) -> String {
    format!("auth-token/{}", store.store_id())
}

/// The mark that this device has signed in to `username` on `server` end to end: from then
/// on it refuses a server that calls the account legacy (which would get the password).
fn seen_end_to_end(server: &str, username: &str) -> String {
    format!("state.e2e-seen {server} {username}")
}

/// Where a device is signed in, if it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignedIn {
    pub server: String,
    pub username: String,
    /// Whether the account's notes are end-to-end encrypted.
    pub end_to_end: bool,
    /// At sign-up (and recovery, and an upgrade) only: the recovery key, to be shown to
    /// the person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_key: Option<String>,
    /// Signed in to a legacy account, whose upgrade to end-to-end encryption failed: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_failed: Option<String>,
}

pub struct AccountRequest<'a> {
    pub server: &'a str,
    pub username: &'a str,
    pub password: String,
    /// Allow plain `http://` to a machine other than this one.
    pub insecure_http: bool,
    /// Sign in to an account made before end-to-end encryption, sending the password.
    pub allow_legacy: bool,
}

impl<'a> AccountRequest<'a> {
    pub fn new(server: &'a str, username: &'a str, password: String, insecure_http: bool) -> Self {
        Self {
            server,
            username,
            password,
            insecure_http,
            allow_legacy: false,
        }
    }
}

/// A client for the requested server (refusing plain http:// elsewhere), the name checked.
fn connect(request: &AccountRequest<'_>) -> Result<ApiClient> {
    let server = check_server_url(request.server, request.insecure_http)?;
    if !is_valid_username(request.username) {
        return Err(Error::Password(format!(
            "{:?} is not a username: use 1 to 64 letters, digits, '.', '_', '-' or '@' ({USERNAME_PATTERN})",
            request.username
        )));
    }
    ApiClient::new(&server)
}

fn check_new_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(Error::Password(format!(
            "a password is at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_CHARS})"
        )));
    }
    Ok(())
}

/// argon2id takes a good fraction of a second and 64 MiB: off the async threads.
async fn derive(password: String, info: &KdfInfo) -> Result<AccountSecrets> {
    let (salt, params) = (info.salt.0, info.kdf);
    tokio::task::spawn_blocking(move || kdf::derive_from_password(&password, &salt, params))
        .await
        .map_err(|err| Error::Password(format!("the key derivation stopped: {err}")))?
        .map_err(Error::from)
}

/// A new password's secrets and what the server keeps of it, with a fresh salt.
async fn new_password(
    password: String,
    account_id: Uuid,
    data_key: &DataKey,
) -> Result<(NewPassword, AccountSecrets)> {
    let info = KdfInfo {
        scheme: KeyScheme::E2eV1,
        salt: Hex(fresh_salt()),
        kdf: KdfParams::DEFAULT,
    };
    let secrets = derive(password, &info).await?;
    let wrapped = wrap_data_key(
        data_key,
        &secrets.wrap,
        &account_id.to_string(),
        false,
        fresh_nonce(),
    )?;
    let new = NewPassword {
        password: Hex(*secrets.auth.expose()),
        salt: info.salt,
        kdf: info.kdf,
        wrapped_key: wrapped_hex(&wrapped)?,
    };
    Ok((new, secrets))
}

/// What signing in gave: the session, and for an end-to-end account its keys.
struct SignedSession {
    session: Session,
    end_to_end: Option<(Uuid, DataKey)>,
    recovery_key: Option<RecoveryKey>,
}

/// Signs this device in to an account on a sync server, creating the account there first
/// when `new_account`.
pub async fn sign_in(
    store: &Store,
    secrets: &dyn SecretStore,
    request: AccountRequest<'_>,
    new_account: bool,
) -> Result<SignedIn> {
    let api = connect(&request)?;
    let signed = if new_account {
        register(
            &api,
            &request,
            &AccountKeyStore::new(secrets, store.store_id()),
        )
        .await?
    } else {
        login(store, &api, &request).await?
    };
    keep(store, secrets, &api, &request, signed).await
}

async fn register(
    api: &ApiClient,
    request: &AccountRequest<'_>,
    kept: &AccountKeyStore<'_>,
) -> Result<SignedSession> {
    check_new_password(&request.password)?;
    let account_id = Uuid::now_v7();
    let keys = make_account_keys(request.password.clone(), account_id).await?;
    let auth = Hex(*keys.auth.expose());
    // Kept before the account exists: should the sign-in after it fail, the key is still
    // here (`quire account recovery-key`), never lost with an account that needs it.
    kept.save_recovery_key(&keys.recovery_key)?;
    let registered = api
        .register(&NewAccount {
            username: request.username.to_owned(),
            password: auth,
            keys: keys.to_wire(account_id)?,
        })
        .await;
    if let Err(err) = registered {
        kept.forget()?;
        return Err(err);
    }
    let session = api
        .login(&Credentials {
            username: request.username.to_owned(),
            password: auth.to_hex(),
        })
        .await?;
    Ok(SignedSession {
        session,
        end_to_end: Some((account_id, keys.data_key)),
        recovery_key: Some(keys.recovery_key),
    })
}

async fn login(
    store: &Store,
    api: &ApiClient,
    request: &AccountRequest<'_>,
) -> Result<SignedSession> {
    let info = api.kdf(request.username).await?;
    match info.scheme {
        KeyScheme::E2eV1 => {
            let secrets = derive(request.password.clone(), &info).await?;
            let session = end_to_end_login(api, request.username, &secrets).await?;
            Ok(session)
        }
        KeyScheme::Legacy => {
            let seen = seen_end_to_end(api.server(), request.username);
            if store.state(&seen).await?.is_some() {
                return Err(Error::DowngradeRefused {
                    server: api.server().to_owned(),
                    username: request.username.to_owned(),
                });
            }
            if !request.allow_legacy {
                return Err(Error::LegacyAccount {
                    server: api.server().to_owned(),
                    username: request.username.to_owned(),
                });
            }
            let session = api
                .login(&Credentials {
                    username: request.username.to_owned(),
                    password: request.password.clone(),
                })
                .await?;
            if session.keys.is_some() {
                revoke_quietly(api, &session).await;
                return Err(Error::ServerProtocol {
                    server: api.server().to_owned(),
                    detail: "a legacy account's sign-in came with encryption keys".to_owned(),
                });
            }
            Ok(SignedSession {
                session,
                end_to_end: None,
                recovery_key: None,
            })
        }
    }
}

/// Signs in with the auth secret and opens the data key with the wrap secret. A key that
/// does not open ends the new session again: nothing is kept.
async fn end_to_end_login(
    api: &ApiClient,
    username: &str,
    secrets: &AccountSecrets,
) -> Result<SignedSession> {
    let session = api
        .login(&Credentials {
            username: username.to_owned(),
            password: hex::encode(secrets.auth.expose()),
        })
        .await?;
    let opened = match &session.keys {
        Some(keys) => unwrap_data_key(
            &keys.wrapped_key.0,
            &secrets.wrap,
            &keys.account_id.to_string(),
            false,
        )
        .map(|data_key| (keys.account_id, data_key))
        .map_err(Error::from),
        None => Err(Error::ServerProtocol {
            server: api.server().to_owned(),
            detail: "an end-to-end account's sign-in came without its key".to_owned(),
        }),
    };
    match opened {
        Ok(end_to_end) => Ok(SignedSession {
            session,
            end_to_end: Some(end_to_end),
            recovery_key: None,
        }),
        Err(err) => {
            revoke_quietly(api, &session).await;
            Err(err)
        }
    }
}

async fn revoke_quietly(api: &ApiClient, session: &Session) {
    if let Err(err) = api.logout(&Secret::new(session.token.clone())).await {
        tracing::warn!(%err, "could not end a session that was not kept");
    }
}

/// Keeps what signing in gave: the token and keys in the credentials store, the server and
/// account in the store's settings.
async fn keep(
    store: &Store,
    secrets: &dyn SecretStore,
    api: &ApiClient,
    request: &AccountRequest<'_>,
    signed: SignedSession,
) -> Result<SignedIn> {
    let keys = AccountKeyStore::new(secrets, store.store_id());
    // Another account's keys go; this account's recovery key stays (signing in again after
    // a session ended must not lose it).
    let previous = store.state(ACCOUNT_ID).await?;
    let same_account = matches!(
        (&previous, &signed.end_to_end),
        (Some(previous), Some((id, _))) if *previous == id.to_string()
    );
    if !same_account && signed.recovery_key.is_none() {
        keys.forget()?;
    }
    if let Some((account_id, data_key)) = &signed.end_to_end {
        keys.save_data_key(data_key)?;
        store.set_state(ACCOUNT_ID, &account_id.to_string()).await?;
        store
            .set_state(&seen_end_to_end(api.server(), request.username), "1")
            .await?;
    } else {
        store.clear_state(ACCOUNT_ID).await?;
    }
    if let Some(recovery_key) = &signed.recovery_key {
        keys.save_recovery_key(recovery_key)?;
    }
    secrets.set(&token_name(store), &Secret::new(signed.session.token))?;
    let server = store.set_setting(SettingKey::Server, api.server()).await?;
    store.set_state(ACCOUNT_NAME, request.username).await?;
    if request.insecure_http {
        store.set_state(INSECURE_HTTP, &server).await?;
    } else {
        store.clear_state(INSECURE_HTTP).await?;
    }
    tracing::info!(server = api.server(), username = %request.username, "signed in");
    Ok(SignedIn {
        server: api.server().to_owned(),
        username: request.username.to_owned(),
        end_to_end: signed.end_to_end.is_some(),
        recovery_key: signed.recovery_key.map(|key| key.to_text()),
        upgrade_failed: None,
    })
}

/// Changes the account's password: the data key is wrapped anew under it, and the server
/// ends every other session. Needs the current password, checked by the server.
pub async fn change_password(
    store: &Store,
    secrets: &dyn SecretStore,
    current: String,
    new: String,
) -> Result<()> {
    check_new_password(&new)?;
    let (api, token) = session(store, secrets).await?;
    let (account_id, data_key) = end_to_end_keys(store, secrets).await?;
    let username = store.state(ACCOUNT_NAME).await?.ok_or(Error::NotSignedIn)?;
    let info = api.kdf(&username).await?;
    if info.scheme != KeyScheme::E2eV1 {
        return Err(Error::DowngradeRefused {
            server: api.server().to_owned(),
            username,
        });
    }
    let current = derive(current, &info).await?;
    let (new, _) = new_password(new, account_id, &data_key).await?;
    let change = PasswordChange {
        old_password: Hex(*current.auth.expose()),
        new,
    };
    match api.change_password(&token, &change).await {
        Err(Error::ServerRefused { status: 403, .. }) => Err(Error::Password(
            "the current password is wrong; nothing was changed".to_owned(),
        )),
        other => other,
    }?;
    tracing::info!(%username, "password changed");
    Ok(())
}

/// What upgrading an account to end-to-end encryption did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Upgraded {
    /// Notes queued to go to the server again, sealed (the next sync rounds send them).
    pub notes_to_seal: u64,
    /// The recovery key, to be shown to the person once (`None` when the account had been
    /// upgraded already, by another device or by an earlier try whose answer was lost).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_key: Option<String>,
}

/// Upgrades the legacy account this device is signed in to: keys are made here as at
/// sign-up, the server takes them (checking `password`, and that `cursor`, where this
/// device's pull stands, is the account's head: this device then holds every note), and
/// every note is queued to go again, sealed. The caller pulls to the head first.
///
/// Safe to run again after any failure: an account the server already upgraded is signed
/// in to with the same password instead.
pub async fn upgrade(
    store: &Store,
    secrets: &dyn SecretStore,
    password: String,
    cursor: u64,
) -> Result<Upgraded> {
    let (api, token) = session(store, secrets).await?;
    let username = store.state(ACCOUNT_NAME).await?.ok_or(Error::NotSignedIn)?;
    if store.state(ACCOUNT_ID).await?.is_some() {
        return queue_sealed_copies(store, None).await;
    }
    let info = api.current_account(&token).await?;
    if info.username != username {
        return Err(Error::ServerProtocol {
            server: api.server().to_owned(),
            detail: format!("the session belongs to {:?}", info.username),
        });
    }
    let request = AccountRequest::new(api.server(), &username, password.clone(), false);
    if info.scheme == KeyScheme::E2eV1 {
        // Upgraded already: sign in to it as it is now.
        let kdf = api.kdf(&username).await?;
        let derived = derive(password, &kdf).await?;
        let mut signed = end_to_end_login(&api, &username, &derived).await?;
        // This device's own upgrade, whose answer was lost: its recovery key is the
        // account's, and the person has not seen it yet.
        let kept = AccountKeyStore::new(secrets, store.store_id());
        let ours = match (&signed.end_to_end, kept.data_key()?) {
            (Some((_, key)), Some(saved)) => key == &saved,
            _ => false,
        };
        if ours && store.state(UPGRADE_STARTED).await?.is_some() {
            signed.recovery_key = kept
                .recovery_key()?
                .map(|text| RecoveryKey::parse(text.expose()))
                .transpose()?;
        }
        let shown = signed.recovery_key.as_ref().map(RecoveryKey::to_text);
        store.set_state(SEALED_COPIES_DUE, "1").await?;
        keep(store, secrets, &api, &request, signed).await?;
        store.clear_state(UPGRADE_STARTED).await?;
        return queue_sealed_copies(store, shown).await;
    }
    let account_id = info.account_id;
    let keys = make_account_keys(password.clone(), account_id).await?;
    // Kept before the server has them, as at sign-up: should the answer be lost, the keys
    // the account may now have are still here.
    let kept = AccountKeyStore::new(secrets, store.store_id());
    kept.save_recovery_key(&keys.recovery_key)?;
    kept.save_data_key(&keys.data_key)?;
    store.set_state(UPGRADE_STARTED, "1").await?;
    let entries = store.upgrade_manifest_entries().await?;
    let manifest = quire_core::crypto::manifest::seal_manifest(
        &keys.data_key,
        &account_id.to_string(),
        &entries,
        crate::keys::fresh_nonce(),
    )?;
    let answer = api
        .upgrade(
            &token,
            &KeysUpgrade {
                password,
                auth: Hex(*keys.auth.expose()),
                keys: keys.to_wire(account_id)?,
                cursor,
                manifest: quire_core::protocol::SealedBytes(manifest),
            },
        )
        .await;
    match answer {
        Ok(()) => {}
        // A refusal changed nothing on the server: nothing is pending here either.
        Err(refused @ Error::ServerRefused { status, .. }) => {
            kept.forget()?;
            store.clear_state(UPGRADE_STARTED).await?;
            return Err(match status {
                403 => Error::Password("the password is wrong; nothing was changed".to_owned()),
                _ => refused,
            });
        }
        Err(other) => return Err(other),
    }
    store.set_state(SEALED_COPIES_DUE, "1").await?;
    store.set_state(ACCOUNT_ID, &account_id.to_string()).await?;
    store
        .set_state(&seen_end_to_end(api.server(), &username), "1")
        .await?;
    store.clear_state(UPGRADE_STARTED).await?;
    tracing::info!(%username, "account upgraded to end-to-end encryption");
    queue_sealed_copies(store, Some(keys.recovery_key.to_text())).await
}

async fn queue_sealed_copies(store: &Store, recovery_key: Option<String>) -> Result<Upgraded> {
    let notes_to_seal = match store.state(SEALED_COPIES_DUE).await? {
        Some(_) => store.queue_sealed_copies(SEALED_COPIES_DUE).await?,
        None => 0,
    };
    Ok(Upgraded {
        notes_to_seal,
        recovery_key,
    })
}

/// The account id and data key this device holds, for an end-to-end account.
async fn end_to_end_keys(store: &Store, secrets: &dyn SecretStore) -> Result<(Uuid, DataKey)> {
    let account_id = store.state(ACCOUNT_ID).await?.ok_or(Error::NotEndToEnd)?;
    let account_id = Uuid::parse_str(&account_id)
        .map_err(|_| Error::Corrupt(format!("the account id {account_id:?}")))?;
    let data_key = AccountKeyStore::new(secrets, store.store_id())
        .data_key()?
        .ok_or(Error::MissingDataKey)?;
    Ok((account_id, data_key))
}

/// The account's recovery key, as the person writes it down, when this device holds it.
pub async fn recovery_key(store: &Store, secrets: &dyn SecretStore) -> Result<String> {
    if signed_in(store, secrets).await?.is_none() {
        return Err(Error::NotSignedIn);
    }
    end_to_end_keys(store, secrets).await?;
    AccountKeyStore::new(secrets, store.store_id())
        .recovery_key()?
        .map(|key| key.expose().to_owned())
        .ok_or(Error::NoRecoveryKey)
}

/// Whether this device holds the account's recovery key.
pub(crate) fn holds_recovery_key(store: &Store, secrets: &dyn SecretStore) -> Result<bool> {
    Ok(AccountKeyStore::new(secrets, store.store_id())
        .recovery_key()?
        .is_some())
}

/// Sets a new password with the recovery key (every session of the account ends), then
/// signs this device in with it. This device keeps the recovery key from then on.
pub async fn recover(
    store: &Store,
    secrets: &dyn SecretStore,
    request: AccountRequest<'_>,
    recovery_key: &str,
) -> Result<SignedIn> {
    check_new_password(&request.password)?;
    let recovery = RecoveryKey::parse(recovery_key)?;
    let api = connect(&request)?;
    let recovery_secrets = recovery.secrets();
    let recovered = api
        .recovery_key(&RecoveryProof {
            username: request.username.to_owned(),
            recovery_auth: Hex(*recovery_secrets.auth.expose()),
        })
        .await
        .map_err(|err| match err {
            Error::ServerRefused { status: 401, .. } => {
                Error::Password("wrong username or recovery key; nothing was changed".to_owned())
            }
            other => other,
        })?;
    let data_key = unwrap_data_key(
        &recovered.recovery_wrapped_key.0,
        &recovery_secrets.wrap,
        &recovered.account_id.to_string(),
        true,
    )?;
    let (new, new_secrets) =
        new_password(request.password.clone(), recovered.account_id, &data_key).await?;
    api.recovery_password(&RecoveryReset {
        username: request.username.to_owned(),
        recovery_auth: Hex(*recovery_secrets.auth.expose()),
        new,
    })
    .await?;
    tracing::info!(username = %request.username, "password set with the recovery key");
    let mut signed = end_to_end_login(&api, request.username, &new_secrets).await?;
    signed.recovery_key = Some(recovery);
    let mut signed_in = keep(store, secrets, &api, &request, signed).await?;
    // Not news to the person, who just typed it.
    signed_in.recovery_key = None;
    Ok(signed_in)
}

/// Signs this device out: the server revokes the token, and the device forgets it. When the
/// server cannot be reached the device still forgets it; the outcome says so. A stored server
/// the plain-HTTP rule refuses is not sent the token at all: the error says how to allow it.
pub async fn logout(store: &Store, secrets: &dyn SecretStore) -> Result<LogoutOutcome> {
    let name = token_name(store);
    let token = secrets.get(&name)?.ok_or(Error::NotSignedIn)?;
    let server = stored_server(store).await?;
    let revoked = match ApiClient::new(&server)?.logout(&token).await {
        // Already expired or revoked counts: signing out has happened either way.
        Ok(()) | Err(Error::SignInNeeded(_)) => true,
        Err(Error::ServerUnreachable { .. }) => false,
        Err(other) => return Err(other),
    };
    secrets.delete(&name)?;
    AccountKeyStore::new(secrets, store.store_id()).forget()?;
    store.clear_state(ACCOUNT_NAME).await?;
    store.clear_state(ACCOUNT_ID).await?;
    Ok(LogoutOutcome {
        server: server.to_string(),
        revoked,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogoutOutcome {
    pub server: String,
    /// Whether the server confirmed the token is revoked (false: it could not be reached).
    pub revoked: bool,
}

/// The signed-in server and token, for the sync engine.
pub async fn session(store: &Store, secrets: &dyn SecretStore) -> Result<(ApiClient, Secret)> {
    let server = stored_server(store).await?;
    let token = secrets.get(&token_name(store))?.ok_or(Error::NotSignedIn)?;
    Ok((ApiClient::new(&server)?, token))
}

/// The keys this device seals and opens the account's notes with: `None` for an account
/// in the clear; an error when the account is end to end and the data key is gone.
pub async fn sealing(store: &Store, secrets: &dyn SecretStore) -> Result<Option<Sealing>> {
    let Some(account_id) = store.state(ACCOUNT_ID).await? else {
        if store.state(UPGRADE_STARTED).await?.is_some() {
            return Err(Error::UpgradeUnfinished);
        }
        return Ok(None);
    };
    // An upgrade stopped after the server took it: the notes are queued now.
    queue_sealed_copies(store, None).await?;
    let data_key = AccountKeyStore::new(secrets, store.store_id())
        .data_key()?
        .ok_or(Error::MissingDataKey)?;
    Ok(Some(Sealing::new(account_id, data_key)))
}

/// The stored server, checked again as at sign-in before a token goes to it: the stored text
/// may have been changed since, and plain HTTP to another machine needs the permission given
/// for this very URL.
async fn stored_server(store: &Store) -> Result<ServerUrl> {
    let server = store
        .setting(SettingKey::Server)
        .await?
        .ok_or(Error::NotSignedIn)?;
    let allowed = store.state(INSECURE_HTTP).await?.as_deref() == Some(server.as_str());
    Ok(check_server_url(&server, allowed)?)
}

/// Who this device is signed in as, if anyone.
pub async fn signed_in(store: &Store, secrets: &dyn SecretStore) -> Result<Option<SignedIn>> {
    let (Some(server), Some(username)) = (
        store.setting(SettingKey::Server).await?,
        store.state(ACCOUNT_NAME).await?,
    ) else {
        return Ok(None);
    };
    let end_to_end = store.state(ACCOUNT_ID).await?.is_some();
    Ok(secrets.get(&token_name(store))?.map(|_| SignedIn {
        server,
        username,
        end_to_end,
        recovery_key: None,
        upgrade_failed: None,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use quire_core::crypto::CryptoError;

    use super::*;
    use crate::credentials::FileStore;

    struct TestServer {
        url: String,
        db: quire_server::Db,
        _running: quire_server::Spawned,
        _dir: tempfile::TempDir,
    }

    async fn server() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let db = quire_server::Db::connect(&url).await.unwrap();
        let state = quire_server::AppState::new(
            db.clone(),
            quire_server::Limits::default(),
            std::time::Duration::from_secs(600),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = quire_server::spawn(listener, state).unwrap();
        TestServer {
            url: running.url(),
            db,
            _running: running,
            _dir: dir,
        }
    }

    struct Device {
        store: Store,
        secrets: FileStore,
        _dir: tempfile::TempDir,
    }

    impl Device {
        async fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let secrets = FileStore::new(dir.path().join("credentials.json"));
            let store = Store::open(dir.path(), &secrets).await.unwrap();
            Self {
                store,
                secrets,
                _dir: dir,
            }
        }

        async fn sign_in(
            &self,
            server: &TestServer,
            password: &str,
            new: bool,
        ) -> Result<SignedIn> {
            let request = AccountRequest::new(&server.url, "ada", password.to_owned(), false);
            sign_in(&self.store, &self.secrets, request, new).await
        }

        fn data_key(&self) -> Option<DataKey> {
            AccountKeyStore::new(&self.secrets, self.store.store_id())
                .data_key()
                .unwrap()
        }

        /// Whether this device's session still opens the server.
        async fn session_works(&self) -> bool {
            let (api, token) = session(&self.store, &self.secrets).await.unwrap();
            match api.pull(&token, 0, 1, None).await {
                Ok(_) => true,
                Err(Error::SignInNeeded(_)) => false,
                Err(other) => panic!("{other}"),
            }
        }
    }

    const PASSWORD: &str = "correct horse battery";

    /// Password checks the server counted (key-derivation lookups, which send no
    /// password, count apart).
    async fn attempts(server: &TestServer) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM auth_attempts WHERE scope LIKE 'login:%'")
            .fetch_one(&server.db.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_second_device_opens_the_data_key_with_the_password_and_only_with_it() {
        let server = server().await;
        let laptop = Device::new().await;
        let made = laptop.sign_in(&server, PASSWORD, true).await.unwrap();
        assert!(made.end_to_end);
        let recovery = made.recovery_key.unwrap();
        RecoveryKey::parse(&recovery).unwrap();
        let data_key = laptop.data_key().unwrap();
        assert_eq!(
            recovery_key(&laptop.store, &laptop.secrets).await.unwrap(),
            recovery
        );

        // The server never saw the password: its hash is of the auth secret.
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM accounts")
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));

        let desktop = Device::new().await;
        let err = desktop.sign_in(&server, "wrong password", false).await;
        assert!(
            matches!(err, Err(Error::ServerRefused { status: 401, .. })),
            "{err:?}"
        );
        assert_eq!(
            signed_in(&desktop.store, &desktop.secrets).await.unwrap(),
            None
        );
        assert_eq!(desktop.data_key(), None, "a wrong password keeps nothing");

        let joined = desktop.sign_in(&server, PASSWORD, false).await.unwrap();
        assert!(joined.end_to_end);
        assert_eq!(
            joined.recovery_key, None,
            "shown once, on the device that made it"
        );
        assert_eq!(desktop.data_key().unwrap(), data_key);
        assert!(matches!(
            recovery_key(&desktop.store, &desktop.secrets).await,
            Err(Error::NoRecoveryKey)
        ));

        // Signing in again (a session that ended) keeps the recovery key here.
        laptop.sign_in(&server, PASSWORD, false).await.unwrap();
        assert_eq!(
            recovery_key(&laptop.store, &laptop.secrets).await.unwrap(),
            recovery
        );

        // Signing out forgets the keys.
        logout(&laptop.store, &laptop.secrets).await.unwrap();
        assert_eq!(laptop.data_key(), None);
        assert!(matches!(
            recovery_key(&laptop.store, &laptop.secrets).await,
            Err(Error::NotSignedIn)
        ));
    }

    #[tokio::test]
    async fn a_password_change_reaches_the_other_device_only_through_the_new_password() {
        let server = server().await;
        let laptop = Device::new().await;
        laptop.sign_in(&server, PASSWORD, true).await.unwrap();
        let data_key = laptop.data_key().unwrap();
        let desktop = Device::new().await;
        desktop.sign_in(&server, PASSWORD, false).await.unwrap();

        let wrong = change_password(
            &laptop.store,
            &laptop.secrets,
            "not it at all".to_owned(),
            "a new password".to_owned(),
        )
        .await;
        assert!(matches!(wrong, Err(Error::Password(_))), "{wrong:?}");
        assert!(
            desktop.session_works().await,
            "a wrong password changes nothing"
        );

        change_password(
            &laptop.store,
            &laptop.secrets,
            PASSWORD.to_owned(),
            "a new password".to_owned(),
        )
        .await
        .unwrap();
        assert!(laptop.session_works().await);
        assert!(!desktop.session_works().await, "other sessions end");
        let err = desktop.sign_in(&server, PASSWORD, false).await;
        assert!(matches!(err, Err(Error::ServerRefused { status: 401, .. })));
        desktop
            .sign_in(&server, "a new password", false)
            .await
            .unwrap();
        assert_eq!(desktop.data_key().unwrap(), data_key, "the same notes' key");
    }

    #[tokio::test]
    async fn the_recovery_key_sets_a_new_password_from_a_device_that_had_none() {
        let server = server().await;
        let laptop = Device::new().await;
        let recovery = laptop
            .sign_in(&server, PASSWORD, true)
            .await
            .unwrap()
            .recovery_key
            .unwrap();
        let data_key = laptop.data_key().unwrap();

        let phone = Device::new().await;
        let request = || AccountRequest::new(&server.url, "ada", "brand new pw".to_owned(), false);
        let wrong = RecoveryKey::from_bytes([9; 32]).to_text();
        let err = recover(&phone.store, &phone.secrets, request(), &wrong).await;
        assert!(matches!(err, Err(Error::Password(_))), "{err:?}");
        let first = recovery.chars().next().unwrap();
        let other = if first == 'Z' { "Y" } else { "Z" };
        let typo = recovery.replacen(first, other, 1);
        let err = recover(&phone.store, &phone.secrets, request(), &typo).await;
        // The checksum catches a changed letter (all but one in 65,536 such changes; that
        // one is a wrong key to the server). Either way nothing changes.
        assert!(
            matches!(
                err,
                Err(Error::Crypto(CryptoError::BadRecoveryKey(_)) | Error::Password(_))
            ),
            "{err:?}"
        );
        assert!(laptop.session_works().await, "a wrong key changes nothing");

        // Typed as a person types it: lower case, spaces for dashes.
        let typed = recovery.to_lowercase().replace('-', " ");
        let signed_in = recover(&phone.store, &phone.secrets, request(), &typed)
            .await
            .unwrap();
        assert!(signed_in.end_to_end);
        assert_eq!(phone.data_key().unwrap(), data_key);
        assert!(!laptop.session_works().await, "every other session ends");
        assert_eq!(
            recovery_key(&phone.store, &phone.secrets).await.unwrap(),
            recovery
        );
        let err = laptop.sign_in(&server, PASSWORD, false).await;
        assert!(matches!(err, Err(Error::ServerRefused { status: 401, .. })));
        laptop
            .sign_in(&server, "brand new pw", false)
            .await
            .unwrap();
        assert_eq!(laptop.data_key().unwrap(), data_key);
    }

    #[tokio::test]
    async fn a_legacy_account_needs_consent_and_a_known_end_to_end_one_is_never_downgraded() {
        let server = server().await;
        let laptop = Device::new().await;
        laptop.sign_in(&server, PASSWORD, true).await.unwrap();
        logout(&laptop.store, &laptop.secrets).await.unwrap();

        // The server (or an impostor) now calls the account legacy.
        sqlx::query("UPDATE accounts SET key_scheme = 'legacy'")
            .execute(&server.db.pool)
            .await
            .unwrap();
        let before = attempts(&server).await;
        let mut request = AccountRequest::new(&server.url, "ada", PASSWORD.to_owned(), false);
        request.allow_legacy = true;
        let err = sign_in(&laptop.store, &laptop.secrets, request, false).await;
        assert!(
            matches!(err, Err(Error::DowngradeRefused { .. })),
            "{err:?}"
        );
        assert_eq!(
            attempts(&server).await,
            before,
            "the password was never sent"
        );

        // A device that never saw it encrypted asks for consent first.
        let desktop = Device::new().await;
        let err = desktop.sign_in(&server, PASSWORD, false).await;
        assert!(matches!(err, Err(Error::LegacyAccount { .. })), "{err:?}");
        assert_eq!(attempts(&server).await, before, "nor here");
    }
}

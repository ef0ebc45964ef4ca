//! Signing a device in and out of a sync server: the server and account name go into the
//! store's settings, the token into the credentials store, never into a file in the clear.

use quire_core::protocol::Credentials;
use quire_core::settings::{check_server_url, ServerUrl, SettingKey};

use crate::api::ApiClient;
use crate::credentials::{Secret, SecretStore};
use crate::{Error, Result, Store};

/// Settings that are engine state, not `quire config` keys.
pub(crate) const ACCOUNT_NAME: &str = "state.account";
/// The server URL the person allowed plain `http://` to, if any. It names the URL rather
/// than being a yes/no, so the permission never carries over to another `server` value,
/// whether it was set with `quire config`, the app's settings, or by editing the store;
/// `Store::set_setting` also removes it when `server` changes.
pub(crate) const INSECURE_HTTP: &str = "state.insecure-http";

fn token_name(store: &Store) -> String {
    format!("auth-token/{}", store.store_id())
}

/// Where a device is signed in, if it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignedIn {
    pub server: String,
    pub username: String,
}

pub struct AccountRequest<'a> {
    pub server: &'a str,
    pub username: &'a str,
    pub password: String,
    /// Allow plain `http://` to a machine other than this one.
    pub insecure_http: bool,
}

impl<'a> AccountRequest<'a> {
    pub fn new(server: &'a str, username: &'a str, password: String, insecure_http: bool) -> Self {
        Self {
            server,
            username,
            password,
            insecure_http,
        }
    }
}

/// A client for the requested server (refusing plain http:// elsewhere) and the credentials.
fn connect(request: &AccountRequest<'_>) -> Result<(ApiClient, Credentials)> {
    let server = check_server_url(request.server, request.insecure_http)?;
    let credentials = Credentials {
        username: request.username.to_owned(),
        password: request.password.clone(),
    };
    Ok((ApiClient::new(&server)?, credentials))
}

/// Signs this device in to an account on a sync server, creating the account there first
/// when `new_account`.
pub async fn sign_in(
    store: &Store,
    secrets: &dyn SecretStore,
    request: AccountRequest<'_>,
    new_account: bool,
) -> Result<SignedIn> {
    let (api, credentials) = connect(&request)?;
    if new_account {
        api.register(&credentials).await?;
    }
    let insecure_http = request.insecure_http;
    let session = api.login(&credentials).await?;
    secrets.set(&token_name(store), &Secret::new(session.token))?;
    let server = store.set_setting(SettingKey::Server, api.server()).await?;
    store.set_state(ACCOUNT_NAME, &credentials.username).await?;
    if insecure_http {
        store.set_state(INSECURE_HTTP, &server).await?;
    } else {
        store.clear_state(INSECURE_HTTP).await?;
    }
    tracing::info!(server = api.server(), username = %credentials.username, "signed in");
    Ok(SignedIn {
        server: api.server().to_owned(),
        username: credentials.username,
    })
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
    store.clear_state(ACCOUNT_NAME).await?;
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
    Ok(secrets
        .get(&token_name(store))?
        .map(|_| SignedIn { server, username }))
}

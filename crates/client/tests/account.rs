//! Signing in and out against a real quire-server on a loopback port (SQLite), over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{device, request, server};
use quire_client::account;
use quire_client::credentials::SecretStore;
use quire_client::Error;
use quire_core::settings::{SettingError, SettingKey};

#[tokio::test]
async fn a_device_registers_signs_out_and_back_in() {
    let server = server().await;
    let common::Device {
        dir: _dir,
        store,
        secrets,
    } = device().await;
    let signed_in = account::register(
        &store,
        &secrets,
        request(&server.url, "ada", "long enough pw"),
    )
    .await
    .unwrap();
    assert_eq!(signed_in.username, "ada");
    assert_eq!(
        store.setting(SettingKey::Server).await.unwrap().as_deref(),
        Some(server.url.as_str())
    );
    assert_eq!(
        account::signed_in(&store, &secrets).await.unwrap(),
        Some(signed_in)
    );

    // The token works against the server.
    let (api, token) = account::session(&store, &secrets).await.unwrap();
    assert!(api
        .pull(&token, 0, 10, quire_core::DeviceId(uuid::Uuid::nil()))
        .await
        .unwrap()
        .changes
        .is_empty());

    let out = account::logout(&store, &secrets).await.unwrap();
    assert!(out.revoked);
    assert_eq!(account::signed_in(&store, &secrets).await.unwrap(), None);
    // The old token is dead on the server too.
    assert!(matches!(
        api.pull(&token, 0, 10, quire_core::DeviceId(uuid::Uuid::nil()))
            .await,
        Err(Error::SignInNeeded(_))
    ));
    assert!(matches!(
        account::logout(&store, &secrets).await,
        Err(Error::NotSignedIn)
    ));

    account::login(
        &store,
        &secrets,
        request(&server.url, "ada", "long enough pw"),
    )
    .await
    .unwrap();
    assert!(account::signed_in(&store, &secrets)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn wrong_passwords_and_taken_names_are_refused_with_the_servers_reason() {
    let server = server().await;
    let common::Device {
        dir: _dir,
        store,
        secrets,
    } = device().await;
    account::register(
        &store,
        &secrets,
        request(&server.url, "bo", "long enough pw"),
    )
    .await
    .unwrap();

    let common::Device {
        dir: _dir2,
        store: other,
        secrets: other_secrets,
    } = device().await;
    let err = account::login(
        &other,
        &other_secrets,
        request(&server.url, "bo", "not it at all"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::ServerRefused { status: 401, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("wrong username or password"),
        "{err}"
    );
    let err = account::register(
        &other,
        &other_secrets,
        request(&server.url, "bo", "long enough pw"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("that username is taken"), "{err}");
    // Nothing was kept from the failed attempts.
    assert_eq!(
        account::signed_in(&other, &other_secrets).await.unwrap(),
        None
    );
    assert_eq!(other.setting(SettingKey::Server).await.unwrap(), None);
}

#[tokio::test]
async fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    let common::Device {
        dir: _dir,
        store,
        secrets,
    } = device().await;
    let err = account::login(
        &store,
        &secrets,
        request("http://sync.example.com", "cy", "long enough pw"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Setting(SettingError::InsecureHttp(_))),
        "{err}"
    );
    assert!(err.to_string().contains("--insecure-http"));
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let common::Device {
        dir: _dir,
        store,
        secrets,
    } = device().await;
    let err = account::login(
        &store,
        &secrets,
        request(&format!("http://127.0.0.1:{port}"), "di", "long enough pw"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::ServerUnreachable { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("cannot reach the sync server http://127.0.0.1:"),
        "{err}"
    );
    assert!(secrets.get("anything").unwrap().is_none());
}

//! Signing in and out against a real quire-server on a loopback port (SQLite), over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{device, request, server};
use quire_client::account::{self, AccountRequest};
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
    let signed_in = account::sign_in(
        &store,
        &secrets,
        request(&server.url, "ada", "long enough pw"),
        true,
    )
    .await
    .unwrap();
    assert_eq!(signed_in.username, "ada");
    assert!(signed_in.end_to_end);
    assert!(signed_in.recovery_key.is_some(), "shown at sign-up");
    let signed_in = account::SignedIn {
        recovery_key: None,
        ..signed_in
    };
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
        .pull(&token, 0, 10, None)
        .await
        .unwrap()
        .changes
        .is_empty());

    let out = account::logout(&store, &secrets).await.unwrap();
    assert!(out.revoked);
    assert_eq!(account::signed_in(&store, &secrets).await.unwrap(), None);
    // The old token is dead on the server too.
    assert!(matches!(
        api.pull(&token, 0, 10, None).await,
        Err(Error::SignInNeeded(_))
    ));
    assert!(matches!(
        account::logout(&store, &secrets).await,
        Err(Error::NotSignedIn)
    ));

    account::sign_in(
        &store,
        &secrets,
        request(&server.url, "ada", "long enough pw"),
        false,
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
    account::sign_in(
        &store,
        &secrets,
        request(&server.url, "bo", "long enough pw"),
        true,
    )
    .await
    .unwrap();

    let common::Device {
        dir: _dir2,
        store: other,
        secrets: other_secrets,
    } = device().await;
    let err = account::sign_in(
        &other,
        &other_secrets,
        request(&server.url, "bo", "not it at all"),
        false,
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
    let err = account::sign_in(
        &other,
        &other_secrets,
        request(&server.url, "bo", "long enough pw"),
        true,
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
    let err = account::sign_in(
        &store,
        &secrets,
        request("http://sync.example.com", "cy", "long enough pw"),
        false,
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
    let err = account::sign_in(
        &store,
        &secrets,
        request(&format!("http://127.0.0.1:{port}"), "di", "long enough pw"),
        false,
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

/// A listener that counts the connections made to it and drops each at once, so a request
/// sent there fails fast instead of waiting out the timeout.
async fn decoy() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, connections)
}

// These tests use 0.0.0.0 as "another machine" that is still reachable: it is not a loopback
// address, but Linux and macOS deliver a connection to it to this machine.

#[tokio::test]
async fn a_url_that_names_two_hosts_sends_nothing_to_either() {
    // Issue 15: the old guard took the host after the last `@` (127.0.0.1, the real server);
    // reqwest reads `\` as `/` and so the host as 0.0.0.0 (the decoy), and got the password.
    let server = server().await;
    let (decoy_port, connections) = decoy().await;
    let real = server.url.trim_start_matches("http://");
    let attack = format!(r"http://0.0.0.0:{decoy_port}\@{real}");

    // The decoy is where a request to this URL really goes, so a guard that let it through
    // would be caught below.
    assert!(reqwest::get(attack.as_str()).await.is_err());
    assert_eq!(connections.swap(0, Ordering::SeqCst), 1);

    let common::Device {
        dir: _dir,
        store,
        secrets,
    } = device().await;
    for insecure_http in [false, true] {
        let request = AccountRequest {
            insecure_http,
            ..request(&attack, "ed", "long enough pw")
        };
        let err = account::sign_in(&store, &secrets, request, false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Setting(SettingError::CredentialsInServerUrl)),
            "{err}"
        );
        assert!(
            err.to_string().contains("sign in with your user name"),
            "{err}"
        );
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    assert_eq!(store.setting(SettingKey::Server).await.unwrap(), None);
}

#[tokio::test]
async fn a_changed_server_is_checked_again_before_the_token_goes_out() {
    let server = server().await;
    let (decoy_port, connections) = decoy().await;
    let common::Device {
        dir: _dir,
        store,
        secrets,
    } = device().await;
    account::sign_in(
        &store,
        &secrets,
        request(&server.url, "fay", "long enough pw"),
        true,
    )
    .await
    .unwrap();

    // Edited behind the sign-in's back (or by `quire config set server`).
    let decoy = format!("http://0.0.0.0:{decoy_port}");
    store.set_setting(SettingKey::Server, &decoy).await.unwrap();
    for err in [
        account::session(&store, &secrets).await.err().unwrap(),
        account::logout(&store, &secrets).await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, Error::Setting(SettingError::InsecureHttp(url)) if *url == decoy),
            "{err}"
        );
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    // The refused sign-out kept the token: signing out has not happened.
    assert!(account::signed_in(&store, &secrets)
        .await
        .unwrap()
        .is_some());

    store
        .set_setting(SettingKey::Server, &server.url)
        .await
        .unwrap();
    assert!(account::logout(&store, &secrets).await.unwrap().revoked);
}

#[tokio::test]
async fn the_plain_http_permission_is_for_one_server_only() {
    let server = server().await;
    let port = server.url.rsplit(':').next().unwrap();
    // Reaches the server, but counts as another machine.
    let elsewhere = format!("http://0.0.0.0:{port}");
    let common::Device {
        dir: _dir,
        store,
        secrets,
    } = device().await;
    let request = AccountRequest {
        insecure_http: true,
        ..request(&elsewhere, "gus", "long enough pw")
    };
    account::sign_in(&store, &secrets, request, true)
        .await
        .unwrap();
    assert!(account::session(&store, &secrets).await.is_ok());

    // The same server again keeps the permission.
    store
        .set_setting(SettingKey::Server, &format!("{elsewhere}/"))
        .await
        .unwrap();
    assert!(account::session(&store, &secrets).await.is_ok());

    // Another server withdraws it, also when the first one is set back afterwards.
    store
        .set_setting(SettingKey::Server, &server.url)
        .await
        .unwrap();
    store
        .set_setting(SettingKey::Server, &elsewhere)
        .await
        .unwrap();
    let err = account::session(&store, &secrets).await.err().unwrap();
    assert!(
        matches!(err, Error::Setting(SettingError::InsecureHttp(_))),
        "{err}"
    );
    assert!(err.to_string().contains("--insecure-http"), "{err}");
}

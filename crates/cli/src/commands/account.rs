use std::io::IsTerminal;

use quire_client::account::AccountRequest;
use quire_client::Device;

use crate::cli::{AccountCommand, RecoverArgs, SignInArgs};
use crate::error::CliError;
use crate::output::Output;

/// Environment variables scripts set instead of typing.
const PASSWORD_ENV: &str = "QUIRE_PASSWORD";
const NEW_PASSWORD_ENV: &str = "QUIRE_NEW_PASSWORD";
const RECOVERY_KEY_ENV: &str = "QUIRE_RECOVERY_KEY";

pub async fn run(command: AccountCommand, device: &Device, out: &Output) -> Result<(), CliError> {
    match command {
        AccountCommand::Register(args) => {
            let password = password(PASSWORD_ENV, "Password", true)?;
            let signed_in = device.sign_in(request(&args, password), true).await?;
            out.print(&signed_in, |s| {
                format!(
                    "created {} on {} and signed in\n\n\
                     Your recovery key (write it down and keep it safe):\n\n    {}\n\n\
                     Your notes are encrypted end to end. Without your password or this key \
                     nobody, not even the server's operator, can read them or get them back.\n\
                     `quire account recovery-key` shows it again on this device.",
                    s.username,
                    s.server,
                    s.recovery_key.as_deref().unwrap_or("(none)")
                )
            });
        }
        AccountCommand::Login(args) => {
            let password = password(PASSWORD_ENV, "Password", false)?;
            let request = AccountRequest {
                allow_legacy: args.legacy,
                ..request(&args.account, password)
            };
            let legacy = request.allow_legacy;
            let signed_in = device.sign_in(request, false).await?;
            out.print(&signed_in, |s| {
                let mut text = format!("signed in to {} as {}", s.server, s.username);
                if let Some(key) = &s.recovery_key {
                    text.push_str(&recovery_key_text(key));
                }
                text
            });
            if let Some(why) = &signed_in.upgrade_failed {
                out.warn(&format!(
                    "the account is still not end-to-end encrypted ({why}); try again with `quire account upgrade`"
                ));
            } else if legacy && signed_in.end_to_end {
                send_sealed_copies(device, out).await;
            }
        }
        AccountCommand::Upgrade => {
            let password = password(PASSWORD_ENV, "Password", false)?;
            let upgraded = device.upgrade_account(password).await?;
            out.print(&upgraded, |u| {
                let mut text = format!(
                    "the account is end-to-end encrypted now; {} notes to send again, sealed",
                    u.notes_to_seal
                );
                if let Some(key) = &u.recovery_key {
                    text.push_str(&recovery_key_text(key));
                }
                text
            });
            send_sealed_copies(device, out).await;
        }
        AccountCommand::Password => {
            let current = password(PASSWORD_ENV, "Current password", false)?;
            let new = password(NEW_PASSWORD_ENV, "New password", true)?;
            device.change_password(current, new).await?;
            out.print(&serde_json::json!({"changed": true}), |_| {
                "password changed; your other devices must sign in again with it".to_owned()
            });
        }
        AccountCommand::RecoveryKey => {
            let key = device.recovery_key().await?;
            out.print(&serde_json::json!({"recovery_key": key}), |_| key.clone());
        }
        AccountCommand::Recover(args) => {
            let key = password(RECOVERY_KEY_ENV, "Recovery key", false)?;
            let new = password(NEW_PASSWORD_ENV, "New password", true)?;
            let signed_in = device.recover(recover_request(&args, new), &key).await?;
            out.print(&signed_in, |s| {
                format!(
                    "new password set for {} on {}; signed in (other devices must sign in again)",
                    s.username, s.server
                )
            });
        }
        AccountCommand::Logout => {
            let outcome = device.sign_out().await?;
            if !outcome.revoked {
                out.warn(&format!(
                    "{} could not be reached to end the session; this device forgot its token",
                    outcome.server
                ));
            }
            out.print(&outcome, |o| format!("signed out of {}", o.server));
        }
    }
    Ok(())
}

fn recovery_key_text(key: &str) -> String {
    format!(
        "\n\nYour notes are now encrypted end to end. Your recovery key (write it down and \
         keep it safe):\n\n    {key}\n\nWithout your password or this key nobody, not even \
         the server's operator, can read them or get them back. Your other devices must sign \
         in again."
    )
}

/// Sends the sealed copies an upgrade queued right away; what is left goes with the next
/// `quire sync`.
async fn send_sealed_copies(device: &Device, out: &Output) {
    if let Err(err) = device.sync_once().await {
        out.warn(&format!(
            "the notes were not all sent sealed yet ({err}); `quire sync` sends the rest"
        ));
    }
}

fn request(args: &SignInArgs, password: String) -> AccountRequest<'_> {
    AccountRequest::new(&args.server, &args.user, password, args.insecure_http)
}

fn recover_request(args: &RecoverArgs, password: String) -> AccountRequest<'_> {
    AccountRequest::new(&args.server, &args.user, password, args.insecure_http)
}

/// A secret from the environment variable `env`, else asked for on the terminal as `what`
/// (twice for a new password).
fn password(env: &str, what: &str, new: bool) -> Result<String, CliError> {
    if let Ok(password) = std::env::var(env) {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(quire_client::Error::Password(format!(
            "no {}: set {env} or run in a terminal to be asked",
            what.to_lowercase()
        ))
        .into());
    }
    let password = rpassword::prompt_password(format!("{what}: "))?;
    if new && rpassword::prompt_password(format!("{what} again: "))? != password {
        return Err(quire_client::Error::Password("the passwords differ".to_owned()).into());
    }
    Ok(password)
}

use std::io::IsTerminal;

use quire_client::account::AccountRequest;
use quire_client::Device;

use crate::cli::{AccountCommand, SignInArgs};
use crate::error::CliError;
use crate::output::Output;

/// Environment variable scripts set instead of typing the password.
const PASSWORD_ENV: &str = "QUIRE_PASSWORD";

pub async fn run(command: AccountCommand, device: &Device, out: &Output) -> Result<(), CliError> {
    match command {
        AccountCommand::Register(args) => {
            let password = password(true)?;
            let signed_in = device.sign_in(request(&args, password), true).await?;
            out.print(&signed_in, |s| {
                format!("created {} on {} and signed in", s.username, s.server)
            });
        }
        AccountCommand::Login(args) => {
            let password = password(false)?;
            let signed_in = device.sign_in(request(&args, password), false).await?;
            out.print(&signed_in, |s| {
                format!("signed in to {} as {}", s.server, s.username)
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

fn request(args: &SignInArgs, password: String) -> AccountRequest<'_> {
    AccountRequest {
        server: &args.server,
        username: &args.user,
        password,
        insecure_http: args.insecure_http,
    }
}

/// The password from QUIRE_PASSWORD, else asked for on the terminal (twice for a new one).
fn password(new: bool) -> Result<String, CliError> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(quire_client::Error::Password(format!(
            "no password: set {PASSWORD_ENV} or run in a terminal to be asked"
        ))
        .into());
    }
    let password = rpassword::prompt_password("Password: ")?;
    if new && rpassword::prompt_password("Password again: ")? != password {
        return Err(quire_client::Error::Password("the passwords differ".to_owned()).into());
    }
    Ok(password)
}

use quire_client::credentials::SecretStore;
use quire_client::engine::sync_once;
use quire_client::{account, Store};

use crate::error::CliError;
use crate::output::Output;

pub async fn run(store: &Store, secrets: &dyn SecretStore, out: &Output) -> Result<(), CliError> {
    let (api, token) = account::session(store, secrets).await?;
    let report = sync_once(store, &api, &token).await?;
    out.print(&report, |r| {
        let mut line = format!(
            "pushed {}, pulled {}, merged {}",
            r.pushed, r.pulled, r.merged
        );
        match r.conflicts {
            0 => {}
            1 => line.push_str("; 1 note needs your decision (quire conflicts list)"),
            n => line.push_str(&format!(
                "; {n} notes need your decision (quire conflicts list)"
            )),
        }
        line
    });
    if report.set_aside > 0 {
        return Err(CliError::NeedsAttention(report.set_aside));
    }
    if report.pending > 0 {
        return Err(quire_client::Error::ServerProtocol {
            server: api.server().to_owned(),
            detail: format!(
                "{} changes are still queued after the round",
                report.pending
            ),
        }
        .into());
    }
    Ok(())
}

use quire_client::credentials::SecretStore;
use quire_client::engine::sync_once;
use quire_client::{account, Store};

use crate::error::CliError;
use crate::output::Output;

pub async fn run(store: &Store, secrets: &dyn SecretStore, out: &Output) -> Result<(), CliError> {
    let (api, token) = account::session(store, secrets).await?;
    let report = sync_once(store, &api, &token).await?;
    out.print(&report, |r| {
        let mut text = format!(
            "pushed {}, pulled {}, merged {} ({} bytes sent, {} received)",
            r.pushed, r.pulled, r.merged, r.bytes_sent, r.bytes_received
        );
        for notice in r.notices() {
            text.push_str(&format!("\n{}", notice.text));
        }
        if r.conflicts > 0 {
            text.push_str("\nsee them with: quire conflicts list");
        }
        text
    });
    if report.set_aside > 0 {
        return Err(CliError::NeedsAttention(report.set_aside));
    }
    if report.held > 0 {
        return Err(CliError::ConflictsToDecide(report.held));
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

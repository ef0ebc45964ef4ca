use quire_client::Device;
use quire_core::settings::SettingKey;

use crate::error::CliError;
use crate::output::Output;

pub async fn run(device: &Device, out: &Output) -> Result<(), CliError> {
    let report = device.sync_once().await?;
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
        let server = device.setting(SettingKey::Server).await?;
        return Err(quire_client::Error::ServerProtocol {
            server: server.unwrap_or_default(),
            detail: format!(
                "{} changes are still queued after the round",
                report.pending
            ),
        }
        .into());
    }
    Ok(())
}

use quire_client::vault::VaultReport;
use quire_client::Device;

use crate::cli::VaultCommand;
use crate::error::CliError;
use crate::output::Output;

fn describe(report: &VaultReport) -> String {
    let mut text = format!(
        "from the folder: {} new, {} changed, {} deleted, {} merged, {} to decide; {} files written",
        report.created, report.updated, report.deleted, report.merged, report.conflicts, report.written
    );
    for problem in &report.problems {
        text.push_str(&format!("\n{}: {}", problem.file, problem.reason));
    }
    text
}

pub async fn run(command: VaultCommand, device: &Device, out: &Output) -> Result<(), CliError> {
    let dir = device.vault_dir().await?.ok_or(CliError::SettingNotSet(
        quire_core::settings::SettingKey::VaultDir,
    ))?;
    match command {
        VaultCommand::Scan => {
            let report = device.scan_vault(&dir).await?;
            out.print(&report, describe);
            if report.problems.is_empty() {
                Ok(())
            } else {
                Err(CliError::VaultProblems(report.problems.len()))
            }
        }
        VaultCommand::Run => {
            let printer = out.clone();
            let (watcher, task) = device.watch_vault(dir, move |pass| match pass {
                Ok(report)
                    if report.took_changes()
                        || report.written > 0
                        || !report.problems.is_empty() =>
                {
                    printer.print(report, describe);
                }
                Ok(_) => {}
                // The watcher keeps going (and tries the folder again); say what is wrong.
                Err(err) => printer.warn(&err.to_string()),
            });
            tokio::signal::ctrl_c().await?;
            drop(watcher);
            let _ = task.await;
            Ok(())
        }
    }
}

/// After a command: what it changed reached the vault folder (when one is set) as the
/// device closed. Files the pass could not take in are warned about, not failed on.
pub fn warn_about(follow: Option<quire_client::Result<VaultReport>>, out: &Output) {
    match follow {
        Some(Ok(report)) => {
            for problem in &report.problems {
                out.warn(&format!("vault: {}: {}", problem.file, problem.reason));
            }
        }
        Some(Err(err)) => out.warn(&format!("vault: {err}")),
        None => {}
    }
}

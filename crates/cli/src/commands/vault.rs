use std::sync::Arc;

use quire_client::vault::{self, VaultReport};
use quire_client::Store;

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

pub async fn run(command: VaultCommand, store: Arc<Store>, out: &Output) -> Result<(), CliError> {
    let dir = vault::vault_dir(&store)
        .await?
        .ok_or(CliError::SettingNotSet(
            quire_core::settings::SettingKey::VaultDir,
        ))?;
    match command {
        VaultCommand::Scan => {
            let report = vault::sync_folder(&store, &dir).await?;
            out.print(&report, describe);
            if report.problems.is_empty() {
                Ok(())
            } else {
                Err(CliError::VaultProblems(report.problems.len()))
            }
        }
        VaultCommand::Run => {
            let printer = out.clone();
            let (watcher, task) =
                vault::watch::spawn(Arc::clone(&store), dir, move |pass| match pass {
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

/// After a command that changed notes: the vault folder, when one is set, follows at once
/// (and anything edited there meanwhile is taken in). Files it cannot take in are warned
/// about; the command itself succeeded.
pub async fn follow(store: &Store, out: &Output) -> Result<(), CliError> {
    let Some(dir) = vault::vault_dir(store).await? else {
        return Ok(());
    };
    match vault::sync_folder(store, &dir).await {
        Ok(report) => {
            for problem in &report.problems {
                out.warn(&format!("vault: {}: {}", problem.file, problem.reason));
            }
        }
        Err(err) => out.warn(&format!("vault: {err}")),
    }
    Ok(())
}

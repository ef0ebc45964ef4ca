use std::sync::Mutex;
use std::time::{Duration, Instant};

use quire_client::vault::{VaultProgress, VaultReport, VaultStage};
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

/// How often a long pass's progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Prints a long pass's progress, at most once every [`PROGRESS_EVERY`].
fn progress_printer(out: &Output) -> impl Fn(VaultProgress) + Send + Sync + 'static {
    let out = out.clone();
    let last: Mutex<Option<Instant>> = Mutex::new(None);
    move |progress: VaultProgress| {
        let doing = match progress.stage {
            VaultStage::Reading => "read",
            VaultStage::Writing => "written",
            VaultStage::Finished => return,
        };
        let mut last = last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY) {
            *last = Some(Instant::now());
            out.progress(&format!(
                "vault: {} of {} files {doing}",
                progress.done, progress.total
            ));
        }
    }
}

pub async fn run(command: VaultCommand, device: &Device, out: &Output) -> Result<(), CliError> {
    let dir = device.vault_dir().await?.ok_or(CliError::SettingNotSet(
        quire_core::settings::SettingKey::VaultDir,
    ))?;
    match command {
        VaultCommand::Scan => {
            let report = device.scan_vault(&dir, &progress_printer(out)).await?;
            out.print(&report, describe);
            if report.problems.is_empty() {
                Ok(())
            } else {
                Err(CliError::VaultProblems(report.problems.len()))
            }
        }
        VaultCommand::Run => {
            let printer = out.clone();
            let (watcher, task) = device.watch_vault(
                dir,
                move |pass| match pass {
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
                },
                progress_printer(out),
            );
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

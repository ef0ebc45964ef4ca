use quire_client::engine::{CheckOutcome, CheckWhen, SyncPreview, Verification};
use quire_client::Device;
use quire_core::settings::SettingKey;

use crate::cli::SyncArgs;
use crate::error::CliError;
use crate::output::{printable, Output};

pub async fn run(args: SyncArgs, device: &Device, out: &Output) -> Result<(), CliError> {
    if args.dry_run {
        let preview = device.sync_preview().await?;
        out.print(&preview, preview_text);
        return Ok(());
    }
    let when = if args.verify {
        CheckWhen::Always
    } else {
        CheckWhen::Due
    };
    let report = device.sync(when).await?;
    out.print(&report, |r| {
        let mut text = format!(
            "pushed {}, pulled {}, merged {} ({} bytes sent, {} received)",
            r.pushed, r.pulled, r.merged, r.bytes_sent, r.bytes_received
        );
        if let Some(check) = &r.verification {
            text.push_str(&format!("\n{}", check_text(check)));
        }
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
    if args.verify {
        match &report.verification {
            Some(check) if check.outcome == CheckOutcome::Equal => {}
            Some(check) => return Err(CliError::NotVerified(check_text(check))),
            None => {
                return Err(CliError::NotVerified(
                    "this account is not end-to-end encrypted yet, and only such an account's \
                     server keeps a digest: sign in again to upgrade it"
                        .to_owned(),
                ))
            }
        }
    }
    Ok(())
}

fn check_text(check: &Verification) -> String {
    let notes = |n: u64| {
        if n == 1 {
            "1 note".to_owned()
        } else {
            format!("{n} notes")
        }
    };
    match check.outcome {
        CheckOutcome::Equal => format!(
            "checked: this device holds exactly what the server holds ({}, {} requests, {} ms)",
            notes(check.notes),
            check.requests,
            check.duration_ms
        ),
        CheckOutcome::Differs => format!(
            "checked: {} still differ{} from the server ({} waiting on changes here, {} older \
             on the server)",
            notes(check.waiting + check.server_behind),
            if check.waiting + check.server_behind == 1 {
                "s"
            } else {
                ""
            },
            check.waiting,
            check.server_behind
        ),
        CheckOutcome::NotSealed => "not checked: the server still holds notes in the clear \
                                    from before this account's upgrade"
            .to_owned(),
        CheckOutcome::Moved => {
            "not checked: the account kept changing on the server during the check".to_owned()
        }
    }
}

fn preview_text(preview: &SyncPreview) -> String {
    let mut lines = Vec::new();
    if preview.ops == 0 {
        lines.push("the next round would send nothing".to_owned());
    } else {
        lines.push(format!(
            "the next round would send {} change{} to {} note{} ({} bytes of text; a patch \
             goes instead where smaller):",
            preview.ops,
            if preview.ops == 1 { "" } else { "s" },
            preview.notes.iter().filter(|n| !n.held).count(),
            if preview.notes.iter().filter(|n| !n.held).count() == 1 {
                ""
            } else {
                "s"
            },
            preview.text_bytes
        ));
    }
    for note in &preview.notes {
        let ops: Vec<String> = note
            .ops
            .iter()
            .map(|op| format!("{} ({} B)", op.kind.as_str(), op.text_bytes))
            .collect();
        lines.push(format!(
            "  {} {}: {}{}",
            note.note_id,
            printable(&note.title),
            ops.join(", "),
            if note.held {
                " [held: waiting for your decision]"
            } else {
                ""
            }
        ));
    }
    if preview.deletes_forever > 0 {
        lines.push(format!("deleted forever: {}", preview.deletes_forever));
    }
    lines.push(format!(
        "the server has {}{} note{} changed on other devices for this one",
        preview.to_pull,
        if preview.more_to_pull { "+" } else { "" },
        if preview.to_pull == 1 && !preview.more_to_pull {
            ""
        } else {
            "s"
        }
    ));
    lines.push("nothing was sent or changed (dry run)".to_owned());
    lines.join("\n")
}

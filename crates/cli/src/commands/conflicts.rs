use std::fmt::Write;

use quire_client::store::Resolution;
use quire_client::Device;
use quire_core::merge::Hunk;

use super::note::read_text;
use crate::cli::{ConflictsCommand, Take};
use crate::error::CliError;
use crate::output::Output;

pub async fn run(command: ConflictsCommand, device: &Device, out: &Output) -> Result<(), CliError> {
    match command {
        ConflictsCommand::List => {
            let conflicts = device.conflicts().await?;
            out.print(&conflicts, |list| {
                if list.is_empty() {
                    return "no conflicts".to_owned();
                }
                list.iter()
                    .map(|c| {
                        format!(
                            "{}  {}  {}\n",
                            c.note_id,
                            c.created_at.to_utc_string(),
                            c.mine.title
                        )
                    })
                    .collect()
            });
        }
        ConflictsCommand::Show { id } => {
            let conflict = device.conflict(id).await?;
            let hunks = conflict.hunks();
            let json = serde_json::json!({
                "conflict": &conflict,
                "hunks": hunks.iter().map(|h| match h {
                    Hunk::Resolved(text) => serde_json::json!({"same": text}),
                    Hunk::Conflict { base, ours, theirs } =>
                        serde_json::json!({"base": base, "mine": ours, "theirs": theirs}),
                }).collect::<Vec<_>>(),
            });
            out.print(&json, |_| {
                let mut text = format!(
                    "# {} (mine) / {} (theirs, version {})\n\n",
                    conflict.mine.title, conflict.theirs.title, conflict.theirs_version
                );
                for hunk in &hunks {
                    match hunk {
                        Hunk::Resolved(lines) => text.push_str(lines),
                        Hunk::Conflict { ours, theirs, .. } => {
                            let _ = write!(
                                text,
                                "<<<<<<< mine\n{ours}=======\n{theirs}>>>>>>> theirs\n"
                            );
                        }
                    }
                }
                text
            });
        }
        ConflictsCommand::Resolve { id, take, file } => {
            let resolution = match (take, file) {
                (Some(Take::Mine), _) => Resolution::Mine,
                (Some(Take::Theirs), _) => Resolution::Theirs,
                (None, file) => Resolution::Text(read_text(file.as_deref(), out)?),
            };
            device.resolve_conflict(id, resolution).await?;
            out.print(&serde_json::json!({"resolved": id}), |_| {
                format!("resolved {id}; it syncs with the next round")
            });
        }
    }
    Ok(())
}

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use quire_client::history::VersionKind;
use quire_client::store::{NoteEdit, NoteSummary};
use quire_client::Device;
use quire_core::validate::text_from_bytes;
use quire_core::{NoteFields, Version};

use crate::cli::NoteCommand;
use crate::error::CliError;
use crate::output::{printable, Output};

pub async fn run(command: NoteCommand, device: &Device, out: &Output) -> Result<(), CliError> {
    match command {
        NoteCommand::Add { title, file } => {
            let body = read_text(file.as_deref(), out)?;
            let note = device.create_note(NoteFields { title, body }).await?;
            out.print(&note, |note| note.id.to_string());
        }
        NoteCommand::Edit { id, title, file } => {
            if title.is_none() && file.is_none() {
                return Err(CliError::NothingToChange);
            }
            let body = file.map(|file| read_text(Some(&file), out)).transpose()?;
            let note = device.update_note(id, NoteEdit { title, body }).await?;
            out.print(&note, |note| note.id.to_string());
        }
        NoteCommand::Show { id } => {
            let note = device.note(id).await?;
            out.print(&note, |note| {
                let deleted = if note.deleted { " (deleted)" } else { "" };
                format!("# {}{deleted}\n\n{}", note.title, note.body)
            });
        }
        NoteCommand::List => print_list(out, &device.list_notes().await?),
        NoteCommand::Search { query } => {
            let hits = device.search(&query).await?;
            out.print(&hits, |hits| {
                hits.iter()
                    .map(|hit| {
                        let snippet: String = hit
                            .snippet
                            .iter()
                            .map(|run| {
                                if run.matched {
                                    format!("[{}]", printable(&run.text))
                                } else {
                                    printable(&run.text)
                                }
                            })
                            .collect();
                        format!(
                            "{}  {}\n    {}\n",
                            hit.id,
                            printable(&hit.title),
                            snippet.trim()
                        )
                    })
                    .collect()
            });
        }
        NoteCommand::Trash => print_list(out, &device.trash().await?),
        NoteCommand::Restore { id, version: None } => {
            let note = device.restore_note(id).await?;
            out.print(&serde_json::json!({ "restored": id }), |_| {
                format!("restored {id} ({})", note.title)
            });
        }
        NoteCommand::Restore {
            id,
            version: Some(version),
        } => {
            let note = device.restore_version(id, Version(version)).await?;
            out.print(
                &serde_json::json!({ "restored": id, "version": version }),
                |_| format!("restored {id} ({}) to version {version}", note.title),
            );
        }
        NoteCommand::History { id } => {
            let versions = device.note_versions(id).await?;
            out.print(&versions, |versions| {
                versions
                    .iter()
                    .map(|v| {
                        let kind = match v.kind {
                            VersionKind::Whole => "whole",
                            VersionKind::Edit => "edit",
                            VersionKind::Deleted => "deleted",
                        };
                        let by = if v.this_device {
                            "this device".to_owned()
                        } else {
                            format!("device {}", &v.device[..8.min(v.device.len())])
                        };
                        format!(
                            "{:>6}  {}  {kind:<7}  {:>9} B  {by}\n",
                            v.version,
                            v.at.to_utc_string(),
                            v.bytes
                        )
                    })
                    .collect::<String>()
            });
        }
        NoteCommand::Purge { id } => {
            device.purge_note(id).await?;
            out.print(&serde_json::json!({ "purged": id }), |_| {
                format!("deleted {id} forever (the server and your other devices follow when they sync)")
            });
        }
        NoteCommand::Delete { id } => {
            device.delete_note(id).await?;
            out.print(&serde_json::json!({ "deleted": id }), |_| {
                format!("deleted {id}")
            });
        }
    }
    Ok(())
}

/// A note's text from a file, or from stdin for no file or "-".
pub(super) fn read_text(file: Option<&Path>, out: &Output) -> Result<String, CliError> {
    let (path, bytes) = match file {
        Some(path) if path != Path::new("-") => {
            let bytes = std::fs::read(path).map_err(|source| CliError::ReadFile {
                path: path.to_path_buf(),
                source,
            })?;
            (path.to_path_buf(), bytes)
        }
        _ => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                out.warn("reading the note's text from the terminal; end it with Ctrl-D");
            }
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .map_err(|source| CliError::ReadFile {
                    path: PathBuf::from("stdin"),
                    source,
                })?;
            (PathBuf::from("stdin"), bytes)
        }
    };
    text_from_bytes(bytes).map_err(|source| CliError::NotText { path, source })
}

/// Notes a line each: id, time, a * when changes wait to be sent, title.
fn print_list(out: &Output, notes: &[NoteSummary]) {
    out.print(&notes, |notes| {
        notes
            .iter()
            .map(|n| {
                let pending = if n.pending { "*" } else { " " };
                format!(
                    "{}  {} {pending} {}\n",
                    n.id,
                    n.updated_at.to_utc_string(),
                    printable(&n.title)
                )
            })
            .collect()
    });
}

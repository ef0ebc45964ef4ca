//! The "needs attention" list: changes the server refused, kept with their text and the
//! server's reason until the person has seen them. Nothing refused is ever dropped.

use quire_core::{Millis, NoteId, OpId};
use sqlx::Row;

use super::{decode, Store};
use crate::{Error, Result};

/// A change the server refused, kept with its text and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SetAside {
    pub op_id: OpId,
    pub note_id: NoteId,
    /// create, update or delete.
    pub kind: String,
    pub title: Option<String>,
    pub body: Option<String>,
    pub reason: String,
    pub rejected_at: Millis,
}

impl Store {
    /// Changes the server refused, oldest first: the "needs attention" list.
    pub async fn attention(&self) -> Result<Vec<SetAside>> {
        let rows = sqlx::query(
            "SELECT op_id, note_id, kind, title, body, reason, rejected_at
             FROM attention ORDER BY rejected_at, op_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let op_id: String = row.try_get("op_id")?;
                let note_id: String = row.try_get("note_id")?;
                Ok(SetAside {
                    op_id: decode(&op_id, "op id")?,
                    note_id: decode(&note_id, "note id")?,
                    kind: row.try_get("kind")?,
                    title: row.try_get("title")?,
                    body: row.try_get("body")?,
                    reason: row.try_get("reason")?,
                    rejected_at: Millis(row.try_get("rejected_at")?),
                })
            })
            .collect()
    }

    /// Takes a refused change off the "needs attention" list, once the person has seen it.
    pub async fn dismiss_attention(&self, op_id: OpId) -> Result<()> {
        let done = sqlx::query("DELETE FROM attention WHERE op_id = ?")
            .bind(op_id.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NothingToDismiss(op_id));
        }
        Ok(())
    }
}

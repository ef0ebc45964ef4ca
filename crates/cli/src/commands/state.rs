use quire_client::account::SignedIn;
use quire_client::store::StoreStatus;
use quire_client::Device;
use quire_core::{Millis, OpPayload};
use serde::Serialize;

use crate::error::CliError;
use crate::output::Output;

pub async fn queue(device: &Device, out: &Output) -> Result<(), CliError> {
    let ops = device.queue().await?;
    out.print(&ops, |ops| {
        if ops.is_empty() {
            return "the queue is empty".to_owned();
        }
        ops.iter()
            .map(|q| {
                let what = match &q.op.payload {
                    OpPayload::Create(f) | OpPayload::Update(f) => format!(" {:?}", f.title),
                    OpPayload::Delete => String::new(),
                };
                let base =
                    q.op.base_version
                        .map_or("-".to_owned(), |v| format!("v{v}"));
                let sent = if q.sent_at.is_some() {
                    " (sending)"
                } else {
                    ""
                };
                format!(
                    "{:>6}  {:<6} {} base {base}{what}{sent}\n",
                    q.seq,
                    q.op.payload.kind().as_str(),
                    q.op.note_id
                )
            })
            .collect()
    });
    Ok(())
}

/// `quire status`: the store's state and who the device is signed in as.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(flatten)]
    store: StoreStatus,
    account: Option<SignedIn>,
}

pub async fn status(device: &Device, out: &Output) -> Result<(), CliError> {
    let status = Status {
        store: device.status().await?,
        account: device.signed_in().await?,
    };
    out.print(&status, |Status { store: s, account }| {
        let state = match (&s.server, account) {
            (None, _) => {
                "local only: no sync server is set (quire account login --server URL --user NAME)"
                    .to_owned()
            }
            (Some(_), Some(account)) => {
                format!("sync server {} as {}", account.server, account.username)
            }
            (Some(server), None) => format!("sync server {server} (not signed in)"),
        };
        let last_sync = s
            .last_sync_at
            .map_or("never".to_owned(), |at| Millis(at).to_utc_string());
        let last_verified = s.last_verified_at.map_or(
            "never (quire sync --verify checks)".to_owned(),
            |at| Millis(at).to_utc_string(),
        );
        format!(
            "state: {state}\nnotes: {}\npending changes: {}\nconflicts: {}\nlast sync: {last_sync}\nlast verified equal to the server: {last_verified}\ndevice: {}",
            s.notes, s.pending_ops, s.open_conflicts, s.device_id
        )
    });
    Ok(())
}

//! One app per data folder (`quire_client::instance`): a second launch shows the running
//! app's window and exits 0. A data folder that cannot be used is not claimed: the window
//! comes up and says what is wrong with it.

use quire_client::instance::{self, Claim};

/// `None` when the data folder cannot be resolved (the window will say why).
pub fn claim() -> quire_client::Result<Option<Claim>> {
    let Ok(data_dir) = quire_client::paths::data_dir(None) else {
        return Ok(None);
    };
    let claim = instance::claim(&data_dir)?;
    if let Claim::HandedOver = claim {
        tracing::info!(data_dir = %data_dir.display(), "Quire already runs on this data folder: showed its window");
    }
    Ok(Some(claim))
}

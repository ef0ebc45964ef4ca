//! `store.json`: the store's id, which names its key in the credentials store.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Error, Result};

pub const META_FILE: &str = "store.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct StoreMeta {
    pub store_id: Uuid,
}

/// Reads the store's meta file; makes one only when there is no database yet, since a new
/// id for an existing database would orphan its key.
pub fn load_or_create(data_dir: &Path, database_exists: bool) -> Result<StoreMeta> {
    let path = data_dir.join(META_FILE);
    let meta_error = |detail: String| Error::StoreMeta {
        path: path.clone(),
        detail,
    };
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| meta_error(err.to_string())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !database_exists => {
            let meta = StoreMeta {
                store_id: Uuid::now_v7(),
            };
            let json =
                serde_json::to_vec_pretty(&meta).map_err(|err| meta_error(err.to_string()))?;
            let tmp = path.with_extension("json.tmp");
            let mut file = fs::File::create(&tmp).map_err(|err| meta_error(err.to_string()))?;
            file.write_all(&json)
                .and_then(|()| file.sync_all())
                .and_then(|()| fs::rename(&tmp, &path))
                .map_err(|err| meta_error(err.to_string()))?;
            Ok(meta)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            Err(meta_error("it is missing".to_owned()))
        }
        Err(err) => Err(meta_error(err.to_string())),
    }
}

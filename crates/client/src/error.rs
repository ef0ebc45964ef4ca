use std::path::PathBuf;

/// Every failure quire-client can report. Messages are written for the person reading
/// them: they say what went wrong and, where there is one, how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no data directory could be found for this user; set QUIRE_DATA_DIR or pass --data-dir"
    )]
    NoDataDir,
    #[error("the data directory {0} must be an absolute path")]
    RelativeDataDir(PathBuf),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

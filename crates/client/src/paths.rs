//! Where a device keeps its data.
//!
//! One rule for every front end: an explicit choice (`--data-dir`) wins, then the
//! `QUIRE_DATA_DIR` environment variable, then the platform's per-user data directory
//! (`$XDG_DATA_HOME/quire` on Linux). Tests point both the CLI and the app at a prepared
//! store through the environment variable.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Environment variable that chooses the data directory.
pub const DATA_DIR_ENV: &str = "QUIRE_DATA_DIR";

/// Resolves the data directory from an explicit choice and the process environment.
pub fn data_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    let platform_default = directories::ProjectDirs::from("app", "Quire", "quire")
        .map(|dirs| dirs.data_dir().to_path_buf());
    resolve(
        explicit,
        std::env::var_os(DATA_DIR_ENV),
        platform_default.as_deref(),
    )
}

/// The pure part of [`data_dir`]: precedence and validation, without reading the world.
fn resolve(
    explicit: Option<&Path>,
    from_env: Option<OsString>,
    platform_default: Option<&Path>,
) -> Result<PathBuf> {
    // An empty variable means "not set": `QUIRE_DATA_DIR= quire ...` must not pick the cwd.
    let from_env = from_env
        .filter(|value| !value.is_empty())
        .map(PathBuf::from);
    let chosen = explicit
        .map(Path::to_path_buf)
        .or(from_env)
        .or_else(|| platform_default.map(Path::to_path_buf))
        .ok_or(Error::NoDataDir)?;
    if chosen.is_absolute() {
        Ok(chosen)
    } else if explicit.is_some() {
        // A relative --data-dir is what a person typed in a shell: anchor it at the cwd.
        std::path::absolute(&chosen).map_err(|_| Error::RelativeDataDir(chosen))
    } else {
        // From the environment, a relative path depends on wherever the app was started.
        Err(Error::RelativeDataDir(chosen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLATFORM: &str = "/home/someone/.local/share/quire";

    #[test]
    fn explicit_choice_wins_over_env_and_platform() {
        let dir = resolve(
            Some(Path::new("/explicit")),
            Some("/from-env".into()),
            Some(Path::new(PLATFORM)),
        )
        .unwrap();
        assert_eq!(dir, Path::new("/explicit"));
    }

    #[test]
    fn env_wins_over_platform_default() {
        let dir = resolve(None, Some("/from-env".into()), Some(Path::new(PLATFORM))).unwrap();
        assert_eq!(dir, Path::new("/from-env"));
    }

    #[test]
    fn empty_env_falls_back_to_platform_default() {
        let dir = resolve(None, Some(OsString::new()), Some(Path::new(PLATFORM))).unwrap();
        assert_eq!(dir, Path::new(PLATFORM));
    }

    #[test]
    fn nothing_at_all_is_a_clear_error() {
        let err = resolve(None, None, None).unwrap_err();
        assert!(matches!(err, Error::NoDataDir));
        assert!(err.to_string().contains("QUIRE_DATA_DIR"));
    }

    #[test]
    fn relative_env_path_is_refused() {
        let err = resolve(None, Some("notes".into()), Some(Path::new(PLATFORM))).unwrap_err();
        assert!(matches!(err, Error::RelativeDataDir(_)));
    }

    #[test]
    fn relative_explicit_path_is_anchored_at_the_cwd() {
        let dir = resolve(Some(Path::new("notes")), None, None).unwrap();
        assert!(dir.is_absolute());
        assert_eq!(dir, std::env::current_dir().unwrap().join("notes"));
    }
}

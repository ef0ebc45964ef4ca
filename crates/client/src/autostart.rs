//! Start at login: an XDG autostart entry (`~/.config/autostart/quire.desktop`, or under
//! `$XDG_CONFIG_HOME`) that starts the app `--hidden`, in the tray when there is one, on this
//! device's data folder (and with its choice of credentials store). One entry: turning it on
//! for another data folder moves it there; it counts as on only for the folder it names.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::credentials::CREDENTIALS_ENV;
use crate::paths::DATA_DIR_ENV;
use crate::{Error, Result};

const ENTRY: &str = "quire.desktop";

/// The autostart entry of one data folder.
pub struct Autostart {
    /// `$XDG_CONFIG_HOME/autostart/quire.desktop`.
    path: PathBuf,
    data_dir: PathBuf,
}

impl Autostart {
    /// The entry under `config_home` (the XDG config dir) for `data_dir`.
    pub fn new(config_home: &Path, data_dir: &Path) -> Self {
        Self {
            path: config_home.join("autostart").join(ENTRY),
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// The entry where the desktop looks for it: `$XDG_CONFIG_HOME`, else `~/.config`.
    pub fn for_this_user(data_dir: &Path) -> Result<Self> {
        let dirs = directories::BaseDirs::new().ok_or_else(|| Error::Autostart {
            path: PathBuf::from("~/.config/autostart"),
            detail: "this user has no home folder".to_owned(),
        })?;
        Ok(Self::new(dirs.config_dir(), data_dir))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the entry is there and starts Quire on this data folder.
    pub fn is_on(&self) -> bool {
        std::fs::read_to_string(&self.path)
            .is_ok_and(|text| text.contains(&quote(&self.data_dir_assignment())))
    }

    /// Writes the entry, starting `app` (the running binary) hidden on this data folder.
    pub fn turn_on(&self, app: &Path, credentials: Option<&str>) -> Result<()> {
        let failed = |err: std::io::Error| Error::Autostart {
            path: self.path.clone(),
            detail: err.to_string(),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let text = self.entry(app, credentials);
        // Written whole or not at all: a desktop reading a half-written entry starts nothing.
        let partial = self.path.with_extension("desktop.partial");
        std::fs::write(&partial, text).map_err(failed)?;
        std::fs::rename(&partial, &self.path).map_err(failed)
    }

    /// Removes the entry if it starts Quire on this data folder; another folder's is kept.
    pub fn turn_off(&self) -> Result<()> {
        if !self.is_on() {
            return Ok(());
        }
        std::fs::remove_file(&self.path).map_err(|err| Error::Autostart {
            path: self.path.clone(),
            detail: err.to_string(),
        })
    }

    fn data_dir_assignment(&self) -> String {
        format!("{DATA_DIR_ENV}={}", self.data_dir.display())
    }

    fn entry(&self, app: &Path, credentials: Option<&str>) -> String {
        let mut exec = format!("env {}", quote(&self.data_dir_assignment()));
        if let Some(choice) = credentials {
            let _ = write!(exec, " {}", quote(&format!("{CREDENTIALS_ENV}={choice}")));
        }
        let _ = write!(exec, " {} --hidden", quote(&app.display().to_string()));
        format!(
            "[Desktop Entry]\nType=Application\nName=Quire\n\
             Comment=Offline-first notes, syncing in the background\n\
             Exec={exec}\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
        )
    }
}

/// One argument of a desktop entry's `Exec` line, quoted as the specification asks: inside
/// double quotes, `"`, `` ` ``, `$` and `\` are escaped; `%` is doubled (field codes); and the
/// value-level escape doubles every backslash again.
fn quote(arg: &str) -> String {
    let mut quoted = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' | '`' | '$' => {
                quoted.push_str("\\\\");
                quoted.push(c);
            }
            '\\' => quoted.push_str("\\\\\\\\"),
            '%' => quoted.push_str("%%"),
            '\n' | '\r' => quoted.push(' '),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_entry_starts_quire_hidden_on_this_data_folder_and_goes_away_again() {
        let config = tempfile::tempdir().unwrap();
        let entry = Autostart::new(config.path(), Path::new("/home/ada/My Notes"));
        assert!(!entry.is_on());
        entry
            .turn_on(Path::new("/usr/bin/quire-app"), Some("file"))
            .unwrap();
        let text = std::fs::read_to_string(config.path().join("autostart/quire.desktop")).unwrap();
        assert!(text.starts_with("[Desktop Entry]\n"), "{text}");
        assert!(
            text.contains(
                "\nExec=env \"QUIRE_DATA_DIR=/home/ada/My Notes\" \"QUIRE_CREDENTIALS=file\" \
                 \"/usr/bin/quire-app\" --hidden\n"
            ),
            "{text}"
        );
        assert!(entry.is_on());

        // Another data folder's entry is not this one's to remove.
        let other = Autostart::new(config.path(), Path::new("/srv/other"));
        assert!(!other.is_on());
        other.turn_off().unwrap();
        assert!(entry.is_on());

        entry.turn_off().unwrap();
        assert!(!entry.is_on());
        assert!(!config.path().join("autostart/quire.desktop").exists());
    }

    #[test]
    fn exec_arguments_are_quoted_so_no_path_becomes_a_command() {
        assert_eq!(quote("/a b/quire-app"), "\"/a b/quire-app\"");
        assert_eq!(
            quote("50% $HOME `x` \"q\""),
            "\"50%% \\\\$HOME \\\\`x\\\\` \\\\\"q\\\\\"\""
        );
        assert_eq!(quote("a\\b"), "\"a\\\\\\\\b\"");
        assert_eq!(quote("line\nbreak"), "\"line break\"");
    }
}

//! One app per data directory. The first launch holds a lock on `app.lock` in the data dir
//! for as long as it runs, and listens on `app.sock` beside it; a later launch on the same
//! data dir asks it to show its window and leaves. The `quire` CLI takes no part: it works
//! beside the app on the same data (the store's own locking keeps them apart).
//!
//! A launch that finds the lock held but gets no answer (the holder is exiting, or was
//! started a moment ago and is not listening yet) tries again for a few seconds; the lock
//! goes with the process, so a crashed app never blocks the next one.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::store::create_private_dir;
use crate::{Error, Result};

const LOCK_FILE: &str = "app.lock";
const SOCKET_FILE: &str = "app.sock";
const SHOW: &[u8] = b"show\n";
const SHOWN: &[u8] = b"shown\n";
/// How long a launch keeps trying to either hold the lock or be answered.
const HAND_OVER_FOR: Duration = Duration::from_secs(5);
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// This process is the app for its data dir while this lives.
pub struct Instance {
    _lock: File,
    listener: Option<UnixListener>,
}

/// What a launch found.
pub enum Claim {
    /// No other app runs on this data dir; this one does now.
    First(Instance),
    /// Another app runs on this data dir and was asked to show its window.
    HandedOver,
}

/// Becomes the app for `data_dir`, or asks the one running there to show its window.
pub fn claim(data_dir: &Path) -> Result<Claim> {
    let io = |source| Error::DataDirIo {
        path: data_dir.to_path_buf(),
        source,
    };
    create_private_dir(data_dir)?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.join(LOCK_FILE))
        .map_err(io)?;
    let socket = data_dir.join(SOCKET_FILE);
    let deadline = Instant::now() + HAND_OVER_FOR;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(Claim::First(Instance::listen(lock, &socket))),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(err)) => return Err(io(err)),
        }
        if ask_to_show(&socket) {
            return Ok(Claim::HandedOver);
        }
        if Instant::now() > deadline {
            return Err(io(std::io::Error::new(
                ErrorKind::TimedOut,
                "another Quire runs on this data folder but does not answer",
            )));
        }
        // Before the app starts its runtime: nothing else runs on this thread yet.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether the app holding the lock answered that it showed its window.
fn ask_to_show(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(ANSWER_WITHIN));
    let _ = stream.set_write_timeout(Some(ANSWER_WITHIN));
    let mut answer = [0; SHOWN.len()];
    stream.write_all(SHOW).is_ok() && stream.read_exact(&mut answer).is_ok() && answer == SHOWN
}

impl Instance {
    fn listen(lock: File, socket: &PathBuf) -> Self {
        // A socket left by an app that crashed: the lock proves nobody listens there.
        let _ = std::fs::remove_file(socket);
        let listener = UnixListener::bind(socket)
            .inspect_err(|err| {
                // Still one instance (the lock holds); only the hand-over is lost.
                tracing::warn!(socket = %socket.display(), "a second launch cannot reach this one: {err}");
            })
            .ok();
        Self {
            _lock: lock,
            listener,
        }
    }

    /// Answers later launches on a thread of its own: `show` brings the window up and says
    /// whether there was one to show (an app that is exiting has none; the launch then
    /// waits for the lock instead).
    pub fn on_show_request(&mut self, show: impl Fn() -> bool + Send + 'static) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(ANSWER_WITHIN));
                let mut request = [0; SHOW.len()];
                if stream.read_exact(&mut request).is_ok() && request == SHOW && show() {
                    tracing::info!("another launch on this data folder: showing the window");
                    let _ = stream.write_all(SHOWN);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn a_second_launch_hands_over_to_the_first_and_a_crashed_one_blocks_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let Claim::First(mut first) = claim(dir.path()).unwrap() else {
            panic!("nobody else runs here");
        };
        let (shown, was_shown) = mpsc::channel();
        first.on_show_request(move || shown.send(()).is_ok());
        assert!(matches!(claim(dir.path()).unwrap(), Claim::HandedOver));
        was_shown.recv_timeout(Duration::from_secs(5)).unwrap();

        // Gone (as a crash would leave it: the socket file stays); the next launch runs.
        drop(first);
        assert!(dir.path().join(SOCKET_FILE).exists());
        assert!(matches!(claim(dir.path()).unwrap(), Claim::First(_)));
    }

    #[test]
    fn an_app_with_no_window_to_show_is_not_handed_over_to() {
        let dir = tempfile::tempdir().unwrap();
        let Claim::First(mut exiting) = claim(dir.path()).unwrap() else {
            panic!("nobody else runs here");
        };
        exiting.on_show_request(|| false);
        let started = Instant::now();
        let err = claim(dir.path()).err().unwrap();
        assert!(err.to_string().contains("does not answer"), "{err}");
        assert!(started.elapsed() >= HAND_OVER_FOR);
    }
}

//! Logs go to stderr and to a daily-rotated file in the data dir (`logs/quire.*.log`, a
//! week kept), so a person can send them when something went wrong.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The logs folder, inside the data dir.
pub const LOG_DIR: &str = "logs";
const KEEP_FILES: usize = 7;

/// Starts logging; keep the guard alive for as long as logs should reach the file.
pub fn init() -> Option<WorkerGuard> {
    let filter = || EnvFilter::try_from_env("QUIRE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());
    // Without a data dir or a writable logs folder the app still runs; stderr has it all.
    let file = quire_client::paths::data_dir(None).ok().and_then(|dir| {
        Builder::new()
            .rotation(Rotation::DAILY)
            .filename_prefix("quire")
            .filename_suffix("log")
            .max_log_files(KEEP_FILES)
            .build(dir.join(LOG_DIR))
            .ok()
    });
    match file {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let to_file = fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            tracing_subscriber::registry()
                .with(stderr)
                .with(to_file)
                .init();
            Some(guard)
        }
        None => {
            tracing_subscriber::registry().with(stderr).init();
            None
        }
    }
}

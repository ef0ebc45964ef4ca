//! Settings, from the command line or the environment (`quire-server --help` lists them):
//! where to listen and store, TLS, and the limits that keep one client from exhausting the
//! server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Quire's sync server.
#[derive(Debug, Clone, Parser)]
#[command(name = "quire-server", version, about)]
pub struct Config {
    /// Address to listen on (loopback by default; use 0.0.0.0:PORT to serve other machines).
    #[arg(long, env = "QUIRE_SERVER_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Database: sqlite://PATH (created if missing) or postgres://... [default: a SQLite file
    /// in the server's data dir]
    #[arg(long, env = "QUIRE_SERVER_DB", value_name = "URL")]
    pub db: Option<String>,
    #[command(flatten)]
    pub limits: Limits,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(
        long,
        env = "QUIRE_SERVER_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key for --tls-cert.
    #[arg(
        long,
        env = "QUIRE_SERVER_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// How long a login stays valid, in days.
    #[arg(long, env = "QUIRE_SERVER_TOKEN_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub token_days: u32,
    /// A reverse proxy in front of the server (an address or a network like 10.0.0.0/8;
    /// repeat the flag or separate with commas). Only from these peers is X-Forwarded-For
    /// believed, which login and registration limits are keyed by; without it, every client
    /// of a proxy on this host looks like 127.0.0.1 and shares one limit.
    #[arg(
        long = "trusted-proxy",
        env = "QUIRE_SERVER_TRUSTED_PROXIES",
        value_name = "ADDR[/PREFIX]",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<crate::client_addr::TrustedProxy>,
}

/// What one request may carry, how much work a stranger can cause, how many connections the
/// server holds and for how long, and how long it keeps what it needs only for a while. Over
/// a request limit: 413 (or 400), and nothing is stored; over a rate limit: 429; with every
/// password-hash or connection slot taken too long: 503; a request too slow: 408.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct Limits {
    /// Largest request body, in bytes, after decompression.
    #[arg(long, env = "QUIRE_SERVER_MAX_BODY", default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most ops in one push.
    #[arg(long, env = "QUIRE_SERVER_MAX_BATCH", default_value_t = 1000)]
    pub max_batch_ops: usize,
    /// Largest note text, in bytes.
    #[arg(long, env = "QUIRE_SERVER_MAX_NOTE", default_value_t = 8 * 1024 * 1024)]
    pub max_note_bytes: usize,
    /// Bytes of notes and replaced texts one account may hold; a push beyond it is refused
    /// (413) and stores nothing.
    #[arg(long, env = "QUIRE_SERVER_MAX_ACCOUNT_BYTES", default_value_t = 1024 * 1024 * 1024)]
    pub max_account_bytes: u64,
    /// Note text one push may make (after patches are applied), in bytes.
    #[arg(long, env = "QUIRE_SERVER_MAX_PUSH_TEXT", default_value_t = 64 * 1024 * 1024)]
    pub max_push_text_bytes: usize,
    /// Note text one response (a pull page, a push's conflict answers) carries, in bytes;
    /// a single note larger than this still goes, alone.
    #[arg(long, env = "QUIRE_SERVER_MAX_RESPONSE", default_value_t = 16 * 1024 * 1024)]
    pub max_response_bytes: usize,
    /// Replaced texts (last write wins) kept per note of an account not yet end-to-end
    /// encrypted.
    #[arg(long, env = "QUIRE_SERVER_MAX_HISTORY", default_value_t = 20)]
    pub max_history_per_note: u32,
    /// Days a note's older versions are kept (they count against the account's bytes);
    /// older ones are pruned in the background, whole chains at a time, and the note as it
    /// is now always stays.
    #[arg(long, env = "QUIRE_SERVER_HISTORY_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub history_days: u32,
    /// Bytes of older versions kept per note, at most (32 MiB: four notes at the default
    /// --max-note-bytes); beyond it the oldest are pruned first.
    #[arg(long, env = "QUIRE_SERVER_HISTORY_MAX_BYTES", default_value_t = 4 * 8 * 1024 * 1024)]
    pub history_max_bytes: u64,
    /// Password hashes (argon2id, 19 MiB each) computed at once; more logins and
    /// registrations wait for a slot.
    #[arg(long, env = "QUIRE_SERVER_MAX_HASHES", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_concurrent_hashes: u32,
    /// How long a login or registration waits for a hash slot before it is answered 503
    /// with Retry-After, in milliseconds.
    #[arg(long, env = "QUIRE_SERVER_HASH_WAIT_MS", default_value_t = 10_000)]
    pub hash_wait_ms: u64,
    /// Failed logins allowed per account name from one address in 15 minutes; more are
    /// answered 429 without checking the password. A success clears them.
    #[arg(long, env = "QUIRE_SERVER_MAX_FAILED_LOGINS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failed_logins: u32,
    /// Failed logins allowed from one address (any account) in 15 minutes.
    #[arg(long, env = "QUIRE_SERVER_MAX_FAILED_LOGINS_PER_ADDRESS", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failed_logins_per_address: u32,
    /// Key-derivation lookups (`GET /v1/accounts/{name}/kdf`, the first step of every
    /// sign-in) allowed from one address in 15 minutes; more are answered 429, which makes
    /// probing many names slow.
    #[arg(long, env = "QUIRE_SERVER_MAX_KDF_LOOKUPS", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_kdf_lookups: u32,
    /// Registrations allowed from one address in an hour.
    #[arg(long, env = "QUIRE_SERVER_MAX_REGISTRATIONS", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_registrations_per_hour: u32,
    /// Days the answer to each pushed op is kept, so that a replay of it is recognised; an
    /// op replayed later is judged again, which cannot apply it twice.
    #[arg(long, env = "QUIRE_SERVER_OP_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub op_retention_days: u32,
    /// Connections open at once, each a file descriptor (keep the process's descriptor limit
    /// well above it). Beyond it, new connections wait for one to close and, after
    /// --connection-wait-ms, are answered 503.
    #[arg(long, env = "QUIRE_SERVER_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// How long new connections wait for a free connection slot before they are answered
    /// 503 with Retry-After, in milliseconds.
    #[arg(long, env = "QUIRE_SERVER_CONNECTION_WAIT_MS", default_value_t = 1000)]
    pub connection_wait_ms: u64,
    /// Seconds a connection may take to send a request's headers, counted from when it opens
    /// or from its previous answer: a half-sent request and an idle keep-alive connection are
    /// closed after it. A TLS handshake has as long again.
    #[arg(long, env = "QUIRE_SERVER_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,
    /// Seconds one request may take, reading its body included, before it is answered 408;
    /// a connection whose client takes no byte of an answer for as long is closed.
    #[arg(long, env = "QUIRE_SERVER_REQUEST_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub request_timeout_secs: u64,
    /// Seconds an upgraded account's notes still in the clear wait for the device that
    /// upgraded it to seal them; after that long without progress, any of its devices that
    /// pulls is asked to seal them (the upgrading device may be lost).
    #[arg(long, env = "QUIRE_SERVER_UPGRADE_WAIT_SECS", default_value_t = 600)]
    pub upgrade_wait_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 32 * 1024 * 1024,
            max_batch_ops: 1000,
            max_note_bytes: 8 * 1024 * 1024,
            max_account_bytes: 1024 * 1024 * 1024,
            max_push_text_bytes: 64 * 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            max_history_per_note: 20,
            history_days: 90,
            history_max_bytes: 4 * 8 * 1024 * 1024,
            max_concurrent_hashes: 4,
            hash_wait_ms: 10_000,
            max_failed_logins: 10,
            max_failed_logins_per_address: 50,
            max_kdf_lookups: 200,
            max_registrations_per_hour: 20,
            op_retention_days: 90,
            max_connections: 1024,
            connection_wait_ms: 1000,
            header_timeout_secs: 10,
            request_timeout_secs: 60,
            upgrade_wait_secs: 600,
        }
    }
}

impl Config {
    pub fn tls(&self) -> Option<crate::TlsFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(crate::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }

    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(u64::from(self.token_days) * 86_400)
    }

    /// The database URL: as given, else a SQLite file in the platform data dir.
    pub fn db_url(&self) -> Result<String, crate::Error> {
        if let Some(url) = &self.db {
            return Ok(url.clone());
        }
        let dir: PathBuf = directories::ProjectDirs::from("app", "Quire", "quire-server")
            .map(|dirs| dirs.data_dir().to_path_buf())
            .ok_or(crate::Error::NoDataDir)?;
        std::fs::create_dir_all(&dir).map_err(|source| crate::Error::DataDir {
            path: dir.clone(),
            source,
        })?;
        Ok(format!("sqlite://{}", dir.join("server.db").display()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::Parser;

    use super::{Config, Limits};

    #[test]
    fn trusted_proxies_repeat_or_come_as_a_list() {
        let config = Config::try_parse_from([
            "quire-server",
            "--trusted-proxy",
            "10.0.0.0/8,127.0.0.1",
            "--trusted-proxy",
            "::1",
        ])
        .unwrap();
        let proxies: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(proxies, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        let err = Config::try_parse_from(["quire-server", "--trusted-proxy", "proxy.local"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not an IP address"), "{err}");
    }

    #[test]
    fn the_command_line_defaults_are_the_library_defaults() {
        let config = Config::try_parse_from(["quire-server"]).unwrap();
        assert_eq!(config.limits, Limits::default());
        assert!(config.trusted_proxies.is_empty());
        assert!(Config::try_parse_from(["quire-server", "--max-concurrent-hashes", "0"]).is_err());
    }
}

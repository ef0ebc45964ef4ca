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
}

/// What one request may carry. Over a limit: 413 (or 400), and nothing is stored.
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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 32 * 1024 * 1024,
            max_batch_ops: 1000,
            max_note_bytes: 8 * 1024 * 1024,
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

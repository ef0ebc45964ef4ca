use std::net::SocketAddr;

use clap::Parser;

/// Quire's sync server.
#[derive(Debug, Parser)]
#[command(name = "quire-server", version, about)]
pub struct Config {
    /// Address to listen on (loopback by default; use 0.0.0.0:PORT to serve other machines).
    #[arg(long, env = "QUIRE_SERVER_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
}

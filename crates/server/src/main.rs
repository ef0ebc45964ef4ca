use std::process::ExitCode;

use clap::Parser;
use quire_server::config::Config;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("QUIRE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), quire_server::Error> {
    let db = quire_server::Db::connect(&config.db_url()?).await?;
    let state = quire_server::AppState::new(db, config.limits, config.token_ttl())
        .with_trusted_proxies(config.trusted_proxies.clone());
    if !config.trusted_proxies.is_empty() {
        let proxies: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        tracing::info!("believing X-Forwarded-For from {}", proxies.join(", "));
    }
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| quire_server::Error::Bind {
                addr: config.listen.to_string(),
                source,
            })?;
    let local = listener.local_addr().map_err(quire_server::Error::Serve)?;
    let tls = config.tls();
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Scripts wait for this exact line to learn the port when they asked for port 0.
    tracing::info!(addr = %local, "listening on {scheme}://{local}");
    match tls {
        Some(tls) => quire_server::run_tls(listener, state, &tls, shutdown_signal()).await?,
        None => quire_server::run(listener, state, shutdown_signal()).await?,
    }
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM (service managers, `kill`) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot watch for Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!("cannot watch for SIGTERM: {err}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

//! `acl serve`: the HTTP service on the database (rule S1), with the Backend.AI-compatible
//! folder API on a second listener when asked (rule B1), and `acl token`: a bearer token
//! for it (rule S2).

use std::path::{Path, PathBuf};
use std::time::Duration;

use acl_core::{Error, Level, PrincipalKind, Uri};
use acl_server::{JwtKey, Limits, Server};
use clap::Args;
use serde_json::json;

use crate::cli::Cli;
use crate::ctx::{Ctx, now};
use crate::error::{CliError, Result};
use crate::output::Output;

/// The environment variable holding the HS256 secret.
pub const SECRET_ENV: &str = "ACL_JWT_SECRET";

/// `acl serve`'s options: where to listen, the secret, the limits of rule S6.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The address to listen on (`:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// Also serve the Backend.AI manager's folder API on this address (rule B1); verifying
    /// its signed requests needs the master key ($ACL_MASTER_KEY or --master-key-file).
    #[arg(long, value_name = "ADDR")]
    pub backendai_listen: Option<String>,
    /// A file holding the HS256 secret [default: $ACL_JWT_SECRET].
    #[arg(long, value_name = "FILE")]
    pub jwt_secret_file: Option<PathBuf>,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_body: usize,
    /// The most items in one batch.
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    pub max_batch: usize,
    /// The most connections served at once.
    #[arg(long, default_value_t = 1_024, value_name = "N")]
    pub max_connections: usize,
    /// How long a request may take (watches and long polls excepted), e.g. `30s`.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub request_timeout: String,
    /// How long a client may take to send its headers.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub header_timeout: String,
    /// The longest a read waits for `at_least`, or a long poll for a change.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub max_wait: String,
    /// Logs at this level and above, as JSON lines on stderr (error, warn, info, debug).
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    pub log_level: String,
}

/// `acl token`'s options.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The principal the token acts as.
    pub principal: String,
    /// How long the token is valid, e.g. `30m`, `12h`, `7d`.
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub ttl: String,
    /// A file holding the HS256 secret [default: $ACL_JWT_SECRET].
    #[arg(long, value_name = "FILE")]
    pub jwt_secret_file: Option<PathBuf>,
}

/// A duration: a number with `ms`, `s`, `m`, `h` or `d` (seconds without one).
pub fn duration(text: &str) -> Result<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let bad = || {
        Error::InvalidInput(format!(
            "invalid duration `{text}`: expected e.g. 500ms, 30s, 15m, 12h or 7d"
        ))
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let millis = match unit {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => None,
    }
    .ok_or_else(bad)?;
    Ok(Duration::from_millis(millis))
}

/// The HS256 key: from `file` when given, else from `$ACL_JWT_SECRET`; neither is invalid
/// input naming both.
fn key(file: Option<&Path>) -> Result<JwtKey> {
    let secret = match file {
        Some(path) => std::fs::read(path).map_err(|source| CliError::Io {
            action: "read",
            path: path.to_owned(),
            source,
        })?,
        None => match std::env::var_os(SECRET_ENV) {
            Some(value) if !value.is_empty() => value.into_encoded_bytes(),
            _ => {
                return Err(Error::InvalidInput(format!(
                    "no JWT secret: set {SECRET_ENV} or pass --jwt-secret-file FILE"
                ))
                .into());
            }
        },
    };
    JwtKey::new(&secret).map_err(|err| Error::InvalidInput(err.to_string()).into())
}

/// Sets up the JSON log lines on stderr.
fn logs(level: &str) -> Result<()> {
    let level: tracing_subscriber::filter::LevelFilter = level.parse().map_err(|_| {
        Error::InvalidInput(format!(
            "invalid log level `{level}`: expected error, warn, info, debug or trace"
        ))
    })?;
    // A second server in one process keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(true)
        .with_writer(std::io::stderr)
        .try_init();
    Ok(())
}

/// Installs the SIGTERM and SIGINT handlers at once and returns what completes on either.
/// Called before the server prints that it listens, so a signal sent right after that line
/// stops it gracefully rather than killing it with the default action.
#[cfg(unix)]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        let terminated = async {
            match terminate.as_mut() {
                Some(signal) => drop(signal.recv().await),
                None => std::future::pending::<()>().await,
            }
        };
        let interrupted = async {
            match interrupt.as_mut() {
                Some(signal) => drop(signal.recv().await),
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = terminated => {}
            () = interrupted => {}
        }
    }
}

/// Completes on Ctrl-C (no SIGTERM off unix).
#[cfg(not(unix))]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The warning `acl serve --backendai-listen` prints without a master key: it serves, but
/// no keypair secret can be opened to verify a signature.
pub const NO_MASTER_KEY_WARNING: &str = "warning: no master key (ACL_MASTER_KEY or --master-key-file): Backend.AI requests cannot be verified";

/// `acl --db DB serve --listen ADDR [--backendai-listen ADDR2]`: serves until SIGTERM or
/// SIGINT, then stops gracefully. Prints `listening on http://ADDR` on stderr once ready,
/// then `backendai listening on http://ADDR2` when asked for the Backend.AI listener.
pub fn serve(cli: &Cli, args: &ServeArgs) -> Result<Output> {
    let key = key(args.jwt_secret_file.as_deref())?;
    let master_key = cli.master_key()?;
    let limits = Limits {
        max_body_bytes: args.max_body,
        max_batch: args.max_batch,
        max_connections: args.max_connections,
        request_timeout: duration(&args.request_timeout)?,
        header_timeout: duration(&args.header_timeout)?,
        max_wait: duration(&args.max_wait)?,
        ..Limits::default()
    };
    logs(&args.log_level)?;
    let ctx = Ctx::open(&cli.db_path(), None, false)?;
    // Refuse an uninitialized database before listening.
    ctx.engine().reader()?.cluster()?;
    let ctx = match master_key {
        Some(master_key) => ctx.with_master_key(master_key),
        None => ctx,
    };
    if args.backendai_listen.is_some() && !ctx.engine().has_master_key() {
        eprintln!("{NO_MASTER_KEY_WARNING}");
    }
    let engine = ctx.into_engine();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            action: "start the runtime for",
            path: cli.db_shown().into(),
            source,
        })?;
    let engine = runtime.block_on(async {
        let mut server = Server::bind(engine, key, limits, &args.listen).await?;
        if let Some(backendai) = &args.backendai_listen {
            server = server.with_backendai(backendai).await?;
        }
        let addr = server.local_addr()?;
        let stop = stop_signal();
        eprintln!("listening on http://{addr}");
        if let Some(backendai) = server.backendai_addr() {
            eprintln!("backendai listening on http://{}", backendai?);
        }
        // The engine comes back once every request has finished.
        Ok::<_, CliError>(server.run(stop).await)
    })?;
    // Dropping it closes the store, outside the runtime: PostgreSQL's synchronous
    // connections block while they close, which an async context refuses (a panic).
    drop(engine);
    Ok(Output::new(String::new(), json!({ "stopped": true })))
}

/// `acl token PRINCIPAL [--ttl DURATION]`: a token acting as PRINCIPAL. Only who manages
/// the principal (`manage` on `user://P` or `role://P`: the admins) may mint one.
pub fn token(ctx: &Ctx, args: &TokenArgs) -> Result<Output> {
    let key = key(args.jwt_secret_file.as_deref())?;
    let ttl = duration(&args.ttl)?;
    let viewer = ctx.viewer()?;
    let principal = ctx.principal(&args.principal)?;
    let principal = viewer.reader().canonical_name(&principal)?.into_owned();
    let record = viewer
        .reader()
        .principal(&principal)?
        .ok_or_else(|| Error::not_found("principal", principal.as_str()))?;
    let uri = match record.kind {
        PrincipalKind::User => Uri::parse(&format!("user://{principal}"))?,
        _ => Uri::of_role(&principal),
    };
    viewer.require(&uri, Level::Manage, "mint a token for")?;
    let now_secs = u64::try_from(now().0 / 1000).unwrap_or(0);
    let token = key
        .mint(&principal, now_secs, Some(ttl.as_secs().max(1)))
        .map_err(|err| Error::storage(err.to_string()))?;
    Ok(Output::new(
        format!("{token}\n"),
        json!({ "token": token, "principal": principal, "expires_in": ttl.as_secs().max(1) }),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations() {
        for (text, millis) in [
            ("500ms", 500),
            ("30", 30_000),
            ("30s", 30_000),
            ("15m", 900_000),
            ("2h", 7_200_000),
            ("7d", 604_800_000),
        ] {
            assert_eq!(
                duration(text).unwrap(),
                Duration::from_millis(millis),
                "{text}"
            );
        }
        for bad in ["", "s", "1w", "-1s", "1.5h", "99999999999999999999d"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }
}

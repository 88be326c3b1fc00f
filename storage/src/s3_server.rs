//! A real S3-compatible server for tests: `s3s-fs`, started on a free loopback port over
//! a fresh directory with random credentials, and stopped (its directory removed) when
//! the [`S3Server`] is dropped.
//!
//! `s3s-fs` checks SigV4 presigned URLs itself (signature over path, query and signed
//! headers; expiry against its own clock) and honours `If-None-Match: *`, so tests prove
//! what the service refuses, not what our code believes it refuses.

use crate::s3::S3Config;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use thiserror::Error;

/// The environment variable naming the server binary, when it is not `s3s-fs` on `PATH`
/// or in `~/.cargo/bin`.
pub const SERVER_ENV: &str = "DV_S3_SERVER";

/// The server binary's name, and the version tests were written against.
pub const SERVER_BINARY: &str = "s3s-fs";
pub const SERVER_VERSION: &str = "0.14.1";

/// The region the server is given to clients as; `s3s-fs` accepts any.
const REGION: &str = "us-east-1";

/// How long a fresh server has to answer.
const STARTUP: Duration = Duration::from_secs(15);

#[derive(Debug, Error)]
pub enum S3ServerError {
    #[error(
        "the S3 test server `{SERVER_BINARY}` was not found on PATH or in ~/.cargo/bin: \
         install it with `cargo install {SERVER_BINARY} --locked --version {SERVER_VERSION} \
         --features binary`, or name the binary in ${SERVER_ENV}"
    )]
    Missing,
    #[error("starting the S3 test server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the S3 test server did not answer within {seconds}s; its log ends:\n{log}")]
    NotReady { seconds: u64, log: String },
}

/// A running `s3s-fs`; dropping it kills the process and removes its directory.
pub struct S3Server {
    child: Child,
    endpoint: String,
    access_key: String,
    secret_key: String,
    // Dropped after the process is killed (fields drop in declaration order, after Drop).
    dir: tempfile::TempDir,
}

impl S3Server {
    /// Starts a server and waits until it answers HTTP.
    pub fn start() -> Result<Self, S3ServerError> {
        let binary = find_binary().ok_or(S3ServerError::Missing)?;
        // A port picked free can be taken before the server binds it: try a few.
        let mut attempt = 1;
        loop {
            match Self::start_once(&binary) {
                Err(S3ServerError::NotReady { .. }) if attempt < 3 => attempt += 1,
                result => return result,
            }
        }
    }

    fn start_once(binary: &Path) -> Result<Self, S3ServerError> {
        let dir = tempfile::Builder::new().prefix("dv-s3-").tempdir()?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data)?;
        let log_path = dir.path().join("server.log");
        let log = std::fs::File::create(&log_path)?;
        let port = free_port()?;
        let access_key = format!("DV{}", uuid::Uuid::new_v4().simple()).to_ascii_uppercase();
        let secret_key = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let child = Command::new(binary)
            .arg("--host")
            .arg(Ipv4Addr::LOCALHOST.to_string())
            .arg("--port")
            .arg(port.to_string())
            .arg("--access-key")
            .arg(&access_key)
            .arg("--secret-key")
            .arg(&secret_key)
            .arg(&data)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            access_key,
            secret_key,
            dir,
        };
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if matches!(server.child.try_wait(), Ok(Some(_))) {
                break;
            }
            if answers_http(address) {
                tracing::debug!(endpoint = %server.endpoint, "S3 test server is up");
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server.stop();
        Err(S3ServerError::NotReady {
            seconds: STARTUP.as_secs(),
            log: tail(&log_path),
        })
    }

    /// `http://127.0.0.1:{port}`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The directory the server keeps its buckets in.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A client configuration for `bucket` on this server.
    pub fn config(&self, bucket: &str) -> S3Config {
        S3Config {
            endpoint: Some(self.endpoint.clone()),
            region: REGION.to_owned(),
            bucket: bucket.to_owned(),
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            path_style: true,
        }
    }

    fn stop(&mut self) {
        if let Err(error) = self.child.kill() {
            if error.kind() != std::io::ErrorKind::InvalidInput {
                tracing::warn!(%error, "killing the S3 test server failed");
            }
        }
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `$DV_S3_SERVER`, else `s3s-fs` on `PATH`, else in `$CARGO_HOME/bin` or `~/.cargo/bin`.
fn find_binary() -> Option<PathBuf> {
    if let Some(named) = std::env::var_os(SERVER_ENV).filter(|value| !value.is_empty()) {
        let named = PathBuf::from(named);
        if named.components().count() > 1 {
            return named.is_file().then_some(named);
        }
        return search_path(named.as_os_str());
    }
    search_path(SERVER_BINARY.as_ref()).or_else(|| {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
        let candidate = cargo_home.join("bin").join(SERVER_BINARY);
        candidate.is_file().then_some(candidate)
    })
}

fn search_path(name: &std::ffi::OsStr) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|directory| directory.join(name))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether an HTTP request to `address` gets an HTTP status line back.
fn answers_http(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let request = format!("GET / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut start = [0u8; 5];
    stream.read_exact(&mut start).is_ok() && &start == b"HTTP/"
}

/// The last lines of the server's log, for an error message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only test in this binary that touches `DV_S3_SERVER`, so it races no other.
    #[test]
    fn a_missing_or_broken_binary_is_an_error_that_says_what_to_do() {
        std::env::set_var(SERVER_ENV, "/nonexistent/s3s-fs");
        let missing = S3Server::start().err().unwrap();
        assert!(matches!(missing, S3ServerError::Missing));
        assert!(missing
            .to_string()
            .contains("cargo install s3s-fs --locked --version 0.14.1"));

        std::env::set_var(SERVER_ENV, "/bin/false");
        let broken = S3Server::start().err().unwrap();
        std::env::remove_var(SERVER_ENV);
        assert!(matches!(broken, S3ServerError::NotReady { .. }), "{broken}");
    }
}

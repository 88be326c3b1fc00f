//! The parent side of the sandbox: run [`crate::child_main`] in a child process, feed it the
//! document, and turn whatever happens to it into an [`Extracted`] or a [`SandboxError`].

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::child::{child_args, Reply, CHILD_FAULT};
use crate::error::ExtractError;
use crate::kind::Kind;
use crate::language::pg_text_search_config;
use crate::limits::Limits;
use crate::{Extracted, MIB};

/// Headroom on stdout over twice the text cap (JSON escaping, the envelope).
const OUTPUT_SLACK: usize = 64 * 1024;
/// Child stderr kept for the debug log; the rest is drained unread.
const STDERR_KEEP: u64 = 4 * 1024;
/// Longest refusal message taken from a child.
const MAX_MESSAGE_CHARS: usize = 200;
/// How long a SIGKILLed child gets to be reaped before we give up waiting (tokio still reaps
/// it in the background).
const REAP_GRACE: Duration = Duration::from_secs(5);

/// A file the parser refused, as the child reported it. The code is checked against
/// [`ExtractError::CODES`], so it is always one this crate defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ExtractError> for Refusal {
    fn from(err: ExtractError) -> Self {
        Self {
            code: err.code(),
            message: err.to_string(),
        }
    }
}

/// Why sandboxed extraction produced no text. Messages are for the uploader; everything but
/// [`SandboxError::Spawn`] and [`SandboxError::ChildFault`] is the file's doing
/// ([`SandboxError::is_document_fault`]).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The parser refused the file (bomb, encrypted, not a PDF, …).
    #[error("{0}")]
    Refused(Refusal),
    /// The child was still running at [`Limits::wall_clock`] and was killed.
    #[error("the document took too long to process")]
    TimedOut,
    /// The child died: killed by its memory or CPU cap, a stack overflow, a panic.
    #[error("the document could not be processed within the memory and time limits")]
    Crashed { status: ExitStatus },
    /// The child wrote more than twice the text cap.
    #[error("the document produced too much output")]
    OutputTooLarge,
    /// The child exited cleanly but its answer is not the expected JSON line.
    #[error("the document could not be processed")]
    BadOutput,
    /// The child could not be started: the server's fault, worth a retry.
    #[error("the text extractor could not be started")]
    Spawn(#[source] io::Error),
    /// The child started but could not confine itself or read its input: the server's fault.
    #[error("the text extractor failed")]
    ChildFault(String),
}

impl SandboxError {
    /// Stable snake_case code; for [`SandboxError::Refused`] the parser's own code
    /// (e.g. `archive_too_large`), which never collides with the others.
    pub fn code(&self) -> &'static str {
        match self {
            SandboxError::Refused(refusal) => refusal.code,
            SandboxError::TimedOut => "timed_out",
            SandboxError::Crashed { .. } => "crashed",
            SandboxError::OutputTooLarge => "output_too_large",
            SandboxError::BadOutput => "bad_output",
            SandboxError::Spawn(_) => "spawn_failed",
            SandboxError::ChildFault(_) => CHILD_FAULT,
        }
    }

    /// True when the file caused the failure (retrying will not help, tell the uploader);
    /// false when the server did (retry later).
    pub fn is_document_fault(&self) -> bool {
        !matches!(self, SandboxError::Spawn(_) | SandboxError::ChildFault(_))
    }
}

/// How to start the extraction child: `program args… <child_args>`.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// Usually the server's own executable (`std::env::current_exe()`).
    pub program: PathBuf,
    /// Arguments before the child flags, e.g. `["extract"]` for a subcommand.
    pub args: Vec<String>,
    pub limits: Limits,
}

impl Sandbox {
    pub fn new(program: impl Into<PathBuf>, args: Vec<String>, limits: Limits) -> Self {
        Self {
            program: program.into(),
            args,
            limits,
        }
    }

    /// Extracts the text of `bytes` in a fresh child process with an empty environment, killed
    /// at [`Limits::wall_clock`] and reaped before this returns.
    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), bytes = bytes.len()))]
    pub async fn run(&self, kind: Kind, bytes: &[u8]) -> Result<Extracted, SandboxError> {
        if bytes.len() as u64 > self.limits.max_input_bytes {
            return Err(SandboxError::Refused(
                ExtractError::TooLarge {
                    limit_mb: self.limits.max_input_bytes / MIB,
                }
                .into(),
            ));
        }
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .args(child_args(kind, &self.limits))
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(SandboxError::Spawn)?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            kill_and_reap(&mut child).await;
            return Err(SandboxError::Spawn(io::Error::other(
                "child process without pipes",
            )));
        };
        let output_cap = self
            .limits
            .max_text_bytes
            .saturating_mul(2)
            .saturating_add(OUTPUT_SLACK);

        let exchange = async {
            // Concurrently: a child that stops reading must not block us writing, and one that
            // writes a lot must not block on a full pipe while we write.
            let feed = async move {
                let mut stdin = stdin;
                if let Err(err) = stdin.write_all(bytes).await {
                    // Usually a broken pipe: the child stopped reading (refused early, or died).
                    tracing::debug!(%err, "extraction child did not take all input");
                }
                drop(stdin);
                Ok::<(), SandboxError>(())
            };
            let (_, output, diagnostics) =
                tokio::try_join!(feed, read_capped(stdout, output_cap), read_stderr(stderr))?;
            let status = child.wait().await.map_err(SandboxError::Spawn)?;
            Ok::<_, SandboxError>((status, output, diagnostics))
        };
        let outcome = tokio::time::timeout(self.limits.wall_clock, exchange).await;
        match outcome {
            Err(_elapsed) => {
                kill_and_reap(&mut child).await;
                tracing::warn!("extraction child timed out and was killed");
                Err(SandboxError::TimedOut)
            }
            Ok(Err(err)) => {
                kill_and_reap(&mut child).await;
                tracing::warn!(code = err.code(), "extraction child stopped");
                Err(err)
            }
            Ok(Ok((status, output, diagnostics))) => {
                interpret(status, &output, &diagnostics, &self.limits)
            }
        }
    }
}

async fn kill_and_reap(child: &mut Child) {
    match tokio::time::timeout(REAP_GRACE, child.kill()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::warn!(%err, "could not kill extraction child"),
        Err(_) => tracing::warn!("extraction child not reaped in time"),
    }
}

async fn read_capped(stdout: impl AsyncRead + Unpin, cap: usize) -> Result<Vec<u8>, SandboxError> {
    let mut output = Vec::new();
    stdout
        .take(u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut output)
        .await
        .map_err(|_| SandboxError::BadOutput)?;
    if output.len() > cap {
        return Err(SandboxError::OutputTooLarge);
    }
    Ok(output)
}

/// The start of stderr for the debug log; the rest is read and dropped so the child never
/// blocks on a full pipe.
async fn read_stderr(mut stderr: impl AsyncRead + Unpin) -> Result<Vec<u8>, SandboxError> {
    let mut kept = Vec::new();
    let _ = (&mut stderr).take(STDERR_KEEP).read_to_end(&mut kept).await;
    let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
    Ok(kept)
}

fn interpret(
    status: ExitStatus,
    output: &[u8],
    diagnostics: &[u8],
    limits: &Limits,
) -> Result<Extracted, SandboxError> {
    if !status.success() {
        // stderr may hold a panic message or "memory allocation failed"; debug level only, as a
        // parser's message might quote the file.
        tracing::warn!(%status, "extraction child crashed");
        tracing::debug!(stderr = %String::from_utf8_lossy(diagnostics), "extraction child stderr");
        return Err(SandboxError::Crashed { status });
    }
    let line = output.strip_suffix(b"\n").unwrap_or(output);
    if line.contains(&b'\n') {
        return Err(SandboxError::BadOutput);
    }
    let reply: Reply = serde_json::from_slice(line).map_err(|_| SandboxError::BadOutput)?;
    match reply {
        Reply::Ok(ok) => {
            let language = match ok.language.as_deref() {
                None => None,
                Some(name) => Some(pg_text_search_config(name).ok_or(SandboxError::BadOutput)?),
            };
            if ok.text.len() > limits.max_text_bytes {
                return Err(SandboxError::BadOutput);
            }
            Ok(Extracted {
                text: ok.text,
                language,
                truncated: ok.truncated,
            })
        }
        Reply::Error(err) if err.code == CHILD_FAULT => {
            tracing::error!(message = %err.message, "extraction child could not run");
            Err(SandboxError::ChildFault(sanitize(&err.message)))
        }
        Reply::Error(err) => {
            let code = ExtractError::CODES
                .into_iter()
                .find(|code| *code == err.code)
                .ok_or(SandboxError::BadOutput)?;
            Err(SandboxError::Refused(Refusal {
                code,
                message: sanitize(&err.message),
            }))
        }
    }
}

/// A child's message, shortened and stripped of control characters before anyone shows it.
fn sanitize(message: &str) -> String {
    message
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    fn ok_status() -> ExitStatus {
        ExitStatus::from_raw(0)
    }

    #[test]
    fn interprets_replies() {
        let limits = Limits::default();
        let ok = br#"{"ok":{"text":"Hallo","language":"german","truncated":true}}"#;
        let extracted = interpret(ok_status(), ok, b"", &limits).ok();
        assert_eq!(
            extracted,
            Some(Extracted {
                text: "Hallo".to_owned(),
                language: Some("german"),
                truncated: true,
            })
        );

        let refused = b"{\"error\":{\"code\":\"binary\",\"message\":\"binary\\u0007data\"}}\n";
        match interpret(ok_status(), refused, b"", &limits) {
            Err(SandboxError::Refused(refusal)) => {
                assert_eq!(refusal.code, "binary");
                assert_eq!(refusal.message, "binary data");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn distrusts_odd_replies() {
        let limits = Limits::default();
        for output in [
            &b""[..],
            b"not json",
            br#"{"ok":{"text":"x","language":"klingon","truncated":false}}"#,
            br#"{"error":{"code":"made_up","message":"x"}}"#,
            br#"{"ok":{"text":"x","language":null,"truncated":false,"extra":1}}"#,
            b"{\"ok\":{\"text\":\"x\",\"language\":null,\"truncated\":false}}\n{}\n",
        ] {
            assert!(
                matches!(
                    interpret(ok_status(), output, b"", &limits),
                    Err(SandboxError::BadOutput)
                ),
                "{}",
                String::from_utf8_lossy(output)
            );
        }
        let killed = ExitStatus::from_raw(9);
        assert!(matches!(
            interpret(killed, b"", b"", &limits),
            Err(SandboxError::Crashed { .. })
        ));
    }

    #[test]
    fn fault_attribution() {
        assert!(SandboxError::TimedOut.is_document_fault());
        assert!(SandboxError::OutputTooLarge.is_document_fault());
        assert!(!SandboxError::Spawn(io::Error::other("x")).is_document_fault());
        assert!(!SandboxError::ChildFault("x".to_owned()).is_document_fault());
    }
}

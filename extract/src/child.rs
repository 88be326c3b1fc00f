//! The child side of the sandbox: confine this process, read one document from stdin, write
//! one JSON line to stdout.
//!
//! Wire format (one line, exit code 0 either way; a crash or kill shows as a non-zero exit or a
//! signal instead):
//! `{"ok":{"text":"…","language":"german","truncated":false}}` or
//! `{"error":{"code":"archive_too_large","message":"the archive would inflate to more than 200 MB"}}`.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use rlimit::Resource;
use serde::{Deserialize, Serialize};

use crate::kind::Kind;
use crate::limits::Limits;
use crate::MIB;

/// Open files the child may hold: stdin, stdout, stderr and a little slack. It opens nothing.
const CHILD_MAX_FILES: u64 = 8;
/// Error code for a child that could not confine itself or read its input: not the file's fault.
pub(crate) const CHILD_FAULT: &str = "child_fault";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Reply {
    Ok(OkReply),
    Error(ErrorReply),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OkReply {
    pub(crate) text: String,
    pub(crate) language: Option<String>,
    pub(crate) truncated: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorReply {
    pub(crate) code: String,
    pub(crate) message: String,
}

const FLAG_KIND: &str = "--kind";
const FLAG_MEMORY: &str = "--max-memory-mb";
const FLAG_CPU: &str = "--max-cpu-seconds";
const FLAG_TEXT: &str = "--max-text-bytes";
const FLAG_INPUT: &str = "--max-input-bytes";

/// The arguments the parent appends after the sandbox's own program arguments.
pub fn child_args(kind: Kind, limits: &Limits) -> Vec<String> {
    vec![
        FLAG_KIND.to_owned(),
        kind.as_str().to_owned(),
        FLAG_MEMORY.to_owned(),
        limits.max_memory_bytes.div_ceil(MIB).max(1).to_string(),
        FLAG_CPU.to_owned(),
        limits.max_cpu_seconds.max(1).to_string(),
        FLAG_TEXT.to_owned(),
        limits.max_text_bytes.to_string(),
        FLAG_INPUT.to_owned(),
        limits.max_input_bytes.to_string(),
    ]
}

/// Parses what [`child_args`] produced (`--flag value` or `--flag=value`); `--kind` is required,
/// the other flags default to [`Limits::default`]. Bounds that have no flag (zip, XML and PDF
/// structure) are the defaults.
pub fn parse_child_args(args: &[String]) -> Result<(Kind, Limits), String> {
    let mut kind = None;
    let mut limits = Limits::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (flag, value) = match arg.split_once('=') {
            Some((flag, value)) => (flag, value.to_owned()),
            None => {
                let value = rest.next().ok_or_else(|| format!("{arg} needs a value"))?;
                (arg.as_str(), value.clone())
            }
        };
        let flag = [FLAG_KIND, FLAG_MEMORY, FLAG_CPU, FLAG_TEXT, FLAG_INPUT]
            .into_iter()
            .find(|known| *known == flag)
            .ok_or_else(|| format!("unknown argument {flag}"))?;
        if seen.contains(&flag) {
            return Err(format!("{flag} given twice"));
        }
        seen.push(flag);
        let number = || -> Result<u64, String> {
            match value.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{flag} needs a positive integer")),
            }
        };
        match flag {
            FLAG_KIND => kind = Some(value.parse::<Kind>().map_err(|err| err.to_string())?),
            FLAG_MEMORY => limits.max_memory_bytes = number()?.saturating_mul(MIB),
            FLAG_CPU => limits.max_cpu_seconds = number()?,
            FLAG_TEXT => {
                limits.max_text_bytes =
                    usize::try_from(number()?).map_err(|_| format!("{flag} is too large"))?;
            }
            _ => limits.max_input_bytes = number()?,
        }
    }
    let kind = kind.ok_or_else(|| format!("{FLAG_KIND} is required"))?;
    Ok((kind, limits))
}

/// Entry point of the extraction child (a subcommand of the server binary, or
/// `dv-extract-child`). Synchronous and single-threaded on purpose: the resource limits it sets
/// first apply to the whole process, and nothing else runs in it.
pub fn child_main(kind: Kind, limits: &Limits) -> ExitCode {
    let reply = match run_child(kind, limits) {
        Ok(reply) => reply,
        Err(err) => Reply::Error(ErrorReply {
            code: CHILD_FAULT.to_owned(),
            message: err.to_string(),
        }),
    };
    let mut stdout = io::stdout().lock();
    let written = serde_json::to_writer(&mut stdout, &reply)
        .map_err(io::Error::from)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

fn run_child(kind: Kind, limits: &Limits) -> io::Result<Reply> {
    confine(limits)?;
    let mut bytes = Vec::new();
    let read = io::stdin()
        .lock()
        .take(limits.max_input_bytes.saturating_add(1))
        .read_to_end(&mut bytes);
    if let Err(err) = read {
        if err.kind() == io::ErrorKind::OutOfMemory {
            // The document does not fit the memory cap: die like any other allocation failure
            // under the cap would, so the parent sees a crash (the file's fault), not a fault of
            // the child.
            std::process::abort();
        }
        return Err(err);
    }
    // `extract` refuses input over the limit itself; reading one byte more is what lets it see.
    Ok(match crate::extract(kind, &bytes, limits) {
        Ok(extracted) => Reply::Ok(OkReply {
            text: extracted.text,
            language: extracted.language.map(str::to_owned),
            truncated: extracted.truncated,
        }),
        Err(err) => Reply::Error(ErrorReply {
            code: err.code().to_owned(),
            message: err.to_string(),
        }),
    })
}

/// Lowers this process's own limits (lowering needs no privilege, and the workspace forbids the
/// `unsafe` a `pre_exec` hook would need). Soft and hard are set alike, so the parser cannot
/// raise them back; the CPU hard limit is one second later, so SIGXCPU comes first, then SIGKILL.
fn confine(limits: &Limits) -> io::Result<()> {
    lower(Resource::CORE, 0, 0)?;
    lower(Resource::FSIZE, 0, 0)?;
    lower(Resource::NOFILE, CHILD_MAX_FILES, CHILD_MAX_FILES)?;
    lower(
        Resource::CPU,
        limits.max_cpu_seconds,
        limits.max_cpu_seconds.saturating_add(1),
    )?;
    lower(
        Resource::AS,
        limits.max_memory_bytes,
        limits.max_memory_bytes,
    )?;
    Ok(())
}

/// Sets a limit, never above the current hard limit (which would fail).
fn lower(resource: Resource, soft: u64, hard: u64) -> io::Result<()> {
    let (_, current_hard) = resource.get()?;
    let hard = hard.min(current_hard);
    resource.set(soft.min(hard), hard)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn child_args_round_trip() {
        let limits = Limits {
            max_memory_bytes: 64 * MIB,
            max_cpu_seconds: 3,
            max_text_bytes: 1234,
            max_input_bytes: 999,
            ..Limits::default()
        };
        let parsed = parse_child_args(&child_args(Kind::Docx, &limits));
        assert_eq!(parsed, Ok((Kind::Docx, limits)));
    }

    #[test]
    fn equals_form_and_defaults() {
        let parsed = parse_child_args(&strings(&["--kind=markdown", "--max-cpu-seconds=2"]));
        let expected = Limits {
            max_cpu_seconds: 2,
            ..Limits::default()
        };
        assert_eq!(parsed, Ok((Kind::Markdown, expected)));
    }

    #[test]
    fn bad_arguments_are_refused() {
        for args in [
            &[][..],
            &["--kind"][..],
            &["--kind", "exe"][..],
            &["--kind", "pdf", "--kind", "pdf"][..],
            &["--kind", "pdf", "--max-memory-mb", "0"][..],
            &["--kind", "pdf", "--max-memory-mb", "-5"][..],
            &["--kind", "pdf", "--verbose", "1"][..],
        ] {
            assert!(parse_child_args(&strings(args)).is_err(), "{args:?}");
        }
    }

    #[test]
    fn wire_format() -> Result<(), serde_json::Error> {
        let ok = Reply::Ok(OkReply {
            text: "a \"b\"".to_owned(),
            language: None,
            truncated: false,
        });
        assert_eq!(
            serde_json::to_string(&ok)?,
            r#"{"ok":{"text":"a \"b\"","language":null,"truncated":false}}"#
        );
        let err = Reply::Error(ErrorReply {
            code: "binary".to_owned(),
            message: "binary data declared as text".to_owned(),
        });
        assert_eq!(
            serde_json::to_string(&err)?,
            r#"{"error":{"code":"binary","message":"binary data declared as text"}}"#
        );
        Ok(())
    }
}

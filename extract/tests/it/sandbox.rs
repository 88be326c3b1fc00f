//! The sandboxed child: documents round-trip through it, and whatever goes wrong in it (refusal,
//! memory cap, hang, flood of output, bad answer, no program) comes back as the right error.

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use extract::{Kind, Limits, Sandbox, SandboxError};

use crate::fixtures::{self, INVOICE};

const CHILD: &str = env!("CARGO_BIN_EXE_dv-extract-child");

fn child(limits: Limits) -> Sandbox {
    Sandbox::new(CHILD, Vec::new(), limits)
}

fn foreign(program: &str, args: &[&str], limits: Limits) -> Sandbox {
    Sandbox::new(
        program,
        args.iter().map(|s| (*s).to_owned()).collect(),
        limits,
    )
}

#[tokio::test]
async fn pdf_round_trips() {
    let extracted = child(Limits::default())
        .run(Kind::Pdf, &fixtures::pdf(&[INVOICE, "second page"]))
        .await
        .expect("extracted");
    assert_eq!(extracted.text, format!("{INVOICE}\nsecond page"));
}

#[tokio::test]
async fn docx_round_trips_with_language() {
    let body = format!(
        "<w:p><w:r><w:t>{}</w:t></w:r></w:p>{}",
        fixtures::GERMAN,
        fixtures::DOCX_BODY
    );
    let extracted = child(Limits::default())
        .run(Kind::Docx, &fixtures::docx(&fixtures::document_xml(&body)))
        .await
        .expect("extracted");
    assert!(extracted.text.starts_with("Sehr geehrte"));
    assert!(extracted
        .text
        .ends_with("Invoice 4711\nGarden shed & tools"));
    assert_eq!(extracted.language, Some("german"));
    assert!(!extracted.truncated);
}

#[tokio::test]
async fn truncation_survives_the_round_trip() {
    let limits = Limits {
        max_text_bytes: 10,
        ..Limits::default()
    };
    let extracted = child(limits)
        .run(Kind::Text, "\"quoted\" \\ text that is long".as_bytes())
        .await
        .expect("extracted");
    assert_eq!(extracted.text, "\"quoted\" \\");
    assert!(extracted.truncated);
}

#[tokio::test]
async fn zip_bomb_is_refused_by_the_child() {
    let err = child(Limits::default())
        .run(Kind::Docx, &fixtures::zip_bomb())
        .await
        .expect_err("bomb refused");
    match &err {
        SandboxError::Refused(refusal) => {
            assert_eq!(refusal.code, "archive_too_large");
            assert_eq!(
                refusal.message,
                "the archive would inflate to more than 200 MB"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.code(), "archive_too_large");
    assert!(err.is_document_fault());
}

#[tokio::test]
async fn binary_text_is_refused_by_the_child() {
    let err = child(Limits::default())
        .run(Kind::Text, &fixtures::noise(4096))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), "binary");
}

#[tokio::test]
async fn memory_cap_kills_the_child_not_the_parent() {
    // 1 MiB of address space cannot even hold the 4 MiB input: the allocator fails, the child
    // aborts, and the parent carries on.
    let limits = Limits {
        max_memory_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = child(limits)
        .run(Kind::Text, &vec![b'a'; 4 << 20])
        .await
        .expect_err("child dies");
    match &err {
        SandboxError::Crashed { status } => assert!(status.signal().is_some(), "{status}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.code(), "crashed");
    assert!(err.is_document_fault());
    // And the parent still works.
    let extracted = child(Limits::default())
        .run(Kind::Text, b"still alive")
        .await
        .expect("extracted");
    assert_eq!(extracted.text, "still alive");
}

#[tokio::test]
async fn a_hanging_child_is_killed_and_reaped() {
    let pid_file = std::env::temp_dir().join(format!("dv-extract-sleep-{}", std::process::id()));
    let script = format!("echo $$ > {}; exec /usr/bin/sleep 30", pid_file.display());
    let limits = Limits {
        wall_clock: Duration::from_millis(500),
        ..Limits::default()
    };
    let start = Instant::now();
    let err = foreign("/bin/sh", &["-c", &script], limits)
        .run(Kind::Pdf, b"%PDF-")
        .await
        .expect_err("timed out");
    assert!(matches!(err, SandboxError::TimedOut), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(err.is_document_fault());

    let pid = std::fs::read_to_string(&pid_file).expect("pid file");
    let _ = std::fs::remove_file(&pid_file);
    let proc_entry = format!("/proc/{}", pid.trim());
    assert!(
        !std::path::Path::new(&proc_entry).exists(),
        "child {} still exists (not reaped)",
        pid.trim()
    );
}

#[tokio::test]
async fn endless_output_is_cut_off() {
    let limits = Limits {
        max_text_bytes: 1024,
        ..Limits::default()
    };
    let start = Instant::now();
    // `--` makes yes repeat the child flags instead of rejecting them.
    let err = foreign("/usr/bin/yes", &["--"], limits)
        .run(Kind::Text, b"x")
        .await
        .expect_err("too much output");
    assert!(matches!(err, SandboxError::OutputTooLarge), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn failing_exit_is_a_crash() {
    let err = foreign("/usr/bin/false", &[], Limits::default())
        .run(Kind::Text, b"x")
        .await
        .expect_err("crashed");
    match err {
        SandboxError::Crashed { status } => assert_eq!(status.code(), Some(1)),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn garbage_answer_is_bad_output() {
    // echo prints its arguments (the child flags) and exits 0.
    let err = foreign("/usr/bin/echo", &[], Limits::default())
        .run(Kind::Text, b"x")
        .await
        .expect_err("bad output");
    assert!(matches!(err, SandboxError::BadOutput), "{err:?}");
    assert!(err.is_document_fault());
}

#[tokio::test]
async fn a_child_that_reads_nothing_does_not_block_the_writer() {
    // /usr/bin/true exits at once; 8 MiB do not fit a pipe buffer, so the write must give up
    // on the broken pipe instead of waiting forever.
    let start = Instant::now();
    let err = foreign("/usr/bin/true", &[], Limits::default())
        .run(Kind::Text, &vec![b'a'; 8 << 20])
        .await
        .expect_err("no answer");
    assert!(matches!(err, SandboxError::BadOutput), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn missing_program_is_the_servers_fault() {
    let err = foreign("/nonexistent/dv-extract-child", &[], Limits::default())
        .run(Kind::Pdf, b"%PDF-")
        .await
        .expect_err("spawn fails");
    assert!(matches!(err, SandboxError::Spawn(_)), "{err:?}");
    assert_eq!(err.code(), "spawn_failed");
    assert!(!err.is_document_fault());
}

#[tokio::test]
async fn oversized_input_is_refused_without_a_child() {
    let limits = Limits {
        max_input_bytes: 4,
        ..Limits::default()
    };
    // The program does not exist: refusing before spawning is the only way this is not Spawn.
    let err = foreign("/nonexistent", &[], limits)
        .run(Kind::Text, b"12345")
        .await
        .expect_err("too large");
    assert_eq!(err.code(), "too_large");
}

#[test]
fn child_rejects_bad_arguments() {
    let output = std::process::Command::new(CHILD)
        .args(["--kind", "exe"])
        .output()
        .expect("run child");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn child_confines_itself_before_reading_input() {
    let limits = Limits {
        max_memory_bytes: 64 << 20,
        max_cpu_seconds: 3,
        ..Limits::default()
    };
    let mut process = std::process::Command::new(CHILD)
        .args(extract::child_args(Kind::Text, &limits))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn child");
    // The child blocks on stdin (held open here) only after setting its limits.
    let proc_limits = format!("/proc/{}/limits", process.id());
    let wanted = [
        ("Max address space", "67108864", "67108864"),
        ("Max cpu time", "3", "4"),
        ("Max file size", "0", "0"),
        ("Max core file size", "0", "0"),
        ("Max open files", "8", "8"),
    ];
    let deadline = Instant::now() + Duration::from_secs(5);
    let confined = loop {
        let table = std::fs::read_to_string(&proc_limits).unwrap_or_default();
        let all = wanted.iter().all(|(name, soft, hard)| {
            table.lines().any(|line| {
                let fields: Vec<&str> = line
                    .strip_prefix(name)
                    .map(|rest| rest.split_whitespace().collect())
                    .unwrap_or_default();
                fields.first() == Some(soft) && fields.get(1) == Some(hard)
            })
        });
        if all || Instant::now() > deadline {
            break all;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(process.stdin.take());
    let output = process.wait_with_output().expect("child output");
    assert!(confined, "limits not applied: {proc_limits}");
    assert!(output.status.success());
    assert_eq!(
        output.stdout,
        b"{\"ok\":{\"text\":\"\",\"language\":null,\"truncated\":false}}\n"
    );
}

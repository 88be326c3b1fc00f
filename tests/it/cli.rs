//! The binary itself: configuration errors, the first admin.

use crate::support::TestEnv;
use projections::users::queries;
use std::io::Write;
use std::process::{Command, Stdio};

fn docuvault(env: &TestEnv) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docuvault"));
    command
        .env("DATABASE_URL", &env.settings.database_url)
        .env("DATABASE_MIGRATE_URL", &env.settings.database_migrate_url)
        .env("DOCUVAULT_MASTER_KEY", env.master.to_hex().as_str())
        .env("NATS_URL", &env.settings.nats_url)
        .env("NATS_PREFIX", &env.settings.nats_prefix);
    command
}

#[tokio::test]
async fn admin_create_makes_the_first_admin() {
    let env = TestEnv::new().await;
    let mut child = docuvault(&env)
        .args([
            "admin",
            "create",
            "--email",
            "root@example.test",
            "--handle",
            "root",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery staple\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("created admin root ("));
    let (running, _) = env.start_all().await;
    env.eventually("the admin reaches the users model", || async {
        queries::handle_exists(&env.pool, "root").await.unwrap()
    })
    .await;
    assert_eq!(
        queries::find_by_handle(&env.pool, "root")
            .await
            .unwrap()
            .unwrap()
            .role,
        "admin"
    );
    running.stop().await;

    // A weak password or a taken handle is refused with the reason, and a non-zero exit.
    let weak = docuvault(&env)
        .args([
            "admin",
            "create",
            "--email",
            "b@example.test",
            "--handle",
            "boss",
        ])
        .env("DOCUVAULT_ADMIN_PASSWORD", "password")
        .output()
        .unwrap();
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr)
        .contains("password: This password is too easy to guess."));
    let taken = docuvault(&env)
        .args([
            "admin",
            "create",
            "--email",
            "c@example.test",
            "--handle",
            "root",
        ])
        .env("DOCUVAULT_ADMIN_PASSWORD", "correct horse battery staple")
        .output()
        .unwrap();
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("the handle \"root\" is taken"));
}

#[tokio::test]
async fn bad_configuration_is_refused_at_start_naming_the_variable() {
    let env = TestEnv::new().await;
    let cases = [
        ("CONSISTENCY_WAIT_MS", "0", "CONSISTENCY_WAIT_MS"),
        ("BIND_ADDR", "not-an-address", "BIND_ADDR"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT"),
        ("NATS_PREFIX", "has.dots", "NATS_PREFIX"),
        ("DOCUVAULT_MASTER_KEY", "abc", "DOCUVAULT_MASTER_KEY"),
        ("DATABASE_URL", "mysql://nope", "DATABASE_URL"),
    ];
    for (variable, value, named) in cases {
        let output = docuvault(&env)
            .arg("serve")
            .env(variable, value)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{variable}={value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{variable}={value}: {stderr}");
    }
    // A master key other than the database's own is refused.
    let other = crypto::MasterKey::generate();
    let output = docuvault(&env)
        .arg("serve")
        .env("DOCUVAULT_MASTER_KEY", other.to_hex().as_str())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("the master key is not the one this database was set up with"));
}

//! docker-compose.yml cannot run here (no Docker engine): check its shape instead (OPS-5).

use serde_yaml::Value;
use std::collections::BTreeSet;

fn compose() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml"))
        .unwrap();
    let mut value: Value = serde_yaml::from_str(&text).unwrap();
    value.apply_merge().unwrap();
    value
}

#[test]
fn every_service_it_names_exists_and_the_stack_is_complete() {
    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    let names: BTreeSet<&str> = services.keys().filter_map(Value::as_str).collect();
    for needed in [
        "postgres",
        "nats",
        "minio",
        "minio-bucket",
        "migrate",
        "api",
        "relay",
        "project",
        "work",
    ] {
        assert!(names.contains(needed), "no service {needed}");
    }
    for (name, service) in services {
        if let Some(depends) = service.get("depends_on").and_then(Value::as_mapping) {
            for dependency in depends.keys().filter_map(Value::as_str) {
                assert!(
                    names.contains(dependency),
                    "{name:?} depends on missing {dependency}"
                );
            }
        }
    }
}

#[test]
fn docuvault_services_run_real_subcommands_with_both_roles() {
    let compose = compose();
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_docuvault"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    for name in ["migrate", "api", "relay", "project", "work"] {
        let service = &compose["services"][name];
        let command = service["command"][0].as_str().unwrap();
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "{name} runs unknown subcommand {command}"
        );
        let environment = &service["environment"];
        assert!(
            environment["DATABASE_URL"]
                .as_str()
                .unwrap()
                .contains("docuvault_app"),
            "{name}"
        );
        assert!(
            environment["DATABASE_MIGRATE_URL"]
                .as_str()
                .unwrap()
                .contains("docuvault_migrate"),
            "{name}"
        );
        assert_eq!(environment["NATS_URL"], "nats://nats:4222", "{name}");
    }
    assert!(
        compose["services"]["nats"]["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|a| a == "-js"),
        "JetStream on"
    );
    let init = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docker/postgres/init.sql"
    ))
    .unwrap();
    assert!(
        init.contains("create role docuvault_migrate")
            && init.contains("create role docuvault_app")
    );
    assert!(
        compose["services"]["minio-bucket"]["command"][0]
            .as_str()
            .unwrap()
            .contains("mc mb"),
        "the bucket is created"
    );
}

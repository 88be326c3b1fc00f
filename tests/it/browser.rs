//! The SPA in a real headless Chromium (Debian's), driven by playwright-core, against the
//! whole running system: a person registers through the page; a person signs in, stays
//! signed in across a reload, enrols two-step sign-in, signs in with a code and with
//! recovery codes, signs out, and signs out everywhere; a person files, tags, shares and
//! finds documents, and a friend reads what was shared until it is revoked.

use crate::support::{register_as, TestEnv};
use domain::user::Role;
use projections::users::queries;
use std::path::Path;
use std::process::Command;

/// Runs one `frontend/e2e/<script>` against `url` and asserts it passed.
async fn run_e2e(env: &TestEnv, script: &str, url: &str, handle: &str) {
    run_e2e_with(env, script, url, handle, &[]).await;
}

/// Runs one `frontend/e2e/<script>` with more environment variables (`extra`).
async fn run_e2e_with(
    env: &TestEnv,
    script: &str,
    url: &str,
    handle: &str,
    extra: &[(&str, &str)],
) {
    let frontend = Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend");
    assert!(
        frontend.join("dist/index.html").exists(),
        "build the SPA first: cd frontend && npm ci && npm run build"
    );
    assert!(
        frontend.join("node_modules/playwright-core").exists(),
        "install the SPA's packages first: cd frontend && npm ci"
    );
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "install Debian's chromium (apt-get install chromium)"
    );

    let output = tokio::task::spawn_blocking({
        let (script, handle, url) = (format!("e2e/{script}"), handle.to_owned(), url.to_owned());
        let outbox = env.settings.mail_outbox_dir.clone();
        let password = crate::support::auth::PASSWORD;
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move || {
            Command::new("node")
                .args(["--test", &script])
                .current_dir(frontend)
                .env("BASE_URL", url)
                .env("E2E_HANDLE", handle)
                .env("E2E_PASSWORD", password)
                .env("E2E_OUTBOX", outbox)
                .env("CHROMIUM_PATH", chromium)
                .envs(extra)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the browser test failed:\n{report}"
    );
    assert!(report.contains("# fail 0"), "{report}");
}

#[tokio::test]
async fn a_person_registers_through_the_page() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_all().await;
    let handle = format!("e2e_{}", &env.database[7..15]);
    run_e2e(&env, "register.e2e.mjs", &url, &handle).await;

    // The page's registration went through every layer to the read model.
    env.eventually("the registered user reaches the read model", || async {
        queries::handle_exists(&env.pool, &handle).await.unwrap()
    })
    .await;
    let row = queries::find_by_handle(&env.pool, &handle)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.email, Some(format!("{handle}@example.test")));
    running.stop().await;
}

#[tokio::test]
async fn a_person_registers_signs_in_enrols_two_step_sign_in_and_signs_out_everywhere() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_all().await;
    let handle = format!("e2e_{}", &env.database[7..15]);
    run_e2e(&env, "session.e2e.mjs", &url, &handle).await;

    // By password; the fresh session that enrolling the code started; then signed in with
    // a code, and twice with recovery codes.
    let methods: Vec<String> = sqlx::query_scalar(
        "select payload -> 'SessionStarted' ->> 'method' from events
          where event_type = 'SessionStarted' order by position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        methods,
        vec![
            "password",
            "password_and_totp",
            "password_and_totp",
            "password_and_recovery_code",
            "password_and_recovery_code"
        ]
    );
    // Each ended: by the enrolment, by signing out twice, by signing out everywhere.
    let ended: Vec<String> = sqlx::query_scalar(
        "select payload -> 'SessionEnded' ->> 'reason' from events
          where event_type = 'SessionEnded' order by position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        ended,
        vec![
            "second_factor_changed",
            "signed_out",
            "signed_out",
            "signed_out_everywhere",
            "signed_out_everywhere"
        ]
    );
    running.stop().await;
}

#[tokio::test]
async fn an_admin_disables_a_person_whose_open_session_then_stops_working() {
    let env = TestEnv::new().await;
    let tag = &env.database[7..15];
    let (admin, person) = (format!("root_{tag}"), format!("ann_{tag}"));
    register_as(&env.registrations(), &admin, Role::Admin).await;
    let (_, token) = env.register(&person).await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    run_e2e(&env, "admin.e2e.mjs", &url, &person).await;

    let disabled: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'UserDisabled'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(disabled, 1);
    running.stop().await;
}

#[tokio::test]
async fn a_person_confirms_their_address_and_resets_a_forgotten_password_from_emailed_links() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_all().await;
    let handle = format!("e2e_{}", &env.database[7..15]);
    run_e2e(&env, "links.e2e.mjs", &url, &handle).await;

    let kinds: Vec<String> = sqlx::query_scalar(
        "select event_type from events where aggregate_type = 'user' order by position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    for kind in [
        "UserRegistered",
        "EmailVerified",
        "PasswordResetRequested",
        "PasswordChanged",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    running.stop().await;
}

#[tokio::test]
async fn a_person_uploads_previews_renames_and_deletes_documents_in_the_browser() {
    let env = TestEnv::new().await;
    let handle = format!("docs_{}", &env.database[7..15]);
    let (_, token) = env.register(&handle).await;
    // A small quota, so that a 300 kB file does not fit.
    let (running, url) = env
        .start_with(
            docuvault::system::Components::ALL,
            std::sync::Arc::new(eventlog::SystemClock),
            |settings| settings.default_quota_bytes = 200_000,
        )
        .await;
    env.users_reach(token).await;
    run_e2e(&env, "documents.e2e.mjs", &url, &handle).await;

    // What the page did went through every layer: two documents are left, one renamed.
    let kinds: Vec<String> = sqlx::query_scalar(
        "select event_type from events where aggregate_type = 'document' order by position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    for kind in [
        "UploadInitiated",
        "UploadConfirmed",
        "DocumentRenamed",
        "DocumentDeleted",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    running.stop().await;
}

#[tokio::test]
async fn a_person_files_tags_shares_and_finds_documents_and_a_friend_reads_them_until_revoked() {
    let env = TestEnv::new().await;
    let handle = format!("org_{}", &env.database[7..15]);
    let friend = format!("{handle}_friend");
    env.register(&handle).await;
    let (_, token) = env.register(&friend).await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    run_e2e_with(
        &env,
        "organise.e2e.mjs",
        &url,
        &handle,
        &[("E2E_FRIEND", friend.as_str())],
    )
    .await;

    // What the pages did went through every layer to the event store.
    let kinds: Vec<String> = sqlx::query_scalar("select event_type from events order by position")
        .fetch_all(&env.pool)
        .await
        .unwrap();
    for kind in [
        "FolderCreated",
        "FolderMoved",
        "DocumentFiled",
        "TopicCreated",
        "DocumentTopicsSet",
        "ShareGranted",
        "ShareRevoked",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    // Three folders; two documents filed (one dragged, one through the menu); one share,
    // granted once (the refused handles granted nothing) and revoked.
    let count = |kind: &'static str| kinds.iter().filter(|k| k.as_str() == kind).count();
    assert_eq!(count("FolderCreated"), 3);
    assert_eq!(count("DocumentFiled"), 2);
    assert_eq!(count("ShareGranted"), 1);
    assert_eq!(count("ShareRevoked"), 1);
    running.stop().await;
}

#[tokio::test]
async fn a_person_watches_an_upload_get_read_and_filed_without_reloading() {
    let env = TestEnv::new().await;
    let handle = format!("live_{}", &env.database[7..15]);
    let (_, token) = env.register(&handle).await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    run_e2e(&env, "classify.e2e.mjs", &url, &handle).await;

    // Per document, what happened to it, in order.
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select aggregate_id, event_type from events
          where aggregate_type = 'document' order by position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let mut documents: Vec<(String, Vec<String>)> = Vec::new();
    for (id, kind) in rows {
        match documents.iter_mut().find(|(known, _)| *known == id) {
            Some((_, kinds)) => kinds.push(kind),
            None => documents.push((id, vec![kind])),
        }
    }
    assert_eq!(documents.len(), 2, "{documents:?}");
    let count = |kinds: &[String], kind: &str| kinds.iter().filter(|k| *k == kind).count();
    // The garden plans: read and filed once, never failed.
    let (plans, kinds) = &documents[0];
    assert_eq!(count(kinds, "DocumentClassified"), 1, "{kinds:?}");
    assert_eq!(count(kinds, "ClassificationFailed"), 0, "{kinds:?}");
    // The binary file: failed on upload, asked again ("Run again"), failed again.
    let (_, kinds) = &documents[1];
    assert_eq!(count(kinds, "ClassificationFailed"), 2, "{kinds:?}");
    assert_eq!(count(kinds, "ClassificationRequested"), 1, "{kinds:?}");
    assert_eq!(count(kinds, "DocumentClassified"), 0, "{kinds:?}");

    // Filed under the topic the person made on the page.
    let garden: String = sqlx::query_scalar(
        "select payload -> 'TopicCreated' ->> 'topic_id' from events
          where event_type = 'TopicCreated'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    let topics: serde_json::Value = sqlx::query_scalar(
        "select payload -> 'DocumentClassified' -> 'topics' from events
          where aggregate_id = $1 and event_type = 'DocumentClassified'",
    )
    .bind(plans)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(topics, serde_json::json!([garden]));
    running.stop().await;
}

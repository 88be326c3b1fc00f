//! The SPA in a real headless Chromium (Debian's), driven by playwright-core: a person
//! registers through the page against the whole running system.

use crate::support::TestEnv;
use projections::users::queries;
use std::path::Path;
use std::process::Command;

#[tokio::test]
async fn a_person_registers_through_the_page() {
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

    let env = TestEnv::new().await;
    let (running, url) = env.start_all().await;
    let handle = format!("e2e_{}", &env.database[7..15]);
    let output = tokio::task::spawn_blocking({
        let (frontend, handle, url) = (frontend.clone(), handle.clone(), url.clone());
        move || {
            Command::new("node")
                .args(["--test", "e2e/register.e2e.mjs"])
                .current_dir(frontend)
                .env("BASE_URL", url)
                .env("E2E_HANDLE", handle)
                .env("CHROMIUM_PATH", chromium)
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

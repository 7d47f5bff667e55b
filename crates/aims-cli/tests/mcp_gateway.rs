//! `aims mcp proxy` in front of real MCP servers (a Python `MCPServer`, the npm reference
//! servers `server-everything` and `server-filesystem`), driven by the Python `mcp` client and
//! the TypeScript SDK's client (tests/mcp/gateway_py.py and gateway_ts.mjs hold the checks:
//! list, allowed, denied, redacted, masked result, approval round trip, progress, downstream
//! crash, malformed JSON-RPC, an oversized message). The audit log verifies afterwards.
//!
//! Needs the Python `mcp` package 2.3.0 (in the interpreter AIMS_MCP_PYTHON names, default
//! `python3`) and `npm ci` in tests/mcp; scripts/test does both.
#![allow(clippy::unwrap_used)] // a test: a failed spawn should fail it loudly

use std::path::{Path, PathBuf};
use std::process::Command;

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/mcp")
}

fn python() -> String {
    std::env::var("AIMS_MCP_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn drive(program: &str, script: &str) {
    let work = tempfile::tempdir().unwrap();
    assert!(
        peers_dir()
            .join("node_modules/@modelcontextprotocol")
            .is_dir(),
        "run `npm install` in tests/mcp first (scripts/test does)"
    );
    let out = Command::new(program)
        .arg(peers_dir().join(script))
        .arg(env!("CARGO_BIN_EXE_aims"))
        .arg(work.path())
        .current_dir(peers_dir())
        // A value the denied get-env tool would reveal if the guard let it run.
        .env("AIMS_TEST_SECRET", "aims-test-secret-9f2c1d")
        .env("AIMS_MCP_PYTHON", python())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all gateway checks passed"), "{stdout}");
    let verify = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(["audit", "verify"])
        .arg(work.path().join("log"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn python_mcp_client_through_the_gateway() {
    drive(&python(), "gateway_py.py");
}

#[test]
fn typescript_sdk_client_through_the_gateway() {
    drive("node", "gateway_ts.mjs");
}

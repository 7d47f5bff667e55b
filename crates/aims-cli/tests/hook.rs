//! `aims hook claude-code` (and the other agents' protocols) end to end: Claude Code hook
//! payloads written from its documentation for Bash, Write, Edit and an MCP tool, decided as
//! tests/hooks/policy.yaml says; errors and garbage block with exit 2; the log verifies.
#![allow(clippy::unwrap_used)] // a test: a failed spawn or read should fail it loudly

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

fn aims(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/hooks/policy.yaml")
}

/// A PreToolUse payload as Claude Code documents it.
fn pre_tool_use(tool: &str, input: Value) -> Value {
    json!({
        "session_id": "abc123",
        "transcript_path": "/home/dev/.claude/projects/p/x.jsonl",
        "cwd": "/home/dev/project",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": input,
        "tool_use_id": "toolu_01ABC"
    })
}

/// Runs the Claude Code hook on `payload` with a durable log in `log`.
fn claude(log: &Path, extra: &[&str], payload: &[u8]) -> (i32, Value, String) {
    let log = log.to_str().unwrap();
    let policy = policy();
    let mut args = vec![
        "hook",
        "claude-code",
        "--policy",
        policy.to_str().unwrap(),
        "--log",
        log,
    ];
    args.extend_from_slice(extra);
    let out = aims(&args, payload);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let answer = if stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap()
    };
    (
        out.status.code().unwrap(),
        answer,
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn decision(answer: &Value) -> &str {
    answer["hookSpecificOutput"]["permissionDecision"]
        .as_str()
        .unwrap_or("")
}

#[test]
fn claude_code_tool_calls_are_decided_as_the_policy_says() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let payload = |tool, input| pre_tool_use(tool, input).to_string().into_bytes();

    // Bash: an allowed command leaves Claude Code's own permission flow in charge (no JSON).
    let (code, answer, _) = claude(
        &log,
        &[],
        &payload(
            "Bash",
            json!({"command": "npm test", "description": "Run tests", "timeout": 120000, "run_in_background": false}),
        ),
    );
    assert_eq!((code, answer), (0, Value::Null));

    // Bash: a recursive delete is denied with the rule's reason.
    let (code, answer, _) = claude(
        &log,
        &[],
        &payload(
            "Bash",
            json!({"command": "rm -rf build", "description": "Clean"}),
        ),
    );
    assert_eq!(code, 0);
    assert_eq!(decision(&answer), "deny");
    assert_eq!(
        answer["hookSpecificOutput"]["permissionDecisionReason"],
        "aims denied this call: recursive deletes are not allowed"
    );

    // Write: an AWS key is masked in updatedInput, which replaces the whole input.
    let (code, answer, _) = claude(
        &log,
        &[],
        &payload(
            "Write",
            json!({"file_path": "/home/dev/project/cfg.txt", "content": "key=AKIAIOSFODNN7EXAMPLE"}),
        ),
    );
    assert_eq!(code, 0);
    assert_eq!(decision(&answer), "allow");
    assert_eq!(
        answer["hookSpecificOutput"]["updatedInput"],
        json!({"file_path": "/home/dev/project/cfg.txt", "content": "key=<AWS_ACCESS_KEY>"})
    );
    assert!(!answer.to_string().contains("AKIAIOSFODNN7EXAMPLE"));

    // Edit: editing an environment file is denied.
    let (code, answer, _) = claude(
        &log,
        &[],
        &payload(
            "Edit",
            json!({"file_path": "/home/dev/project/.env", "old_string": "A=1", "new_string": "A=2", "replace_all": false}),
        ),
    );
    assert_eq!((code, decision(&answer)), (0, "deny"));
    // Edit elsewhere is allowed.
    let (code, answer, _) = claude(
        &log,
        &[],
        &payload(
            "Edit",
            json!({"file_path": "/home/dev/project/main.rs", "old_string": "a", "new_string": "b"}),
        ),
    );
    assert_eq!((code, answer), (0, Value::Null));

    // An MCP tool (mcp__<server>__<tool>): inside the project allowed, outside denied.
    let (code, answer, _) = claude(
        &log,
        &[],
        &payload(
            "mcp__fs__read_file",
            json!({"path": "/home/dev/project/README.md"}),
        ),
    );
    assert_eq!((code, answer), (0, Value::Null));
    let (code, answer, _) = claude(
        &log,
        &[],
        &payload("mcp__fs__read_file", json!({"path": "/etc/shadow"})),
    );
    assert_eq!((code, decision(&answer)), (0, "deny"));

    // A tool the policy does not name falls to the default: deny.
    let (code, answer, _) = claude(
        &log,
        &[],
        &payload("WebFetch", json!({"url": "https://example.com"})),
    );
    assert_eq!((code, decision(&answer)), (0, "deny"));

    // PostToolUse: an email address in the output comes back masked in updatedToolOutput.
    let mut post = pre_tool_use("Bash", json!({"command": "git log -1"}));
    post["hook_event_name"] = json!("PostToolUse");
    post["tool_response"] = json!({"stdout": "Author: Jane <jane.doe@example.org>", "stderr": "", "interrupted": false});
    post["duration_ms"] = json!(12);
    let (code, answer, _) = claude(&log, &[], post.to_string().as_bytes());
    assert_eq!(code, 0);
    assert_eq!(
        answer["hookSpecificOutput"],
        json!({"hookEventName": "PostToolUse", "updatedToolOutput": {"stdout": "Author: Jane <<EMAIL_ADDRESS>>", "stderr": "", "interrupted": false}})
    );

    // Every decision is in the log, and the log verifies.
    let out = aims(&["audit", "verify", log.to_str().unwrap()], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn approvals_ask_with_the_approval_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("oversight.db");
    let payload = pre_tool_use("Bash", json!({"command": "git push origin main"}));
    let (code, answer, _) = claude(
        &dir.path().join("log"),
        &["--oversight-store", store.to_str().unwrap()],
        payload.to_string().as_bytes(),
    );
    assert_eq!((code, decision(&answer)), (0, "ask"));
    let reason = answer["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("approval id apr_"), "{reason}");
}

#[test]
fn garbage_unreadable_input_and_a_missing_policy_block_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    for garbage in [
        &b"not json {"[..],
        b"",
        b"[1,2,3]",
        b"{\"tool_name\": 7}",
        &[0xff, 0xfe, 0x00],
    ] {
        let (code, answer, stderr) = claude(&log, &[], garbage);
        assert_eq!((code, answer), (2, Value::Null));
        assert!(stderr.starts_with("aims: blocked"), "{stderr}");
    }
    // An event aims does not decide is not allowed either.
    let mut stop = pre_tool_use("Bash", json!({"command": "ls"}));
    stop["hook_event_name"] = json!("Stop");
    assert_eq!(claude(&log, &[], stop.to_string().as_bytes()).0, 2);

    let payload = pre_tool_use("Bash", json!({"command": "ls"})).to_string();
    let out = aims(
        &[
            "hook",
            "claude-code",
            "--policy",
            "/nonexistent/policy.yaml",
        ],
        payload.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/policy.yaml"));
    // No --policy at all: a usage error, also exit 2.
    let out = aims(&["hook", "claude-code"], payload.as_bytes());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn other_agents_answer_in_their_own_protocols() {
    let policy = policy();
    let policy = policy.to_str().unwrap();
    let run = |agent: &str, payload: Value| {
        let out = aims(
            &["hook", agent, "--policy", policy],
            payload.to_string().as_bytes(),
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let answer: Value = if stdout.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&stdout).unwrap()
        };
        (out.status.code().unwrap(), answer)
    };
    // Codex: Claude-shaped, but no "ask": an approval becomes a deny naming the request.
    let (code, answer) = run(
        "codex",
        json!({"session_id": "s", "turn_id": "t", "model": "m", "cwd": "/p", "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "git push"}}),
    );
    assert_eq!((code, decision(&answer)), (0, "deny"));
    // Gemini CLI: decision/reason; a masked input goes back as hookSpecificOutput.tool_input.
    let (code, answer) = run(
        "gemini",
        json!({"session_id": "s", "cwd": "/p", "hook_event_name": "BeforeTool", "timestamp": "2026-12-03T00:00:00Z", "tool_name": "Write", "tool_input": {"file_path": "a", "content": "AKIAIOSFODNN7EXAMPLE"}}),
    );
    assert_eq!(code, 0);
    assert_eq!(answer["decision"], "allow");
    assert_eq!(
        answer["hookSpecificOutput"]["tool_input"]["content"],
        "<AWS_ACCESS_KEY>"
    );
    // Cursor: a shell command is decided as Shell... which this policy does not allow.
    let (code, answer) = run(
        "cursor",
        json!({"conversation_id": "c", "generation_id": "g", "hook_event_name": "beforeShellExecution", "command": "ls", "cwd": "/p"}),
    );
    assert_eq!((code, answer["permission"].as_str()), (0, Some("deny")));
    // Cursor MCP: tool_input arrives as a JSON string.
    let (code, answer) = run(
        "cursor",
        json!({"conversation_id": "c", "hook_event_name": "beforeMCPExecution", "tool_name": "mcp__fs__read_file", "tool_input": "{\"path\": \"/home/dev/project/a\"}"}),
    );
    assert_eq!((code, answer["permission"].as_str()), (0, Some("allow")));
    // Copilot CLI: permissionDecision with modifiedArgs.
    let (code, answer) = run(
        "copilot",
        json!({"sessionId": "s", "timestamp": 1, "cwd": "/p", "toolName": "Write", "toolArgs": "{\"file_path\": \"a\", \"content\": \"AKIAIOSFODNN7EXAMPLE\"}"}),
    );
    assert_eq!(code, 0);
    assert_eq!(answer["modifiedArgs"]["content"], "<AWS_ACCESS_KEY>");
    // Garbage blocks everywhere, by exit 2.
    for agent in ["codex", "gemini", "cursor", "copilot"] {
        let out = aims(&["hook", agent, "--policy", policy], b"}{");
        assert_eq!(out.status.code(), Some(2), "{agent}");
    }
}

//! `aims pii scan|mask` end to end: exit codes, JSON offsets in code points, masking operators.
#![allow(clippy::unwrap_used)] // a test: a failed spawn or read should fail it loudly

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn aims(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A child that stops on a usage error before reading its input closes the pipe: the
    // write may then fail, and the exit code the test asserts is what matters.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

#[test]
fn scan_json_reports_code_point_offsets_and_exit_1() {
    let out = aims(
        &["pii", "scan", "--json", "-"],
        "café jane@example.org",
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        findings,
        serde_json::json!([{"entity": "EMAIL_ADDRESS", "start": 5, "end": 21, "validated": false}])
    );
    let clean = aims(&["pii", "scan", "--json"], "nothing to see", &[]);
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&clean.stdout).trim(), "[]");
}

#[test]
fn scan_text_output_never_prints_the_value_whole() {
    let out = aims(&["pii", "scan"], "x\ncard 4111111111111111", &[]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, "2:6\tCREDIT_CARD\tvalidated\t************1111\n");
}

#[test]
fn scan_jsonl_answers_line_by_line() {
    let out = aims(&["pii", "scan", "--jsonl"], "\"a@b.io\"\n\"none\"\n", &[]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("EMAIL_ADDRESS"));
    assert_eq!(lines[1], "[]");
    let bad = aims(&["pii", "scan", "--jsonl"], "not json\n", &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 1"));
}

#[test]
fn mask_operators_and_entity_filter() {
    let text = "card 4111 1111 1111 1111, mail jane@example.org";
    let tag = aims(&["pii", "mask"], text, &[]);
    assert_eq!(
        String::from_utf8(tag.stdout).unwrap(),
        "card <CREDIT_CARD>, mail <EMAIL_ADDRESS>"
    );
    let last4 = aims(
        &["pii", "mask", "--op", "last4", "--entities", "CREDIT_CARD"],
        text,
        &[],
    );
    assert_eq!(
        String::from_utf8(last4.stdout).unwrap(),
        "card **** **** **** 1111, mail jane@example.org"
    );
    let no_key = aims(&["pii", "mask", "--op", "hash"], text, &[]);
    assert_eq!(no_key.status.code(), Some(2));
    let key = [("AIMS_PII_KEY", "0123456789abcdef")];
    let a = aims(&["pii", "mask", "--op", "hash"], text, &key);
    let b = aims(&["pii", "mask", "--op", "hash"], text, &key);
    assert_eq!(a.stdout, b.stdout);
    assert!(String::from_utf8(a.stdout)
        .unwrap()
        .contains("<EMAIL_ADDRESS:"));
    let unknown = aims(&["pii", "scan", "--entities", "EMAIL"], text, &[]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown PII entity `EMAIL`"));
}

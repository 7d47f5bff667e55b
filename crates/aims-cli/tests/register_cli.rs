//! `aims register check` and `aims schema`: output formats and exit codes.
#![allow(clippy::unwrap_used)] // a test: a failed load or read should fail it loudly

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn aims(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .unwrap()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A copy of the example register with `from` replaced by `to` in `file`.
fn broken_copy(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(repo_root().join("examples/register")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let path = dir.path().join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from));
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
    dir
}

#[test]
fn the_example_register_passes_with_exit_0() {
    let output = aims(&["register", "check", "examples/register"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("examples/register: ok: 0 error(s)"));
}

#[test]
fn errors_print_file_line_col_and_exit_1() {
    let dir = broken_copy(
        "oversight.yaml",
        "required_approvals: 2",
        "required_approvals: 0",
    );
    let output = aims(&["register", "check", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let first = text.lines().next().unwrap();
    let expected = format!(
        "{}:{}:3: error oversight.zero_approvals: checkpoint bulk-email-approval: at least one \
         approval must be required (at /1/required_approvals)",
        dir.path().join("oversight.yaml").display(),
        line_in(&dir.path().join("oversight.yaml"), "required_approvals: 0")
    );
    assert_eq!(first, expected);
    assert!(
        text.contains("not acceptable: 1 error(s), 0 warning(s)"),
        "{text}"
    );
}

fn line_in(path: &Path, needle: &str) -> usize {
    let text = fs::read_to_string(path).unwrap();
    text.lines().position(|line| line.contains(needle)).unwrap() + 1
}

#[test]
fn warnings_alone_exit_0() {
    let dir = broken_copy(
        "risks.yaml",
        "review_due: 2027-03-31",
        "review_due: 2020-01-01",
    );
    let output = aims(&["register", "check", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("warning risk.review_overdue"));
}

#[test]
fn bad_yaml_is_reported_as_a_finding_with_exit_1() {
    let dir = broken_copy("incidents.yaml", "severity: high", "severity: [high");
    let output = aims(&["register", "check", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("incidents.yaml:"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains(": error parse."),
        "{}",
        stdout(&output)
    );
}

#[test]
fn json_output_is_an_array_of_findings() {
    let dir = broken_copy("soa.yaml", "control_id: A.9.3", "control_id: A.9.9");
    let output = aims(&["register", "check", "--json", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let codes: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["soa.missing_control", "ref.unknown_control"]);
    let unknown = &findings[1];
    assert_eq!(unknown["severity"], "error");
    assert_eq!(unknown["section"], "soa");
    assert_eq!(unknown["pointer"], "/33/control_id");
    assert!(unknown["line"].as_u64().unwrap() > 1);
    assert_eq!(unknown["column"], 3);
}

#[test]
fn a_missing_directory_exits_2() {
    let output = aims(&["register", "check", "no/such/register"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no/such/register"));
}

#[test]
fn schema_lists_prints_and_writes_schemas() {
    let listed = stdout(&aims(&["schema"]));
    assert!(
        listed.lines().any(|line| line == "oversight_checkpoint"),
        "{listed}"
    );
    let incident = aims(&["schema", "incident"]);
    assert_eq!(incident.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&incident.stdout).unwrap();
    assert_eq!(schema["title"], "Incident");
    let committed = fs::read_to_string(repo_root().join("schemas/incident.schema.json")).unwrap();
    assert_eq!(stdout(&incident), committed);

    let out = tempfile::tempdir().unwrap();
    let written = aims(&["schema", "--out", out.path().to_str().unwrap()]);
    assert_eq!(written.status.code(), Some(0));
    let files = fs::read_dir(out.path()).unwrap().count();
    assert_eq!(files, listed.lines().count());

    let unknown = aims(&["schema", "incidents"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown type `incidents`"));
}

#[test]
fn checks_the_register_against_the_guard_policy() {
    let output = aims(&[
        "register",
        "check",
        "examples/register",
        "--policy",
        "examples/policy.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

    let dir = broken_copy("soa.yaml", "policy:refund-budget", "policy:refund-budgets");
    let output = aims(&[
        "register",
        "check",
        dir.path().to_str().unwrap(),
        "--policy",
        "examples/policy.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains(
            "error ref.unknown_policy_rule: policy examples/policy.yaml has no rule `refund-budgets`"
        ),
        "{}",
        stdout(&output)
    );

    let output = aims(&[
        "register",
        "check",
        "examples/register",
        "--policy",
        "no/policy.yaml",
    ]);
    assert_eq!(output.status.code(), Some(2));
}

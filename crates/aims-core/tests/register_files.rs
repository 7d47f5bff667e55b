//! Loading a register from files: findings point at file, line and column; malformed YAML or
//! JSON and wrong types are findings with positions, never panics.
#![allow(clippy::unwrap_used)] // a test: a failed load or read should fail it loudly

use std::fs;
use std::path::{Path, PathBuf};

use aims_core::model::{load_dir, Finding, LoadError, LoadedRegister};
use tempfile::TempDir;
use time::macros::datetime;

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/register")
}

/// A scratch copy of the example register.
fn scratch_copy() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(example_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

fn edit(dir: &TempDir, file: &str, from: &str, to: &str) {
    let path = dir.path().join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} lacks {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The 1-based line of the first line of `file` containing `needle`.
fn line_of(dir: &TempDir, file: &str, needle: &str) -> usize {
    position_of(dir, file, needle).0
}

/// The 1-based line and column where `needle` first occurs in `file` (ASCII text).
fn position_of(dir: &TempDir, file: &str, needle: &str) -> (usize, usize) {
    let text = fs::read_to_string(dir.path().join(file)).unwrap();
    text.lines()
        .enumerate()
        .find_map(|(index, line)| line.find(needle).map(|column| (index + 1, column + 1)))
        .unwrap()
}

fn validate(dir: &TempDir) -> Vec<Finding> {
    let loaded: LoadedRegister = load_dir(dir.path()).unwrap();
    loaded.validate_at(datetime!(2026-11-23 12:00 UTC))
}

fn load_problems(dir: &TempDir) -> Vec<Finding> {
    match load_dir(dir.path()) {
        Err(LoadError::Invalid(findings)) => findings,
        other => panic!("expected invalid files, got {other:?}"),
    }
}

fn file_name(finding: &Finding) -> String {
    Path::new(finding.file.as_deref().unwrap())
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn validation_findings_point_at_file_line_and_column() {
    let dir = scratch_copy();
    edit(
        &dir,
        "soa.yaml",
        "justification: \"Excluded: no data is prepared",
        "justification: \"\"\n  note_that_was: \"x",
    );
    // The edit above adds a field; undo it and only empty the justification.
    edit(&dir, "soa.yaml", "\n  note_that_was: \"x", "\n  #");
    edit(
        &dir,
        "risks.yaml",
        "ai_system_ids: [cs-assistant]",
        "ai_system_ids: [cs-assistant, billing-bot]",
    );
    let findings = validate(&dir);
    assert_eq!(findings.len(), 2, "{findings:#?}");

    let risk = &findings[0];
    assert_eq!(risk.code, "ref.unknown_system");
    assert_eq!(file_name(risk), "risks.yaml");
    assert_eq!(risk.pointer, "/0/ai_system_ids/1");
    let (line, column) = position_of(&dir, "risks.yaml", "billing-bot");
    assert_eq!((risk.line, risk.column), (Some(line), Some(column)));

    let soa = &findings[1];
    assert_eq!(soa.code, "soa.justification_missing");
    assert_eq!(file_name(soa), "soa.yaml");
    assert_eq!(
        soa.line,
        Some(line_of(&dir, "soa.yaml", "justification: \"\""))
    );
    assert_eq!(soa.column, Some(3));
    let shown = soa.to_string();
    assert!(
        shown.ends_with(&format!(
            "soa.yaml:{}:3: error soa.justification_missing: the exclusion of A.7.6 has no \
             justification (at /27/justification)",
            soa.line.unwrap()
        )),
        "{shown}"
    );
}

#[test]
fn a_finding_about_a_missing_field_points_at_its_object() {
    let dir = scratch_copy();
    edit(&dir, "oversight.yaml", "  escalate_to: cs-manager\n", "");
    let findings = validate(&dir);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].code, "oversight.escalate_to_missing");
    assert_eq!(
        findings[0].line,
        Some(line_of(&dir, "oversight.yaml", "id: bulk-email-approval"))
    );
    assert_eq!(findings[0].column, Some(3));
}

#[test]
fn malformed_yaml_is_a_syntax_finding_with_position() {
    let dir = scratch_copy();
    edit(
        &dir,
        "systems.yaml",
        "tools: [lookup_order, search_kb, issue_refund, send_email]",
        "tools: [lookup_order, search_kb\n  agent: x",
    );
    let problems = load_problems(&dir);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].code, "parse.syntax");
    assert_eq!(file_name(&problems[0]), "systems.yaml");
    assert!(
        problems[0].line.is_some() && problems[0].column.is_some(),
        "{:?}",
        problems[0]
    );
    assert!(
        problems[0].to_string().contains("systems.yaml:"),
        "{}",
        problems[0]
    );
}

#[test]
fn a_wrong_type_is_a_type_finding_at_the_bad_value() {
    let dir = scratch_copy();
    edit(
        &dir,
        "risks.yaml",
        "inherent: {likelihood: 4, impact: 4}",
        "inherent: {likelihood: high, impact: 4}",
    );
    let problems = load_problems(&dir);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].code, "parse.type");
    let (line, column) = position_of(&dir, "risks.yaml", "high,");
    assert_eq!(
        (problems[0].line, problems[0].column),
        (Some(line), Some(column))
    );
    assert!(
        problems[0]
            .message
            .contains("invalid type: string \"high\""),
        "{}",
        problems[0].message
    );
    assert!(
        !problems[0].message.contains(" at line "),
        "{}",
        problems[0].message
    );
}

#[test]
fn unknown_fields_and_enum_values_are_type_findings() {
    let dir = scratch_copy();
    edit(
        &dir,
        "oversight.yaml",
        "on_timeout: deny",
        "on_timeout: wait_forever",
    );
    edit(
        &dir,
        "incidents.yaml",
        "  serious_kind: other\n",
        "  serious_kind: other\n  severity_note: x\n",
    );
    let problems = load_problems(&dir);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(file_name(&problems[0]), "incidents.yaml");
    assert!(problems[0]
        .message
        .contains("unknown field `severity_note`"));
    assert_eq!(
        problems[0].line,
        Some(line_of(&dir, "incidents.yaml", "severity_note"))
    );
    assert_eq!(file_name(&problems[1]), "oversight.yaml");
    assert!(problems[1]
        .message
        .contains("unknown variant `wait_forever`"));
    assert_eq!(
        problems[1].line,
        Some(line_of(&dir, "oversight.yaml", "wait_forever"))
    );
}

#[test]
fn json_sections_load_and_point_at_json_positions() {
    let dir = scratch_copy();
    let systems: serde_json::Value =
        serde_yaml_ng::from_str(&fs::read_to_string(dir.path().join("systems.yaml")).unwrap())
            .unwrap();
    fs::remove_file(dir.path().join("systems.yaml")).unwrap();
    let json = serde_json::to_string_pretty(&systems).unwrap();
    fs::write(dir.path().join("systems.json"), &json).unwrap();
    assert_eq!(validate(&dir), vec![]);

    // Two copies of the system: the second one's id is a duplicate.
    let twice = serde_json::Value::Array(vec![systems[0].clone(), systems[0].clone()]);
    let twice = serde_json::to_string_pretty(&twice).unwrap();
    fs::write(dir.path().join("systems.json"), &twice).unwrap();
    let findings = validate(&dir);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].code, "id.duplicate");
    assert_eq!(file_name(&findings[0]), "systems.json");
    let second_id = twice
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains("\"id\": \"cs-assistant\""))
        .nth(1)
        .map(|(index, line)| (index + 1, line.find('"').unwrap() + 1))
        .unwrap();
    assert_eq!(
        (findings[0].line, findings[0].column),
        (Some(second_id.0), Some(second_id.1))
    );

    fs::write(
        dir.path().join("systems.json"),
        json.replacen("\"agent_ids\": [", "\"agent_ids\": 3, \"x\": [", 1),
    )
    .unwrap();
    let problems = load_problems(&dir);
    assert_eq!(problems[0].code, "parse.type", "{problems:#?}");
    let line = json
        .lines()
        .position(|l| l.contains("\"agent_ids\""))
        .unwrap()
        + 1;
    assert_eq!(problems[0].line, Some(line));

    fs::write(dir.path().join("systems.json"), "[\n  {\"id\": \"x\",\n").unwrap();
    let problems = load_problems(&dir);
    assert_eq!(problems[0].code, "parse.syntax");
    assert_eq!(problems[0].line, Some(3));
}

#[test]
fn unknown_files_and_duplicate_sections_are_reported() {
    let dir = scratch_copy();
    fs::write(dir.path().join("risk.yaml"), "[]\n").unwrap();
    fs::write(dir.path().join("soa.json"), "[]\n").unwrap();
    fs::write(dir.path().join("README.md"), "not a section\n").unwrap();
    let problems = load_problems(&dir);
    let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
    assert_eq!(
        codes,
        ["register.unknown_file", "register.duplicate_section"],
        "{problems:#?}"
    );
    assert!(problems[0]
        .message
        .contains("`risk` is not a register section"));
}

#[test]
fn an_empty_file_is_an_empty_section() {
    let dir = scratch_copy();
    fs::write(dir.path().join("internal_audits.yaml"), "# none yet\n").unwrap();
    edit(
        &dir,
        "nonconformities.yaml",
        "source: internal_audit\n  source_id: AUD-2026-1",
        "source: monitoring",
    );
    edit(
        &dir,
        "management_reviews.yaml",
        "internal_audit_ids: [AUD-2026-1]",
        "internal_audit_ids: []",
    );
    assert_eq!(validate(&dir), vec![]);
}

#[test]
fn a_missing_directory_is_an_io_error() {
    let err = load_dir(Path::new("/nonexistent/register")).unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/register"));
}

#[test]
fn hostile_inputs_never_panic() {
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let inputs = [
        "\u{0}\u{1}\u{2}binary",
        "- &a {id: x}\n- *a\n- *b\n",
        "? [complex, key]\n: value\n",
        "--- []\n--- []\n",
        "[1, 2",
        "{\"a\": }",
        "- id: \"\\uD800\"\n",
        "\t- tab",
        deep.as_str(),
    ];
    for input in inputs {
        for file in ["systems.yaml", "soa.json", "ai_policy.yml"] {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join(file), input).unwrap();
            if let Ok(loaded) = load_dir(dir.path()) {
                loaded.validate();
            }
        }
    }
}

//! `aims approval keygen|list|show|approve|reject` as an approver in another process: exit
//! codes (0 done, 1 refused or not found, 2 usage), signed votes that the agent's runtime
//! counts only from keys it trusts, and that reach the agent's audit log when the call runs.
#![allow(clippy::unwrap_used)] // a test: a failed spawn or read should fail it loudly

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use aims_core::audit::keys::{NoteSigner, NoteVerifier};
use aims_core::audit::{AuditEvent, MemorySink};
use aims_core::guard::{Guard, ToolCall, Verdict};
use aims_core::oversight::{ApprovalKeys, OversightStore, Supervisor};
use aims_core::policy::{Format, Policy};
use serde_json::json;

const POLICY: &str = r#"
default: allow
rules:
  - id: refund-approval
    match: {tool: issue_refund, args: {/amount: {gt: 100}}}
    effect: require_approval
    checkpoint: refund-approval
checkpoints:
  - id: refund-approval
    ai_system_id: cs-assistant
    trigger: {policy_rules: [refund-approval]}
    approver_roles: [support_lead, finance]
    required_approvals: 2
    timeout_seconds: 1800
    on_timeout: deny
"#;

fn aims(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .env_remove("AIMS_APPROVER_KEY")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn keygen(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.key"));
    let made = aims(&[
        "approval",
        "keygen",
        "--by",
        name,
        "--out",
        path.to_str().unwrap(),
    ]);
    assert_eq!(made.status.code(), Some(0), "{}", text(&made.stderr));
    path.to_str().unwrap().to_owned()
}

fn refund() -> ToolCall {
    let mut call = ToolCall::new(
        "cs-agent",
        "issue_refund",
        json!({"order_id": "A-1", "amount": 250}),
    );
    call.context = json!({"user_id": "alice"});
    call
}

#[test]
fn an_approver_in_another_process_votes_with_a_signed_key_and_the_agent_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let fin_key = keygen(dir.path(), "fin");
    let alice_key = keygen(dir.path(), "alice");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&fin_key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The agent: trusts fin's public key as an approver key.
    let sink = Arc::new(MemorySink::new());
    let store_path = dir.path().join("oversight.db");
    let guard = Guard::builder(Policy::from_text(POLICY, Format::Yaml, "policy.yaml").unwrap())
        .sink(sink.clone())
        .build();
    let keys = ApprovalKeys::new(NoteSigner::generate("agent").unwrap())
        .trust_approver(NoteVerifier::read(Path::new(&format!("{fin_key}.pub"))).unwrap());
    let supervisor = Supervisor::builder(
        guard,
        Arc::new(OversightStore::open(&store_path).unwrap()),
        sink.clone(),
    )
    .approval_keys(keys)
    .build()
    .unwrap();
    let id = supervisor
        .check(&refund())
        .unwrap()
        .decision
        .approval_id
        .unwrap();
    let store = store_path.to_str().unwrap();

    let listed = aims(&["approval", "list", "--store", store]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    assert!(text(&listed.stdout).contains(&id));
    let shown = aims(&["approval", "show", &id, "--store", store, "--json"]);
    assert_eq!(shown.status.code(), Some(0));
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["status"], "pending");
    assert_eq!(shown["requested_by"], json!(["cs-agent", "alice"]));
    let missing = aims(&["approval", "show", "apr_missing", "--store", store]);
    assert_eq!(missing.status.code(), Some(1));

    // A vote must be signed.
    let unsigned = aims(&[
        "approval", "approve", &id, "--store", store, "--by", "fin", "--role", "finance",
    ]);
    assert_eq!(
        unsigned.status.code(),
        Some(2),
        "{}",
        text(&unsigned.stderr)
    );
    assert!(text(&unsigned.stderr).contains("--key"));
    // The user behind the call cannot approve it, however the name is written.
    let own = aims(&[
        "approval", "approve", &id, "--store", store, "--by", " Alice", "--role", "finance",
        "--key", &alice_key,
    ]);
    assert_eq!(own.status.code(), Some(1), "{}", text(&own.stderr));
    let wrong_role = aims(&[
        "approval", "approve", &id, "--store", store, "--by", "fin", "--role", "intern", "--key",
        &fin_key,
    ]);
    assert_eq!(wrong_role.status.code(), Some(1));

    let voted = aims(&[
        "approval",
        "approve",
        &id,
        "--store",
        store,
        "--by",
        "fin",
        "--role",
        "finance",
        "--key",
        &fin_key,
        "--note",
        "checked, card 4111 1111 1111 1111",
    ]);
    assert_eq!(voted.status.code(), Some(0), "{}", text(&voted.stderr));
    assert!(text(&voted.stdout).contains("pending (1/2 approvals)"));
    let again = aims(&[
        "approval", "approve", &id, "--store", store, "--by", "FIN", "--role", "finance", "--key",
        &fin_key,
    ]);
    assert_eq!(again.status.code(), Some(1));

    // The second approver votes through the agent's own API; the retry then runs, and the
    // agent's log holds the vote cast by the CLI, with the key that signed it.
    supervisor
        .approvals()
        .approve(&id, "lea", "support_lead", None)
        .unwrap();
    let retried = supervisor.check(&refund()).unwrap().decision;
    assert!(retried.may_proceed(), "{retried:?}");
    assert_eq!(retried.verdict, Verdict::Allow);
    let observed: Vec<String> = sink
        .events()
        .into_iter()
        .filter_map(|event| match event {
            AuditEvent::Approval(a)
                if a.step == "approved" && a.actor.as_deref() == Some("fin") =>
            {
                a.note
            }
            _ => None,
        })
        .collect();
    assert_eq!(observed.len(), 1, "{observed:?}");
    assert!(observed[0].contains("key fin"), "{}", observed[0]);
    assert!(!observed[0].contains("4111"), "{}", observed[0]);

    let executed = aims(&["approval", "list", "--store", store, "--status", "executed"]);
    assert!(text(&executed.stdout).contains(&id));
    let reject_done = aims(&[
        "approval", "reject", &id, "--store", store, "--by", "fin", "--role", "finance", "--key",
        &fin_key,
    ]);
    assert_eq!(reject_done.status.code(), Some(1));
}

#[test]
fn a_missing_store_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.db");
    let listed = aims(&["approval", "list", "--store", missing.to_str().unwrap()]);
    assert_eq!(listed.status.code(), Some(2));
    assert!(!missing.exists());
}

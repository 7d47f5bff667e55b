//! `aims incident list|show|update|export` on a store written by the SDK, and the export read
//! back by `aims register check`.
#![allow(clippy::unwrap_used)] // a test: a failed spawn or read should fail it loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use aims_core::audit::MemorySink;
use aims_core::model::Severity;
use aims_core::oversight::{IncidentSignal, Incidents, ManualClock, OversightStore};
use time::macros::datetime;

fn aims(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A store with two incidents raised by the SDK: INC-2026-001 (high) and INC-2026-002.
fn store_with_incidents(dir: &Path) -> PathBuf {
    let path = dir.join("oversight.db");
    let store = Arc::new(OversightStore::open(&path).unwrap());
    let incidents = Incidents::new(store, Arc::new(MemorySink::new()))
        .with_clock(Arc::new(ManualClock::new(datetime!(2026-11-23 10:00 UTC))));
    for (agent, severity) in [("agent-7", Severity::High), ("agent-8", Severity::Low)] {
        incidents
            .raise(&IncidentSignal {
                key: format!("deny-burst/{agent}"),
                title: format!("Repeated denies for {agent}"),
                event: "5 denies within 10 minutes".into(),
                severity,
                serious_kind: None,
                ai_system_ids: vec!["cs-assistant".into()],
                audit_indices: vec![4, 5],
            })
            .unwrap();
    }
    path
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn list_show_update_and_export_round_trip_through_register_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_incidents(dir.path());
    let store = store.to_str().unwrap();

    let listed = aims(&["incident", "list", "--store", store]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let listing = text(&listed.stdout);
    assert!(listing.contains("INC-2026-001"), "{listing}");
    assert!(listing.contains("INC-2026-002"), "{listing}");

    let shown = aims(&["incident", "show", "INC-2026-001", "--store", store]);
    assert_eq!(shown.status.code(), Some(0));
    assert!(text(&shown.stdout).contains("id: INC-2026-001"));
    assert!(text(&shown.stdout).contains("severity: high"));

    // Closing a major incident without a root cause and a corrective action is refused.
    let refused = aims(&[
        "incident",
        "update",
        "INC-2026-001",
        "--store",
        store,
        "--by",
        "olga",
        "--status",
        "closed",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("root cause"),
        "{}",
        text(&refused.stderr)
    );

    let log = dir.path().join("log");
    let closed = aims(&[
        "incident",
        "update",
        "INC-2026-001",
        "--store",
        store,
        "--log",
        log.to_str().unwrap(),
        "--by",
        "olga",
        "--status",
        "closed",
        "--root-cause",
        "refund cap missing",
        "--corrective-action",
        "CA-001",
    ]);
    assert_eq!(closed.status.code(), Some(0), "{}", text(&closed.stderr));
    assert!(text(&closed.stdout).contains("INC-2026-001: closed"));
    // The change is in the signed audit log, which verifies.
    let shown_log = aims(&["audit", "show", log.to_str().unwrap()]);
    assert_eq!(
        shown_log.status.code(),
        Some(0),
        "{}",
        text(&shown_log.stderr)
    );
    assert!(
        text(&shown_log.stdout).contains("INC-2026-001 status_changed"),
        "{}",
        text(&shown_log.stdout)
    );
    let verified = aims(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );

    let bad_status = aims(&[
        "incident",
        "update",
        "INC-2026-002",
        "--store",
        store,
        "--by",
        "olga",
        "--status",
        "done",
    ]);
    assert_eq!(bad_status.status.code(), Some(2));
    let unknown = aims(&["incident", "show", "INC-1999-001", "--store", store]);
    assert_eq!(unknown.status.code(), Some(2));
    let no_store = aims(&["incident", "list", "--store", "/nonexistent/oversight.db"]);
    assert_eq!(no_store.status.code(), Some(2));

    // The export replaces the example register's incidents and the register still checks.
    let register = dir.path().join("register");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/register"),
        &register,
    );
    let out = register.join("incidents.yaml");
    let exported = aims(&[
        "incident",
        "export",
        "--store",
        store,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        exported.status.code(),
        Some(0),
        "{}",
        text(&exported.stderr)
    );
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(yaml.contains("INC-2026-002"), "{yaml}");
    assert!(yaml.contains("refund cap missing"), "{yaml}");
    let checked = aims(&["register", "check", register.to_str().unwrap()]);
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}{}",
        text(&checked.stdout),
        text(&checked.stderr)
    );
}

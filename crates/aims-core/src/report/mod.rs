//! The evidence pack: Statement of Applicability, clause 9 metrics and an auditor's report.
//!
//! - [`collect`]: streams audit logs into bounded aggregates.
//! - [`evidence`]: the pack's content (`evidence.json`).
//! - [`html`]: the self-contained page (`index.html`, inline SVG, no network).
//! - [`latency`]: approval latency percentiles in bounded memory.
//! - [`oscal`]: OSCAL 1.2 catalog and assessment results.
//! - [`manifest`]: sha256 of every file, signed with Ed25519.

pub mod collect;
pub mod evidence;
pub mod html;
pub mod latency;
pub mod manifest;
pub mod oscal;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::audit::keys::{NoteSigner, NoteVerifier};
use crate::audit::{for_each_record, verify_each, AuditError, VerifyOptions};
use crate::catalog;
use crate::model::{FindingSeverity, Incident, Register};
pub use collect::{LogStats, Period};
pub use evidence::EvidencePack;
use evidence::{
    Gap, ImpactRow, IncidentRow, LogVerification, Metrics, RiskRow, RuleCount, SoaRow, SystemRow,
};
pub use manifest::{verify_pack, ManifestProblem};

/// How often (in records) a long read reports progress.
const PROGRESS_EVERY: u64 = 65_536;

/// Why a pack could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A log directory is not an audit log at all (a log that reads but fails verification
    /// is reported in the pack instead).
    #[error("cannot read audit log {}: {source}", dir.display())]
    Log {
        /// The log.
        dir: PathBuf,
        /// Why.
        source: AuditError,
    },
    /// A directory of logs could not be listed.
    #[error("cannot list {}: {source}", path.display())]
    Read {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The content could not be encoded.
    #[error("cannot encode the pack: {0}")]
    Encode(#[from] serde_json::Error),
}

/// What a report is built from.
#[derive(Debug)]
pub struct ReportInputs<'a> {
    /// The AIMS register.
    pub register: &'a Register,
    /// Incidents recorded at runtime (oversight stores), besides the register's own.
    pub runtime_incidents: Vec<Incident>,
    /// Audit log directories, one per process of a fleet (see [`log_dirs`]); each is verified
    /// on its own and their figures add up.
    pub logs: Vec<PathBuf>,
    /// The trusted key the logs' checkpoints must be signed by; `None` trusts each log's own.
    pub public_key: Option<NoteVerifier>,
    /// The period covered.
    pub period: Period,
    /// "Now", for deadlines and overdue reviews.
    pub now: OffsetDateTime,
}

/// The logs `paths` name: a path that is a log stands for itself; a directory that is not one
/// stands for the logs directly inside it, in name order (a fleet's replicas, one log
/// directory each). Anything else is kept, so verification reports it as not a log.
pub fn log_dirs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReportError> {
    let is_log = |dir: &Path| dir.join(crate::audit::SECRET).is_file();
    let mut logs = Vec::new();
    for path in paths {
        if is_log(path) || !path.is_dir() {
            logs.push(path.clone());
            continue;
        }
        let entries = fs::read_dir(path).map_err(|source| ReportError::Read {
            path: path.clone(),
            source,
        })?;
        let mut inside = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| ReportError::Read {
                path: path.clone(),
                source,
            })?;
            if is_log(&entry.path()) {
                inside.push(entry.path());
            }
        }
        if inside.is_empty() {
            logs.push(path.clone());
        }
        inside.sort();
        logs.extend(inside);
    }
    Ok(logs)
}

/// Builds the pack's content: verifies every log, streams it into metrics, and joins the
/// runtime evidence to the register. `progress(log, records_read)` reports long reads.
pub fn build(
    inputs: &ReportInputs<'_>,
    mut progress: impl FnMut(&Path, u64),
) -> Result<EvidencePack, ReportError> {
    let mut stats = LogStats::default();
    let mut logs = Vec::new();
    for dir in &inputs.logs {
        let mut collector = collect::Collector::new(inputs.period, &mut stats);
        logs.push(verify_and_collect(
            dir,
            inputs.public_key.as_ref(),
            &mut collector,
            &mut progress,
        )?);
    }
    let register = inputs.register;
    let soa = soa_rows(register, &stats);
    let mut gaps = gaps(register, &soa, inputs.now);
    for log in logs.iter().filter(|log| !log.intact) {
        gaps.insert(
            0,
            Gap {
                code: "audit_log.not_intact".into(),
                severity: "error".into(),
                subject: log.dir.clone(),
                message: format!(
                    "the audit log failed verification: {}",
                    log.problem.as_deref().unwrap_or("unknown problem")
                ),
            },
        );
    }
    Ok(EvidencePack {
        generated_at: rfc3339(inputs.now),
        period_from: inputs.period.from.map(|day| day.to_string()),
        period_to: inputs.period.to.map(|day| day.to_string()),
        systems: register
            .systems
            .iter()
            .map(|system| SystemRow {
                id: system.id.clone(),
                name: system.name.clone(),
                intended_purpose: system.intended_purpose.clone(),
                org_role: label(&system.org_role),
                eu_risk_class: label(&system.eu_risk_class),
                lifecycle_phase: label(&system.lifecycle_phase),
                agent_ids: system.agent_ids.clone(),
                tools: system.tools.clone(),
            })
            .collect(),
        soa,
        risks: risk_rows(register),
        impact_assessments: register
            .impact_assessments
            .iter()
            .map(|assessment| ImpactRow {
                id: assessment.id.clone(),
                ai_system_id: assessment.ai_system_id.clone(),
                severity: label(&assessment.severity),
                affected_groups: assessment.affected_groups.clone(),
                next_review: assessment.next_review.to_string(),
            })
            .collect(),
        incidents: register
            .incidents
            .iter()
            .map(|incident| incident_row(incident, "register"))
            .chain(
                inputs
                    .runtime_incidents
                    .iter()
                    .map(|incident| incident_row(incident, "runtime")),
            )
            .collect(),
        metrics: metrics(&stats),
        logs,
        gaps,
    })
}

/// Writes `index.html`, `evidence.json`, `oscal/catalog.json`,
/// `oscal/assessment-results.json`, then `MANIFEST.json` and `MANIFEST.sig` signed by
/// `signer`. Returns the files written.
pub fn write_pack(
    pack: &EvidencePack,
    out: &Path,
    signer: &NoteSigner,
) -> Result<Vec<PathBuf>, ReportError> {
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf, ReportError> {
        let path = out.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| ReportError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        fs::write(&path, bytes).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    };
    let files = [
        ("index.html", html::render(pack).into_bytes()),
        ("evidence.json", pretty(pack)?),
        ("oscal/catalog.json", pretty(&oscal::catalog())?),
        (
            "oscal/assessment-results.json",
            pretty(&oscal::assessment_results(pack))?,
        ),
    ];
    let mut written = Vec::new();
    for (name, bytes) in &files {
        written.push(write(name, bytes)?);
    }
    let listed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, bytes)| (*name, bytes.as_slice()))
        .collect();
    let (manifest, signature) = manifest::sign(&listed, signer);
    written.push(write(manifest::MANIFEST, manifest.as_bytes())?);
    written.push(write(manifest::SIGNATURE, signature.as_bytes())?);
    Ok(written)
}

fn pretty(value: &impl Serialize) -> Result<Vec<u8>, ReportError> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Verifies one log and collects its records in the same pass. A log that fails
/// verification still yields the metrics of the records read before the damage (or of all
/// its records, when the whole log failed, e.g. a checkpoint not signed by the trusted key);
/// the pack says prominently that they cannot be relied on.
fn verify_and_collect(
    dir: &Path,
    key: Option<&NoteVerifier>,
    collector: &mut collect::Collector<'_>,
    progress: &mut impl FnMut(&Path, u64),
) -> Result<LogVerification, ReportError> {
    let options = VerifyOptions {
        public_key: key.cloned(),
        checkpoint: None,
    };
    let verified = verify_each(dir, &options, |index, payload| {
        if index.is_multiple_of(PROGRESS_EVERY) {
            progress(dir, index);
        }
        collector.add(payload);
    });
    let display = dir.display().to_string();
    match verified {
        Ok(report) => {
            progress(dir, report.records);
            Ok(LogVerification {
                dir: display,
                intact: true,
                records: report.records,
                checkpoint: Some(report.checkpoint),
                key_from_log: report.key_from_log,
                problem: None,
            })
        }
        // Not a log at all (a mistyped path): a usage error, not evidence of tampering.
        Err(source @ AuditError::NotALog { .. }) => Err(ReportError::Log {
            dir: dir.to_path_buf(),
            source,
        }),
        Err(err) => {
            if collector.seen() == 0 {
                // Best effort: whatever reads is shown under the failure banner.
                let _ = for_each_record(dir, |_, payload| collector.add(payload));
            }
            Ok(LogVerification {
                dir: display,
                intact: false,
                records: collector.seen(),
                checkpoint: None,
                key_from_log: key.is_none(),
                problem: Some(err.to_string()),
            })
        }
    }
}

/// Records that count as runtime evidence for a control: decisions by rules tagged with it,
/// plus the records some controls are about by nature.
fn runtime_records(control_id: &str, stats: &LogStats) -> u64 {
    let tagged = stats.by_control.get(control_id).copied().unwrap_or(0);
    let by_nature = match control_id {
        // Event logging is the log itself.
        "A.6.2.8" => stats.records,
        // Operation and monitoring: anomaly alerts and every pre-call decision.
        "A.6.2.6" => stats.anomalies + stats.decisions(),
        // Responsible use: human oversight steps.
        "A.9.2" => stats.approval_steps.values().sum(),
        // Communication of incidents.
        "A.8.4" => stats.incident_records,
        _ => 0,
    };
    tagged + by_nature
}

fn soa_rows(register: &Register, stats: &LogStats) -> Vec<SoaRow> {
    catalog::controls()
        .iter()
        .map(|control| {
            let entry = register.soa_entry(&control.id);
            SoaRow {
                control_id: control.id.clone(),
                title: control.title.clone(),
                applicable: entry.is_some_and(|entry| entry.applicable),
                status: entry.map_or("missing".into(), |entry| {
                    label(&entry.implementation_status)
                }),
                justification: entry
                    .map(|entry| entry.justification.clone())
                    .unwrap_or_default(),
                implemented_by: entry
                    .map(|entry| entry.implemented_by.clone())
                    .unwrap_or_default(),
                evidence_ids: entry
                    .map(|entry| entry.evidence_ids.clone())
                    .unwrap_or_default(),
                runtime_records: runtime_records(&control.id, stats),
            }
        })
        .collect()
}

fn risk_rows(register: &Register) -> Vec<RiskRow> {
    let criteria = &register.risk_criteria;
    register
        .risks
        .iter()
        .map(|risk| RiskRow {
            id: risk.id.clone(),
            title: risk.title.clone(),
            category: label(&risk.category),
            likelihood: risk.inherent.likelihood,
            impact: risk.inherent.impact,
            inherent_level: risk
                .inherent_level(criteria)
                .map_or("unrated".into(), |level| level.name.clone()),
            residual_level: risk
                .residual_level(criteria)
                .map(|level| level.name.clone()),
            treatment: label(&risk.treatment),
            status: label(&risk.status),
            control_ids: risk.control_ids.clone(),
        })
        .collect()
}

fn incident_row(incident: &Incident, source: &str) -> IncidentRow {
    IncidentRow {
        id: incident.id.clone(),
        title: incident.title.clone(),
        severity: label(&incident.severity),
        status: label(&incident.status),
        serious: incident.serious,
        reporting_deadline: incident.reporting_deadline().map(rfc3339),
        reported_at: incident.reported_at.map(rfc3339),
        corrective_action_ids: incident.corrective_action_ids.clone(),
        source: source.to_owned(),
    }
}

fn metrics(stats: &LogStats) -> Metrics {
    let mut top: Vec<RuleCount> = stats
        .blocking_rules
        .iter()
        .map(|(rule_id, count)| RuleCount {
            rule_id: rule_id.clone(),
            count: *count,
        })
        .collect();
    top.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
    top.truncate(10);
    Metrics {
        records: stats.records,
        decisions: stats.decisions(),
        by_verdict: stats
            .by_verdict
            .iter()
            .map(|(verdict, count)| (verdict.as_str().to_owned(), *count))
            .collect(),
        by_day: stats
            .by_day
            .iter()
            .map(|(day, verdicts)| {
                let counts: BTreeMap<String, u64> = verdicts
                    .iter()
                    .map(|(verdict, count)| (verdict.as_str().to_owned(), *count))
                    .collect();
                (day.to_string(), counts)
            })
            .collect(),
        top_blocking_rules: top,
        approval_steps: stats.approval_steps.clone(),
        approval_latency_median_s: stats.approval_latencies.percentile(0.5),
        approval_latency_p95_s: stats.approval_latencies.percentile(0.95),
        redactions_by_entity: stats.masked.clone(),
        anomaly_alerts: stats.anomalies,
        incident_records: stats.incident_records,
        outcomes_ok: stats.outcomes_ok,
        outcomes_error: stats.outcomes_error,
    }
}

fn gaps(register: &Register, soa: &[SoaRow], now: OffsetDateTime) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = soa
        .iter()
        .filter(|row| row.applicable && row.runtime_records == 0 && row.evidence_ids.is_empty())
        .map(|row| Gap {
            code: "control.no_evidence".into(),
            severity: "warning".into(),
            subject: row.control_id.clone(),
            message: format!(
                "{} {} is applicable but has neither runtime records nor documentary evidence",
                row.control_id, row.title
            ),
        })
        .collect();
    gaps.extend(register.validate_at(now).into_iter().map(|finding| Gap {
        code: finding.code.to_string(),
        severity: match finding.severity {
            FindingSeverity::Error => "error".into(),
            FindingSeverity::Warning => "warning".into(),
        },
        subject: match &finding.file {
            Some(file) => format!("{file}#{}", finding.pointer),
            None => finding.pointer.clone(),
        },
        message: finding.message.clone(),
    }));
    gaps.extend(
        register
            .nonconformities
            .iter()
            .filter(|nc| label(&nc.status) != "closed")
            .map(|nc| Gap {
                code: "nonconformity.open".into(),
                severity: "warning".into(),
                subject: nc.id.clone(),
                message: format!(
                    "nonconformity {} is {}: {}",
                    nc.id,
                    label(&nc.status),
                    nc.title
                ),
            }),
    );
    gaps
}

/// The snake_case name a model enum serializes to.
fn label(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => "unknown".into(),
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn decision(
        verdict: &str,
        phase: &str,
        rules: &[&str],
        controls: &[&str],
        masked: &[&str],
    ) -> Value {
        json!({
            "kind": "decision", "decision_id": "d", "phase": phase,
            "gen_ai.agent.id": "cs-agent", "gen_ai.tool.name": "t", "verdict": verdict,
            "enforced": true, "rule_ids": rules, "control_ids": controls, "reasons": [],
            "policy_version": "p", "args": {}, "args_hmac": "h", "masked": masked, "eval_us": 1,
        })
    }

    fn approval(request: &str, step: &str, approvals: u32, required: u32) -> Value {
        json!({
            "kind": "approval", "request_id": request, "step": step, "checkpoint": "refunds",
            "call_hash": "c", "gen_ai.agent.id": "cs-agent", "gen_ai.tool.name": "issue_refund",
            "approvals": approvals, "required": required,
        })
    }

    /// Records with chosen timestamps, over two days: every metric is known.
    fn known_records() -> Vec<(Value, &'static str)> {
        vec![
            (
                decision("allow", "pre", &["read"], &["A.9.4"], &[]),
                "2026-11-02T09:00:00Z",
            ),
            (
                decision("deny", "pre", &["cap"], &["A.9.2"], &[]),
                "2026-11-02T09:01:00Z",
            ),
            (
                decision("deny", "pre", &["cap"], &["A.9.2"], &[]),
                "2026-11-02T09:02:00Z",
            ),
            (
                decision("deny", "pre", &["shell"], &["A.9.4"], &[]),
                "2026-11-03T08:00:00Z",
            ),
            (
                decision(
                    "redact",
                    "pre",
                    &["mail"],
                    &["A.7.4"],
                    &["EMAIL_ADDRESS", "/card"],
                ),
                "2026-11-03T08:01:00Z",
            ),
            // A post-call redaction counts for its control and entities, not as a verdict.
            (
                decision("redact", "post", &["mail"], &["A.7.4"], &["EMAIL_ADDRESS"]),
                "2026-11-03T08:01:01Z",
            ),
            (
                decision("require_approval", "pre", &["big"], &["A.9.2"], &[]),
                "2026-11-03T08:02:00Z",
            ),
            (approval("r1", "requested", 0, 2), "2026-11-03T08:02:00Z"),
            // The first of two approvals does not end the wait; the second does, 90 s later.
            (approval("r1", "approved", 1, 2), "2026-11-03T08:03:00Z"),
            (approval("r1", "approved", 2, 2), "2026-11-03T08:03:30Z"),
            (approval("r2", "requested", 0, 1), "2026-11-03T09:00:00Z"),
            (approval("r2", "rejected", 0, 1), "2026-11-03T09:00:10Z"),
            (approval("r3", "requested", 0, 1), "2026-11-03T10:00:00Z"),
            (approval("r3", "approved", 1, 1), "2026-11-03T10:05:00Z"),
            (
                json!({"kind": "outcome", "decision_id": "d", "gen_ai.agent.id": "a", "gen_ai.tool.name": "t", "status": "ok", "duration_us": 5}),
                "2026-11-03T10:05:01Z",
            ),
            (
                json!({"kind": "outcome", "decision_id": "d", "gen_ai.agent.id": "a", "gen_ai.tool.name": "t", "status": "error", "error": "x", "duration_us": 5}),
                "2026-11-03T10:05:02Z",
            ),
            (
                json!({"kind": "incident", "incident_id": "INC-1", "step": "opened", "summary": "s", "severity": "high", "audit_indices": [3]}),
                "2026-11-03T10:06:00Z",
            ),
            (
                json!({"kind": "anomaly", "gen_ai.agent.id": "a", "signal": "deny_rate", "level": "warning", "baseline_rate": 0.1, "current_rate": 0.5, "cusum": 4.0}),
                "2026-11-03T10:07:00Z",
            ),
            // Outside the period below: skipped.
            (
                decision("deny", "pre", &["cap"], &["A.9.2"], &[]),
                "2026-11-04T00:00:00Z",
            ),
        ]
    }

    fn known_stats() -> LogStats {
        let mut stats = LogStats::default();
        let period = Period {
            from: Some(time::macros::date!(2026 - 11 - 02)),
            to: Some(time::macros::date!(2026 - 11 - 03)),
        };
        let mut collector = collect::Collector::new(period, &mut stats);
        for (index, (event, at)) in known_records().into_iter().enumerate() {
            let payload = json!({"event": event, "index": index, "prev": "00", "timestamp": at});
            collector.add(payload.to_string().as_bytes());
        }
        assert_eq!(collector.seen(), 19);
        stats
    }

    #[test]
    fn every_metric_matches_records_with_known_times() {
        let stats = known_stats();
        assert_eq!(stats.undecodable, 0);
        let m = metrics(&stats);
        assert_eq!(m.records, 18);
        assert_eq!(m.decisions, 6);
        assert_eq!(
            m.by_verdict,
            BTreeMap::from([
                ("allow".into(), 1),
                ("deny".into(), 3),
                ("redact".into(), 1),
                ("require_approval".into(), 1)
            ])
        );
        assert_eq!(
            m.by_day["2026-11-02"],
            BTreeMap::from([("allow".into(), 1), ("deny".into(), 2)])
        );
        assert_eq!(
            m.by_day["2026-11-03"],
            BTreeMap::from([
                ("deny".into(), 1),
                ("redact".into(), 1),
                ("require_approval".into(), 1)
            ])
        );
        let top: Vec<(&str, u64)> = m
            .top_blocking_rules
            .iter()
            .map(|r| (r.rule_id.as_str(), r.count))
            .collect();
        assert_eq!(top, [("cap", 2), ("big", 1), ("shell", 1)]);
        assert_eq!(
            m.approval_steps,
            BTreeMap::from([
                ("approved".into(), 3),
                ("rejected".into(), 1),
                ("requested".into(), 3)
            ])
        );
        // Latencies 90 s, 10 s, 300 s: median 90, p95 300.
        assert_eq!(m.approval_latency_median_s, Some(90.0));
        assert_eq!(m.approval_latency_p95_s, Some(300.0));
        assert_eq!(
            m.redactions_by_entity,
            BTreeMap::from([("EMAIL_ADDRESS".into(), 2), ("pointer".into(), 1)])
        );
        assert_eq!((m.anomaly_alerts, m.incident_records), (1, 1));
        assert_eq!((m.outcomes_ok, m.outcomes_error), (1, 1));
        assert_eq!(runtime_records("A.9.2", &stats), 3 + 7); // 3 tagged decisions + 7 approval steps
        assert_eq!(runtime_records("A.8.4", &stats), 1);
        assert_eq!(runtime_records("A.6.2.8", &stats), 18);
        assert_eq!(runtime_records("A.6.2.6", &stats), 1 + 6);
    }

    #[test]
    fn the_page_shows_every_metric() {
        let stats = known_stats();
        let pack = EvidencePack {
            generated_at: "2026-11-04T00:00:00Z".into(),
            period_from: Some("2026-11-02".into()),
            period_to: Some("2026-11-03".into()),
            systems: Vec::new(),
            soa: Vec::new(),
            risks: Vec::new(),
            impact_assessments: Vec::new(),
            incidents: Vec::new(),
            metrics: metrics(&stats),
            logs: Vec::new(),
            gaps: Vec::new(),
        };
        let page = html::render(&pack);
        for needle in [
            "data-metric=\"records\">18<",
            "data-metric=\"decisions\">6<",
            "data-metric=\"denied\">3<",
            "data-metric=\"approvals_required\">1<",
            "data-metric=\"redacted\">1<",
            "data-metric=\"verdict\" data-verdict=\"allow\">1<",
            "data-metric=\"verdict\" data-verdict=\"deny\">3<",
            "<title>2026-11-02 deny: 2</title>",
            "<title>2026-11-03 require_approval: 1</title>",
            "data-metric=\"blocking_rule\" data-name=\"cap\">2<",
            "data-metric=\"approval_step\" data-step=\"approved\">3<",
            "data-metric=\"approval_latency_median\">90.0 s<",
            "data-metric=\"approval_latency_p95\">300.0 s<",
            "data-metric=\"redaction\" data-name=\"EMAIL_ADDRESS\">2<",
            "data-metric=\"anomaly_alerts\">1<",
            "data-metric=\"incident_records\">1<",
            "data-metric=\"outcomes_ok\">1<",
            "data-metric=\"outcomes_error\">1<",
            "period 2026-11-02 to 2026-11-03",
        ] {
            assert!(page.contains(needle), "the page lacks {needle}");
        }
        // No log given: the page must not claim the evidence verified.
        assert!(page.contains("data-metric=\"logs_intact\" data-value=\"false\""));
    }
}

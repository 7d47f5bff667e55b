//! The evidence pack: Statement of Applicability, clause 9 metrics and an auditor's report.
//!
//! - [`collect`]: streams audit logs into bounded aggregates.
//! - [`evidence`]: the pack's content (`evidence.json`).
//! - [`html`]: the self-contained page (`index.html`, inline SVG, no network).
//! - [`oscal`]: OSCAL 1.1 catalog and assessment results.
//! - [`manifest`]: sha256 of every file, signed with Ed25519.

pub mod collect;
pub mod evidence;
pub mod html;
pub mod manifest;
pub mod oscal;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::audit::keys::{NoteSigner, NoteVerifier};
use crate::audit::{verify, AuditError, LogSnapshot, VerifyOptions};
use crate::catalog;
use crate::model::{FindingSeverity, Incident, Register};
pub use collect::{LogStats, Period};
pub use evidence::EvidencePack;
use evidence::{
    Gap, ImpactRow, IncidentRow, LogVerification, Metrics, RiskRow, RuleCount, SoaRow, SystemRow,
};
pub use manifest::{verify_pack, ManifestProblem};

/// Why a pack could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A log could not be read at all (a log that reads but fails verification is reported in
    /// the pack instead).
    #[error("cannot read audit log {}: {source}", dir.display())]
    Log {
        /// The log.
        dir: PathBuf,
        /// Why.
        source: AuditError,
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
    /// Audit log directories.
    pub logs: Vec<PathBuf>,
    /// The trusted key the logs' checkpoints must be signed by; `None` trusts each log's own.
    pub public_key: Option<NoteVerifier>,
    /// The period covered.
    pub period: Period,
    /// "Now", for deadlines and overdue reviews.
    pub now: OffsetDateTime,
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
        let verification = verify_log(dir, inputs.public_key.as_ref());
        let collected =
            collect::collect(dir, inputs.period, &mut stats, |read| progress(dir, read));
        // A log that failed verification still yields the metrics of the records before the
        // damage; the pack says prominently that they cannot be relied on.
        if let (Err(source), true) = (collected, verification.intact) {
            return Err(ReportError::Log {
                dir: dir.clone(),
                source,
            });
        }
        logs.push(verification);
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

fn verify_log(dir: &Path, key: Option<&NoteVerifier>) -> LogVerification {
    let options = VerifyOptions {
        public_key: key.cloned(),
        checkpoint: None,
    };
    let display = dir.display().to_string();
    match verify(dir, &options) {
        Ok(report) => LogVerification {
            dir: display,
            intact: true,
            records: report.records,
            checkpoint: LogSnapshot::open(dir)
                .ok()
                .map(|snapshot| snapshot.checkpoint().note.clone()),
            key_from_log: report.key_from_log,
            problem: None,
        },
        Err(err) => LogVerification {
            dir: display,
            intact: false,
            records: 0,
            checkpoint: None,
            key_from_log: key.is_none(),
            problem: Some(err.to_string()),
        },
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
    let mut latencies = stats.approval_latencies.clone();
    latencies.sort_by(f64::total_cmp);
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
        approval_latency_median_s: collect::percentile(&latencies, 0.5),
        approval_latency_p95_s: collect::percentile(&latencies, 0.95),
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

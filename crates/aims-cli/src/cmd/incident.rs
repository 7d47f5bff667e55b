//! `aims incident list|show|update|export`: the incidents in an oversight store.
//!
//! `update` changes status (validated: closing a major incident needs a root cause and a
//! corrective action), severity, root cause, corrective actions, seriousness and report dates,
//! and exits 1 when the change is refused. `export` writes the incidents as the register's
//! `incidents.yaml`, which `aims register check` reads. With `--log DIR`, every change is also
//! appended to the signed audit log there.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aims_core::audit::{AuditSink, MemorySink};
use aims_core::model::{Incident, IncidentStatus, SeriousIncidentKind, Severity};
use aims_core::oversight::incidents::{lifecycle, severity_name};
use aims_core::oversight::{IncidentError, IncidentUpdate, Incidents, OversightStore};
use serde::de::DeserializeOwned;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::check::open_audit_log;
use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The oversight store (an SQLite file written by the SDK).
    #[arg(long, global = true, default_value = "aims-oversight.db")]
    store: PathBuf,
    /// Append each change to the signed audit log in this directory (as `aims check --log`).
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// The audit log's checkpoint signing key; else AIMS_SIGNING_KEY; else one generated in
    /// the log directory.
    #[arg(long, global = true, requires = "log")]
    key: Option<PathBuf>,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// List incidents, oldest first.
    List(ListArgs),
    /// Show one incident as register YAML (or JSON).
    Show(ShowArgs),
    /// Change an incident: status, severity, root cause, corrective actions, seriousness.
    Update(UpdateArgs),
    /// Write every incident as the register's `incidents.yaml`.
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only incidents in this status (open, investigating, contained, resolved, closed).
    #[arg(long, value_parser = snake_case::<IncidentStatus>)]
    status: Option<IncidentStatus>,
    /// Print them as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The incident id, e.g. INC-2026-001.
    id: String,
    /// Print it as JSON instead of YAML.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct UpdateArgs {
    /// The incident id.
    id: String,
    /// Who makes the change (recorded in the timeline).
    #[arg(long)]
    by: String,
    /// New status.
    #[arg(long, value_parser = snake_case::<IncidentStatus>)]
    status: Option<IncidentStatus>,
    /// New severity (low, medium, high, critical).
    #[arg(long, value_parser = snake_case::<Severity>)]
    severity: Option<Severity>,
    /// The root cause.
    #[arg(long)]
    root_cause: Option<String>,
    /// A corrective action of the register to link (repeatable).
    #[arg(long = "corrective-action")]
    corrective_actions: Vec<String>,
    /// Mark it serious: death, widespread_or_critical_infrastructure or other.
    #[arg(long, value_parser = snake_case::<SeriousIncidentKind>)]
    serious: Option<SeriousIncidentKind>,
    /// When the organization became aware it is serious (RFC 3339).
    #[arg(long, value_parser = rfc3339)]
    aware_at: Option<OffsetDateTime>,
    /// When it was reported to the authority (RFC 3339).
    #[arg(long, value_parser = rfc3339)]
    reported_at: Option<OffsetDateTime>,
    /// A note for the timeline.
    #[arg(long)]
    note: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// Write to this file (e.g. REGISTER/incidents.yaml) instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    if !args.store.exists() {
        return Err(format!("no oversight store at {}", args.store.display()).into());
    }
    let store = Arc::new(OversightStore::open(&args.store)?);
    // Without --log, changes are recorded in the incident's timeline only.
    let log = match &args.log {
        Some(dir) => Some(Arc::new(open_audit_log(dir, args.key.as_deref())?)),
        None => None,
    };
    let sink: Arc<dyn AuditSink> = match &log {
        Some(log) => log.clone(),
        None => Arc::new(MemorySink::new()),
    };
    let incidents = Incidents::new(store, sink);
    let code = match args.action {
        Action::List(list) => run_list(&incidents, list),
        Action::Show(show) => run_show(&incidents, show),
        Action::Update(update) => run_update(&incidents, update),
        Action::Export(export) => run_export(&incidents, export),
    }?;
    drop(incidents);
    if let Some(log) = log.and_then(|log| Arc::try_unwrap(log).ok()) {
        log.close()?;
    }
    Ok(code)
}

fn run_list(incidents: &Incidents, args: ListArgs) -> Result<ExitCode, CliError> {
    let all = incidents.list(args.status)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<14} {:<13} {:<8} {:<22} TITLE",
        "ID", "STATUS", "SEVERITY", "ART. 73 REPORT DUE"
    );
    for incident in &all {
        println!(
            "{:<14} {:<13} {:<8} {:<22} {}",
            incident.id,
            lifecycle::status_name(incident.status),
            severity_name(incident.severity),
            report_due(incident),
            incident.title
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_show(incidents: &Incidents, args: ShowArgs) -> Result<ExitCode, CliError> {
    let incident = incidents.get(&args.id)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&incident)?);
    } else {
        print!("{}", serde_yaml_ng::to_string(&incident)?);
        if let Some(deadline) = incident.reporting_deadline() {
            println!("# Art. 73 report due by {}", deadline.format(&Rfc3339)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_update(incidents: &Incidents, args: UpdateArgs) -> Result<ExitCode, CliError> {
    let update = IncidentUpdate {
        status: args.status,
        severity: args.severity,
        root_cause: args.root_cause,
        corrective_action_ids: args.corrective_actions,
        serious_kind: args.serious,
        aware_at: args.aware_at,
        reported_at: args.reported_at,
        note: args.note,
    };
    match incidents.update(&args.id, &update, &args.by) {
        Ok(incident) => {
            println!(
                "{}: {} ({})",
                incident.id,
                lifecycle::status_name(incident.status),
                severity_name(incident.severity)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(refused @ (IncidentError::Lifecycle(_) | IncidentError::EmptyUpdate(_))) => {
            eprintln!("aims: {refused}");
            Ok(ExitCode::from(1))
        }
        Err(other) => Err(other.into()),
    }
}

fn run_export(incidents: &Incidents, args: ExportArgs) -> Result<ExitCode, CliError> {
    let all = incidents.list(None)?;
    let yaml = format!(
        "# Incidents exported from the oversight store (clause 10.2, A.8.4, EU AI Act Art. 73).\n{}",
        serde_yaml_ng::to_string(&all)?
    );
    match args.out {
        Some(path) => std::fs::write(&path, yaml)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?,
        None => print!("{yaml}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn report_due(incident: &Incident) -> String {
    match incident.reporting_deadline() {
        None => "-".into(),
        Some(_) if incident.reported_at.is_some() => "reported".into(),
        Some(deadline) => deadline.format(&Rfc3339).unwrap_or_else(|_| "-".into()),
    }
}

/// Parses a register enum from its snake_case name, so the CLI accepts exactly the register's
/// spellings.
fn snake_case<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|err| err.to_string())
}

fn rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|err| format!("expected an RFC 3339 time such as 2026-03-01T08:00:00Z: {err}"))
}

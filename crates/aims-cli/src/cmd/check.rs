//! `aims check`: decide one tool call with a policy, print the decision as JSON.
//!
//! Exit 0 when the call may proceed as it is (allow, warn), 3 when it may proceed only with the
//! masked arguments printed under `args` (redact), 1 when it may not (deny, require_approval),
//! 2 on a usage, policy or I/O error. A hook that reads only the exit code thus never passes
//! values the policy masks. This is how shell-driven agents use
//! aims as a pre-tool hook. With `--log DIR`, rate-limit and budget counters persist in
//! `DIR/limits.json` (locked while one process decides), so one process per call still
//! enforces them, and every decision is appended (strict: fsynced before the exit) to the
//! signed audit log in `DIR` (`docs/audit-format.md`).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aims_core::audit::keys::{KeySource, NoteSigner, SIGNING_KEY_ENV};
use aims_core::audit::{AuditLog, Durability, LogOptions};
use aims_core::guard::{
    parse_call, CallJsonError, Decision, Guard, InputProblem, LimitFile, ToolCall, Verdict,
};
use aims_core::policy::Policy;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (YAML, or JSON with a .json extension).
    #[arg(long)]
    policy: PathBuf,
    /// A directory for state kept between invocations: limit counters and the audit log.
    #[arg(long)]
    log: Option<PathBuf>,
    /// The audit log's checkpoint signing key (from `aims audit keygen`); else the file
    /// named by AIMS_SIGNING_KEY; else a key generated inside the log directory.
    #[arg(long, requires = "log")]
    key: Option<PathBuf>,
    /// Record and print the decision but exit 0 whatever it is.
    #[arg(long)]
    shadow: bool,
    /// The call as JSON (`{"agent_id": ..., "tool": ..., "args": {...}}`); `-` or nothing
    /// reads standard input.
    call: Option<String>,
}

/// Reads a call given inline, or from standard input for `-` or nothing, strictly: a call
/// with duplicate keys or rounded numbers comes back with the problem it must be refused for.
pub(crate) fn read_call(given: Option<&str>) -> Result<(ToolCall, Option<InputProblem>), CliError> {
    let text = match given {
        Some(text) if text != "-" => text.to_owned(),
        _ => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
    };
    match parse_call(&text) {
        Ok(call) => Ok((call, None)),
        Err(CallJsonError::Refused { call, problem }) => Ok((*call, Some(problem))),
        Err(invalid) => Err(invalid.to_string().into()),
    }
}

/// Opens the audit log in `dir` in strict mode, telling the user when its key had to be
/// generated inside the log directory.
pub(crate) fn open_audit_log(
    dir: &std::path::Path,
    key: Option<&std::path::Path>,
) -> Result<AuditLog, CliError> {
    let (signer, source) = NoteSigner::for_log(dir, key)?;
    if let KeySource::Generated(path) = &source {
        eprintln!(
            "aims: no --key or {SIGNING_KEY_ENV}: generated {} to sign the audit log's \
             checkpoints. A key kept beside the log proves integrity only against outsiders; \
             keep the key elsewhere and give auditors {}.pub",
            path.display(),
            path.display()
        );
    }
    Ok(AuditLog::open(
        dir,
        LogOptions::new(signer).durability(Durability::Strict),
    )?)
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let policy = Policy::from_file(&args.policy)?;
    let (call, refused) = read_call(args.call.as_deref())?;
    let decide = |guard: &Guard| match &refused {
        Some(problem) => guard.refuse(&call, problem),
        None => guard.check(&call),
    };
    let builder = Guard::builder(policy).shadow(args.shadow);
    let (decision, masked) = match &args.log {
        Some(dir) => {
            let (file, state) = LimitFile::open(dir)?;
            // Opened under the limits lock, so concurrent hooks take turns.
            let log = Arc::new(open_audit_log(dir, args.key.as_deref())?);
            let guard = builder.limit_state(state).sink(log.clone()).build();
            let decision = decide(&guard);
            let masked = masked_args(&guard, &decision, &call);
            file.save(&guard.limit_state()?)?;
            drop(guard);
            if let Ok(log) = Arc::try_unwrap(log) {
                log.close()?;
            }
            (decision, masked)
        }
        None => {
            let guard = builder.build();
            let decision = decide(&guard);
            let masked = masked_args(&guard, &decision, &call);
            (decision, masked)
        }
    };
    let mut printed = serde_json::to_value(&decision)?;
    if let (Some(args), Some(fields)) = (&masked, printed.as_object_mut()) {
        fields.insert("args".to_owned(), args.clone());
    }
    println!("{printed}");
    Ok(match (decision.may_proceed(), masked) {
        (true, Some(_)) => ExitCode::from(3),
        (true, None) => ExitCode::SUCCESS,
        (false, _) => ExitCode::from(1),
    })
}

/// The call's arguments with what a redact decision names masked; `None` for other verdicts
/// (and in shadow mode, where nothing is masked).
fn masked_args(guard: &Guard, decision: &Decision, call: &ToolCall) -> Option<serde_json::Value> {
    if decision.verdict != Verdict::Redact || decision.shadow {
        return None;
    }
    let mut args = call.args.clone();
    guard.apply_redactions(decision, &mut args);
    Some(args)
}

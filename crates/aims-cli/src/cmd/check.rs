//! `aims check`: decide one tool call with a policy, print the decision as JSON.
//!
//! Exit 0 when the call may proceed (allow, warn, redact), 1 when it may not (deny,
//! require_approval), 2 on a usage, policy or I/O error. This is how shell-driven agents use
//! aims as a pre-tool hook. With `--log DIR`, rate-limit and budget counters persist in
//! `DIR/limits.json` (locked while one process decides), so one process per call still
//! enforces them.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use aims_core::guard::{Guard, LimitFile, ToolCall};
use aims_core::policy::Policy;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (YAML, or JSON with a .json extension).
    #[arg(long)]
    policy: PathBuf,
    /// A directory for state kept between invocations (limit counters).
    #[arg(long)]
    log: Option<PathBuf>,
    /// Record and print the decision but exit 0 whatever it is.
    #[arg(long)]
    shadow: bool,
    /// The call as JSON (`{"agent_id": ..., "tool": ..., "args": {...}}`); `-` or nothing
    /// reads standard input.
    call: Option<String>,
}

/// Reads a call given inline, or from standard input for `-` or nothing.
pub(crate) fn read_call(given: Option<&str>) -> Result<ToolCall, CliError> {
    let text = match given {
        Some(text) if text != "-" => text.to_owned(),
        _ => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
    };
    serde_json::from_str(&text).map_err(|err| format!("invalid call JSON: {err}").into())
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let policy = Policy::from_file(&args.policy)?;
    let call = read_call(args.call.as_deref())?;
    let builder = Guard::builder(policy).shadow(args.shadow);
    let decision = match &args.log {
        Some(dir) => {
            let (file, state) = LimitFile::open(dir)?;
            let guard = builder.limit_state(state).build();
            let decision = guard.check(&call);
            file.save(&guard.limit_state()?)?;
            decision
        }
        None => builder.build().check(&call),
    };
    println!("{}", serde_json::to_string(&decision)?);
    Ok(if decision.may_proceed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

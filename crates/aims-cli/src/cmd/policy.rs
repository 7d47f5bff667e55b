//! `aims policy check|explain`: validate policy files, explain how a policy decides a call.

use std::path::PathBuf;
use std::process::ExitCode;

use aims_core::guard::Guard;
use aims_core::policy::{Policy, PolicyError};
use serde_json::Value;

use super::check::read_call;
use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Validate policy files: exit 0 when all are valid, 1 with `FILE:LINE:COL: message` lines
    /// when not.
    Check(CheckArgs),
    /// Print, as JSON, every rule of the policy and whether and why it applies to a call.
    Explain(ExplainArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The policy files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ExplainArgs {
    /// The policy file.
    file: PathBuf,
    /// The call as JSON (`{"agent_id": ..., "tool": ..., "args": {...}}`); `-` reads standard
    /// input.
    #[arg(long)]
    call: String,
    /// The tool's result as JSON, to explain the result rules instead of the call rules.
    #[arg(long)]
    result: Option<String>,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    match args.command {
        Command::Check(args) => check(args),
        Command::Explain(args) => explain(args),
    }
}

fn check(args: CheckArgs) -> Result<ExitCode, CliError> {
    let mut all_valid = true;
    for file in &args.files {
        match Policy::from_file(file) {
            Ok(policy) => println!(
                "{}: ok ({} rules, version {})",
                file.display(),
                policy.rules().len(),
                policy.version()
            ),
            Err(err @ PolicyError::Invalid { .. }) => {
                println!("{err}");
                all_valid = false;
            }
            Err(err @ PolicyError::Io { .. }) => return Err(err.into()),
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn explain(args: ExplainArgs) -> Result<ExitCode, CliError> {
    let policy = Policy::from_file(&args.file)?;
    let (call, refused) = read_call(Some(&args.call))?;
    if let Some(problem) = refused {
        return Err(format!("the guard refuses this call: {problem}").into());
    }
    let result: Option<Value> = args
        .result
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|err| format!("invalid result JSON: {err}"))?;
    let guard = Guard::builder(policy).build();
    let explanation = guard.explain(&call, result.as_ref());
    println!("{}", serde_json::to_string_pretty(&explanation)?);
    Ok(ExitCode::SUCCESS)
}

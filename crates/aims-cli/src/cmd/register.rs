//! `aims register check DIR`: load and validate an AIMS register directory.
//!
//! Prints one finding per line as `FILE:LINE:COL: severity code: message`, or all findings as
//! a JSON array with `--json`. With `--policy FILE`, also checks the references between the
//! register and that guard policy. Exit 0 when there is no error (warnings allowed), 1 when
//! there is, 2 when the directory or the policy cannot be read.

use std::path::PathBuf;
use std::process::ExitCode;

use aims_core::model::{load_dir, Finding, LoadError};
use aims_core::policy::Policy;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Validate a register directory: ids, SoA coverage, risks, incidents, reviews.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The register directory (one YAML or JSON file per section).
    dir: PathBuf,
    /// Print the findings as a JSON array.
    #[arg(long)]
    json: bool,
    /// Also check the register against this guard policy: SoA `policy:<rule-id>` entries and
    /// checkpoint triggers name its rules, and its rules' checkpoints exist in the register.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    match args.action {
        Action::Check(check) => run_check(check),
    }
}

fn run_check(args: CheckArgs) -> Result<ExitCode, CliError> {
    let policy = args.policy.as_deref().map(Policy::from_file).transpose()?;
    let findings = match load_dir(&args.dir) {
        Ok(loaded) => {
            let mut findings = loaded.validate();
            if let Some(policy) = &policy {
                findings.extend(loaded.check_policy(policy));
            }
            findings
        }
        Err(LoadError::Invalid(findings)) => findings,
        Err(err @ LoadError::Io { .. }) => return Err(err.into()),
    };
    let errors = findings.iter().filter(|finding| finding.is_error()).count();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else {
        print_text(&args.dir, &findings, errors);
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_text(dir: &std::path::Path, findings: &[Finding], errors: usize) {
    for finding in findings {
        println!("{finding}");
    }
    let warnings = findings.len() - errors;
    let verdict = if errors == 0 { "ok" } else { "not acceptable" };
    println!(
        "{}: {verdict}: {errors} error(s), {warnings} warning(s)",
        dir.display()
    );
}

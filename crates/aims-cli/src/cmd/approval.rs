//! `aims approval list|show|approve|reject|keygen`: approvers working on an agent's oversight
//! store from another process.
//!
//! A vote is signed with the approver's key (`--key`, or the file named by
//! `AIMS_APPROVER_KEY`): the agent's runtime counts it only when the signature verifies
//! against a key it trusts (its `approvals.approver_keys`, where a key's name is the
//! approver's id, or a runtime key), and records it in its own signed audit log when it runs
//! the approved call. This process writes no audit log: the log has one writer, the agent.
//!
//! Exit codes: 0 done, 1 refused (role not allowed, self-approval, second vote, window closed,
//! not pending) or not found, 2 usage or I/O error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::MemorySink;
use aims_core::oversight::approvals::normalize_identity;
use aims_core::oversight::{
    ApprovalError, ApprovalKeys, ApprovalRequest, ApprovalStatus, Approvals, OversightStore,
};
use time::format_description::well_known::Rfc3339;

use super::CliError;

/// The environment variable naming the approver's signing key file.
const APPROVER_KEY_ENV: &str = "AIMS_APPROVER_KEY";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The oversight store (the SQLite file the agent's runtime uses).
    #[arg(long, global = true, default_value = "aims-oversight.db")]
    store: PathBuf,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// List approval requests (pending ones unless --status or --all).
    List(ListArgs),
    /// Show one request: the call it is bound to, its rules, votes and status.
    Show(ShowArgs),
    /// Approve a pending request.
    Approve(VoteArgs),
    /// Reject a pending request.
    Reject(VoteArgs),
    /// Make an approver's signing key (NAME is the approver's id) and its `.pub` file.
    Keygen(KeygenArgs),
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only requests in this status (pending, approved, rejected, expired, executed).
    #[arg(long, value_parser = status, conflicts_with = "all")]
    status: Option<ApprovalStatus>,
    /// Every request, whatever its status.
    #[arg(long)]
    all: bool,
    /// Print them as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The request id (apr_...).
    id: String,
    /// Print it as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct VoteArgs {
    /// The request id (apr_...).
    id: String,
    /// Who votes (the approver's id; compared trimmed, NFKC, case-folded).
    #[arg(long)]
    by: String,
    /// The role they vote in (one of the request's approver roles).
    #[arg(long)]
    role: String,
    /// A note (PII and secrets are masked before it is stored).
    #[arg(long)]
    note: Option<String>,
    /// The approver's signing key; else the file named by AIMS_APPROVER_KEY.
    #[arg(long)]
    key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct KeygenArgs {
    /// The approver's id, which names the key.
    #[arg(long)]
    by: String,
    /// The private key file to create (mode 0600; `FILE.pub` holds the public key).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    if let Action::Keygen(keygen) = args.action {
        return run_keygen(keygen);
    }
    if !args.store.exists() {
        return Err(format!("no oversight store at {}", args.store.display()).into());
    }
    let store = Arc::new(OversightStore::open(&args.store)?);
    // The agent's log records the steps; what this process would record goes nowhere.
    let approvals = Approvals::new(store, Arc::new(MemorySink::bounded(64)))?;
    match args.action {
        Action::List(list) => run_list(&approvals, list),
        Action::Show(show) => run_show(&approvals, show),
        Action::Approve(vote) => run_vote(approvals, vote, true),
        Action::Reject(vote) => run_vote(approvals, vote, false),
        Action::Keygen(_) => unreachable!("handled above"),
    }
}

fn run_list(approvals: &Approvals, args: ListArgs) -> Result<ExitCode, CliError> {
    let status = match (args.all, args.status) {
        (true, _) => None,
        (false, Some(status)) => Some(status),
        (false, None) => Some(ApprovalStatus::Pending),
    };
    let requests = approvals.list(status)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&requests)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<25} {:<9} {:<20} {:<16} {:<20} {:<6} EXPIRES",
        "ID", "STATUS", "CHECKPOINT", "AGENT", "TOOL", "VOTES"
    );
    for request in &requests {
        println!(
            "{:<25} {:<9} {:<20} {:<16} {:<20} {:<6} {}",
            request.id,
            request.status,
            request.checkpoint,
            request.agent_id,
            request.tool,
            format!("{}/{}", request.approvals(), request.required_approvals),
            request.expires_at.format(&Rfc3339)?
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_show(approvals: &Approvals, args: ShowArgs) -> Result<ExitCode, CliError> {
    let request = match approvals.get(&args.id) {
        Ok(request) => request,
        Err(missing @ ApprovalError::UnknownRequest(_)) => {
            eprintln!("aims: {missing}");
            return Ok(ExitCode::from(1));
        }
        Err(other) => return Err(other.into()),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&request)?);
    } else {
        print!("{}", serde_yaml_ng::to_string(&request)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_vote(approvals: Approvals, args: VoteArgs, approve: bool) -> Result<ExitCode, CliError> {
    let key_path = args
        .key
        .or_else(|| std::env::var_os(APPROVER_KEY_ENV).map(PathBuf::from))
        .ok_or("a vote must be signed: give --key FILE (or set AIMS_APPROVER_KEY); `aims approval keygen` makes one")?;
    let signer = NoteSigner::read(&key_path)?;
    if normalize_identity(signer.name()) != normalize_identity(&args.by) {
        eprintln!(
            "aims: note: key {:?} is not named after approver {:?}: the agent counts this vote \
             only if it trusts the key as a runtime key",
            signer.name(),
            args.by
        );
    }
    let approvals = approvals.with_keys(ApprovalKeys::new(signer));
    let note = args.note.as_deref();
    let voted = if approve {
        approvals.approve(&args.id, &args.by, &args.role, note)
    } else {
        approvals.reject(&args.id, &args.by, &args.role, note)
    };
    match voted {
        Ok(request) => {
            println!("{}", summary(&request));
            Ok(ExitCode::SUCCESS)
        }
        Err(err) if is_refusal(&err) => {
            eprintln!("aims: {err}");
            Ok(ExitCode::from(1))
        }
        Err(other) => Err(other.into()),
    }
}

fn run_keygen(args: KeygenArgs) -> Result<ExitCode, CliError> {
    let name = args.by.trim();
    let signer = NoteSigner::generate(name)?;
    let pub_path = signer.write(&args.out)?;
    println!("{}", signer.verifier());
    eprintln!(
        "aims: wrote {} (keep it private) and {}: add the .pub file to the agent's \
         approvals.approver_keys",
        args.out.display(),
        pub_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// One line about a request after a vote: `apr_...: approved (2/2 approvals)`.
fn summary(request: &ApprovalRequest) -> String {
    format!(
        "{}: {} ({}/{} approvals)",
        request.id,
        request.status,
        request.approvals(),
        request.required_approvals
    )
}

/// Whether an approval error is the rules refusing the vote (exit 1) rather than a failure.
fn is_refusal(err: &ApprovalError) -> bool {
    matches!(
        err,
        ApprovalError::UnknownRequest(_)
            | ApprovalError::Expired(_)
            | ApprovalError::NotPending { .. }
            | ApprovalError::RoleNotAllowed { .. }
            | ApprovalError::SelfApproval(_)
            | ApprovalError::AlreadyVoted(_)
            | ApprovalError::BlankIdentity(_)
    )
}

fn status(text: &str) -> Result<ApprovalStatus, String> {
    ApprovalStatus::from_name(text).ok_or_else(|| {
        format!(
            "unknown status {text:?}: expected pending, approved, rejected, expired or executed"
        )
    })
}

//! `aims mcp proxy`: the MCP gateway. Fronts a downstream MCP server and decides every
//! `tools/call` with the policy before the server sees it (`docs/mcp.md`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aims_core::runtime::{DurabilityMode, Runtime, RuntimeConfig};
use aims_gateway::guarded::Gate;
use aims_gateway::mcp::{Approver, Downstream, ProxyOptions};

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Serve MCP on stdio (or Streamable HTTP with --listen) in front of a downstream server.
    Proxy(ProxyArgs),
}

#[derive(Debug, clap::Args)]
struct ProxyArgs {
    /// The policy file (YAML, or JSON with a .json extension).
    #[arg(long)]
    policy: PathBuf,
    /// The audit log directory (created if missing); without one, records stay in memory.
    #[arg(long)]
    log: Option<PathBuf>,
    /// The audit log's checkpoint signing key; else AIMS_SIGNING_KEY; else one generated in
    /// the log directory.
    #[arg(long, requires = "log")]
    key: Option<PathBuf>,
    /// The oversight store (SQLite file): require_approval opens a request there.
    #[arg(long)]
    oversight_store: Option<PathBuf>,
    /// The agent id calls are decided for; default: the client's clientInfo.name.
    #[arg(long)]
    agent: Option<String>,
    /// List every tool, also those the policy denies outright for the agent.
    #[arg(long)]
    show_denied_tools: bool,
    /// Who approves at the client when it supports elicitation (with --approver-role).
    #[arg(long, requires_all = ["approver_role", "oversight_store"])]
    approver: Option<String>,
    /// The approver's role, one of the checkpoint's approver roles.
    #[arg(long, requires = "approver")]
    approver_role: Option<String>,
    /// The largest client message read, in bytes; longer ones are dropped unread.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_message_bytes: usize,
    /// How durable a record is before the call goes on: strict (fsync each), batched (group
    /// commit, the default) or none (fsynced on checkpoint and exit; a crash loses the tail).
    #[arg(long, value_enum, default_value = "batched")]
    durability: Durability,
    /// Serve MCP over Streamable HTTP on this address (e.g. 127.0.0.1:8931) instead of stdio.
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// A Streamable HTTP downstream server instead of a command.
    #[arg(long, conflicts_with = "command")]
    upstream: Option<String>,
    /// The downstream server's command and arguments, after `--`.
    #[arg(last = true)]
    command: Vec<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Durability {
    Strict,
    Batched,
    None,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let Command::Proxy(args) = args.command;
    let downstream = match (&args.upstream, args.command.is_empty()) {
        (Some(url), _) => Downstream::Url(url.clone()),
        (None, false) => Downstream::Command(args.command.clone()),
        (None, true) => {
            return Err("give the downstream server: `-- COMMAND ARGS...` or --upstream URL".into())
        }
    };
    let runtime = Runtime::open(RuntimeConfig {
        policy_path: Some(args.policy.clone()),
        audit_dir: args.log.clone(),
        signing_key: args.key.clone(),
        durability: match args.durability {
            Durability::Strict => DurabilityMode::Strict,
            Durability::Batched => DurabilityMode::Batched,
            Durability::None => DurabilityMode::None,
        },
        oversight_store: args.oversight_store.clone(),
        ..RuntimeConfig::default()
    })?;
    let approver = match (args.approver, args.approver_role) {
        (Some(id), Some(role)) => Some(Approver { id, role }),
        _ => None,
    };
    let options = ProxyOptions {
        downstream,
        agent: args.agent,
        hide_denied_tools: !args.show_denied_tools,
        approver,
        max_message_bytes: args.max_message_bytes,
    };
    aims_gateway::mcp::run(Arc::new(Gate::new(runtime)), options, args.listen)
        .map_err(|err| err.to_string())?;
    Ok(ExitCode::SUCCESS)
}

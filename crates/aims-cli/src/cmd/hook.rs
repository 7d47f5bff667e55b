//! `aims hook AGENT`: a coding agent's tool-call hook. Reads the agent's hook JSON on stdin,
//! decides the call with the policy, records it, and answers in the agent's hook protocol
//! (`docs/hooks.md`). Every error blocks the call the way that protocol blocks.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use aims_core::runtime::{DurabilityMode, Runtime, RuntimeConfig};
use aims_gateway::guarded::Gate;
use aims_gateway::hook::{answer, Agent, MAX_INPUT_BYTES};

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The coding agent whose hook protocol to answer.
    #[arg(value_enum)]
    agent: AgentName,
    /// The policy file (YAML, or JSON with a .json extension).
    #[arg(long)]
    policy: PathBuf,
    /// The audit log directory; every decision is fsynced there before the answer.
    #[arg(long)]
    log: Option<PathBuf>,
    /// The audit log's checkpoint signing key; else AIMS_SIGNING_KEY; else one generated in
    /// the log directory.
    #[arg(long, requires = "log")]
    key: Option<PathBuf>,
    /// The oversight store (SQLite file): require_approval opens a request there.
    #[arg(long)]
    oversight_store: Option<PathBuf>,
    /// The agent id calls are decided for; default: the coding agent's name.
    #[arg(long)]
    agent_id: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AgentName {
    ClaudeCode,
    Codex,
    Gemini,
    Cursor,
    Copilot,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let agent = match args.agent {
        AgentName::ClaudeCode => Agent::ClaudeCode,
        AgentName::Codex => Agent::Codex,
        AgentName::Gemini => Agent::Gemini,
        AgentName::Cursor => Agent::Cursor,
        AgentName::Copilot => Agent::Copilot,
    };
    let mut input = Vec::new();
    // One byte past the bound tells an oversized input from one that fits.
    let read = std::io::stdin()
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut input);
    if read.is_err() {
        input.clear();
    }
    let agent_id = args
        .agent_id
        .clone()
        .unwrap_or_else(|| agent.default_agent_id().to_owned());
    let reply = answer(agent, &agent_id, &input, || {
        let runtime = Runtime::open(RuntimeConfig {
            policy_path: Some(args.policy.clone()),
            audit_dir: args.log.clone(),
            signing_key: args.key.clone(),
            durability: DurabilityMode::Strict,
            oversight_store: args.oversight_store.clone(),
            ..RuntimeConfig::default()
        })
        .map_err(|err| err.to_string())?;
        Ok(Gate::new(runtime))
    });
    print!("{}", reply.stdout);
    std::io::stdout().flush()?;
    if !reply.stderr.is_empty() {
        eprintln!("{}", reply.stderr);
    }
    Ok(ExitCode::from(reply.exit_code))
}

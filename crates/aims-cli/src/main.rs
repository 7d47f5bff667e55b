//! `aims`: the command line of the aims SDK.
//!
//! Exit codes are shared by every subcommand: 0 success, 1 the thing checked is not
//! acceptable (findings, a denied call, a broken log), 2 usage or I/O error.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// ISO/IEC 42001 controls that run: registers, policies, audit logs, PII and evidence.
#[derive(Debug, Parser)]
#[command(name = "aims", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List, show, approve and reject approval requests in an oversight store (approvers).
    Approval(cmd::approval::Args),
    /// Keys for, offline verification of, and proofs from the tamper-evident audit log.
    Audit(cmd::audit::Args),
    /// Print the ISO/IEC 42001 clauses and the 38 Annex A controls.
    Catalog(cmd::catalog::Args),
    /// The main job: a scripted agent session through the guard, then offline verification.
    Demo(cmd::demo::Args),
    /// Decide one tool call with a policy (a pre-tool hook): exit 0 proceed, 1 blocked.
    Check(cmd::check::Args),
    /// A coding agent's tool-call hook (Claude Code, Codex, Gemini CLI, Cursor, Copilot CLI).
    Hook(cmd::hook::Args),
    /// List, show, update and export the incidents in an oversight store.
    Incident(cmd::incident::Args),
    /// The MCP gateway: `aims mcp proxy -- SERVER...` guards a downstream MCP server's tools.
    Mcp(cmd::mcp::Args),
    /// Find or mask PII and secrets (emails, cards, IBANs, national ids, keys, tokens).
    Pii(cmd::pii::Args),
    /// Validate guard policies and explain their decisions.
    Policy(cmd::policy::Args),
    /// Build the auditor's evidence pack (HTML, JSON, OSCAL, signed manifest), or verify one.
    Report(cmd::report::Args),
    /// Work with an AIMS register directory (`aims register check DIR`).
    Register(cmd::register::Args),
    /// Print or write the JSON Schemas of the register's types.
    Schema(cmd::schema::Args),
    /// Run a witness that cosigns audit log checkpoints only when they extend the last one.
    Witness(cmd::witness::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Approval(args) => cmd::approval::run(args),
        Command::Audit(args) => cmd::audit::run(args),
        Command::Catalog(args) => cmd::catalog::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Hook(args) => cmd::hook::run(args),
        Command::Incident(args) => cmd::incident::run(args),
        Command::Mcp(args) => cmd::mcp::run(args),
        Command::Pii(args) => cmd::pii::run(args),
        Command::Policy(args) => cmd::policy::run(args),
        Command::Register(args) => cmd::register::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Schema(args) => cmd::schema::run(args),
        Command::Witness(args) => cmd::witness::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("aims: error: {err}");
            ExitCode::from(2)
        }
    }
}

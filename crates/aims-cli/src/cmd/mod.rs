//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> Result<ExitCode>`;
//! an `Err` is a usage or I/O error and exits 2.

pub mod approval;
pub mod audit;
pub mod catalog;
pub mod check;
pub mod demo;
pub mod hook;
pub mod incident;
pub mod mcp;
pub mod pii;
pub mod policy;
pub mod publish;
pub mod register;
pub mod report;
pub mod schema;
pub mod witness;

/// A usage or I/O error: printed on stderr, exit code 2.
pub type CliError = Box<dyn std::error::Error>;

//! `aims witness keygen|serve`: the witness an auditor runs beside (never inside) the system
//! that writes the audit log. It cosigns a log's checkpoints per C2SP `tlog-witness` only when
//! they extend the last one it cosigned, so a rolled-back or rewritten log loses its
//! cosignatures.
//!
//! Exit codes: 0 ok, 2 usage or I/O error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aims_core::audit::keys::{KeyError, NoteVerifier};
use aims_core::audit::witness::{
    require_quorum, CosignerKey, CosignerVerifier, Witness, WitnessServer,
};
use aims_core::audit::{AuditError, Integrity};

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Write a new witness key (Ed25519 cosignature/v1) to KEY (mode 0600) and its verifier
    /// key to KEY.pub, which log writers and auditors configure.
    Keygen(KeygenArgs),
    /// Serve `POST <prefix>/add-checkpoint` until stopped.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct KeygenArgs {
    /// Where to write the private key; the verifier key goes to the same path plus `.pub`.
    #[arg(long)]
    out: PathBuf,
    /// The witness's name, which appears in its cosignature lines (a schema-less URL is
    /// customary, e.g. `witness.example.com/w1`).
    #[arg(long)]
    name: String,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The witness's private key (from `aims witness keygen`).
    #[arg(long)]
    key: PathBuf,
    /// A log to follow: its origin (the first line of its checkpoint file), `=`, and the
    /// file of its checkpoint verifier key. Repeat for more logs, or for more keys of one log.
    #[arg(long = "log-key", value_name = "ORIGIN=PUBFILE", required = true)]
    log_keys: Vec<String>,
    /// The directory where the witness remembers, per log, the newest checkpoint it cosigned.
    #[arg(long)]
    state: PathBuf,
    /// The address to listen on; port 0 picks a free one (the address is printed).
    #[arg(long, default_value = "127.0.0.1:7380")]
    listen: String,
    /// The URL path prefix before `/add-checkpoint`.
    #[arg(long, default_value = "")]
    prefix: String,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    match args.command {
        Command::Keygen(args) => {
            let key = CosignerKey::generate(&args.name)?;
            let public = key.write(&args.out)?;
            println!("private key: {} (mode 0600)", args.out.display());
            println!("public key:  {} ({})", public.display(), key.verifier());
        }
        Command::Serve(args) => serve(args)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(args: ServeArgs) -> Result<(), CliError> {
    let key = CosignerKey::read(&args.key)?;
    let mut logs = Vec::new();
    for spec in &args.log_keys {
        let (origin, file) = spec
            .split_once('=')
            .filter(|(origin, file)| !origin.is_empty() && !file.is_empty())
            .ok_or_else(|| format!("--log-key {spec:?}: expected ORIGIN=PUBFILE"))?;
        logs.push((origin.to_string(), NoteVerifier::read(file.as_ref())?));
    }
    if !args.prefix.is_empty() && !args.prefix.starts_with('/') {
        return Err(format!("--prefix {:?}: it must start with '/'", args.prefix).into());
    }
    let name = key.name().to_string();
    let witness = Witness::open(key, logs, &args.state)?;
    let server = WitnessServer::start(Arc::new(witness), &args.listen, &args.prefix)?;
    println!(
        "witness {name} listening on {}{}",
        server.url(),
        args.prefix
    );
    // Whoever started the witness (a script, a test) reads the address from this line.
    std::io::Write::flush(&mut std::io::stdout())?;
    server.wait();
    Ok(())
}

/// `--witness KEY.pub... --min-witnesses K` of `aims audit verify`.
#[derive(Debug, clap::Args)]
pub struct QuorumArgs {
    /// A witness's verifier key file (repeat for each witness you trust).
    #[arg(long = "witness", value_name = "KEYFILE")]
    keys: Vec<PathBuf>,
    /// How many of those witnesses must have cosigned the newest checkpoint (default: all
    /// given).
    #[arg(long, value_name = "K", requires = "keys")]
    min_witnesses: Option<usize>,
}

/// The witnesses required, read.
#[derive(Debug)]
pub struct Quorum {
    keys: Vec<CosignerVerifier>,
    required: usize,
}

impl QuorumArgs {
    /// Reads the key files (an error is a usage error, exit 2).
    pub fn read(&self) -> Result<Quorum, AuditError> {
        let keys = self
            .keys
            .iter()
            .map(|path| CosignerVerifier::read(path))
            .collect::<Result<Vec<_>, KeyError>>()?;
        let required = self.min_witnesses.unwrap_or(keys.len());
        if required > keys.len() {
            return Err(AuditError::Failed(format!(
                "--min-witnesses {required} is more than the {} --witness keys given",
                keys.len()
            )));
        }
        Ok(Quorum { keys, required })
    }
}

impl Quorum {
    /// Requires the quorum on the checkpoint `note`; missing cosignatures are an integrity
    /// failure (exit 1).
    pub fn check(&self, note: &str) -> Result<(), AuditError> {
        if self.keys.is_empty() {
            return Ok(());
        }
        let found = require_quorum(note, &self.keys, self.required)
            .map_err(|err| AuditError::Integrity(Integrity::whole(err.to_string())))?;
        let names: Vec<String> = found
            .iter()
            .map(|cosigned| format!("{} (at {})", cosigned.witness, cosigned.timestamp))
            .collect();
        println!(
            "ok: the checkpoint is cosigned by {} of {} witnesses: {}",
            found.len(),
            self.keys.len(),
            names.join(", ")
        );
        Ok(())
    }
}

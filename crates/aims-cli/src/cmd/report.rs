//! `aims report`: the auditor's evidence pack, and `aims report verify` for its manifest.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use aims_core::audit::keys::{NoteSigner, NoteVerifier};
use aims_core::audit::MemorySink;
use aims_core::model::{load_dir, Incident};
use aims_core::oversight::{Incidents, OversightStore};
use aims_core::report::{self, Period, ReportInputs};
use time::{Date, OffsetDateTime};

use super::CliError;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    verify: Option<Verify>,
    #[command(flatten)]
    build: BuildArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Verify {
    /// Check a pack's MANIFEST.sig with the signer's public key, then every file's hash.
    Verify {
        /// The pack directory.
        dir: PathBuf,
        /// The public key the manifest must be signed by.
        #[arg(long)]
        pubkey: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct BuildArgs {
    /// The AIMS register directory.
    #[arg(long)]
    register: Option<PathBuf>,
    /// An audit log directory, or a directory of them (one per replica); repeatable.
    #[arg(long = "log")]
    logs: Vec<PathBuf>,
    /// The auditor's trusted public key for the logs' checkpoints (default: each log's own).
    #[arg(long)]
    pubkey: Option<PathBuf>,
    /// An oversight store whose runtime incidents join the register's (repeatable: a fleet's
    /// stores; an incident in two of them counts once).
    #[arg(long)]
    oversight: Vec<PathBuf>,
    /// The key that signs MANIFEST.json, e.g. the log's own signing key, so that `aims report
    /// verify --pubkey` checks the pack with the key that checks the log (default:
    /// AIMS_SIGNING_KEY; else a new key is written beside the pack, which proves integrity
    /// only against outsiders). Without --pubkey, the logs are verified with its public half.
    #[arg(long)]
    key: Option<PathBuf>,
    /// The first day covered (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// The last day covered (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    /// The directory to write the pack to.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    match args.verify {
        Some(Verify::Verify { dir, pubkey }) => verify(&dir, &pubkey),
        None => build(args.build),
    }
}

fn verify(dir: &Path, pubkey: &Path) -> Result<ExitCode, CliError> {
    let key = NoteVerifier::read(pubkey)?;
    match report::verify_pack(dir, &key) {
        Ok(files) => {
            println!(
                "{}: intact ({files} files, signed by {})",
                dir.display(),
                key.name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problem) => {
            println!("{}: NOT INTACT: {problem}", dir.display());
            Ok(ExitCode::from(1))
        }
    }
}

fn build(args: BuildArgs) -> Result<ExitCode, CliError> {
    let (Some(register_dir), Some(out)) = (&args.register, &args.out) else {
        return Err(
            "aims report needs --register DIR and --out DIR (and usually --log DIR)".into(),
        );
    };
    let outcome = write(&PackRequest {
        register: register_dir,
        logs: &args.logs,
        pubkey: args.pubkey.as_deref(),
        oversight: &args.oversight,
        key: args.key.as_deref(),
        period: Period {
            from: args.from.as_deref().map(parse_day).transpose()?,
            to: args.to.as_deref().map(parse_day).transpose()?,
        },
        out,
    })?;
    Ok(outcome)
}

/// What to build a pack from; shared with `aims demo`.
#[derive(Debug)]
pub struct PackRequest<'a> {
    pub register: &'a Path,
    pub logs: &'a [PathBuf],
    pub pubkey: Option<&'a Path>,
    pub oversight: &'a [PathBuf],
    pub key: Option<&'a Path>,
    pub period: Period,
    pub out: &'a Path,
}

/// Builds and writes the pack, prints where it is; exit 1 when a log is not intact.
pub fn write(request: &PackRequest<'_>) -> Result<ExitCode, CliError> {
    let loaded = load_dir(request.register)?;
    let mut runtime_incidents: Vec<Incident> = Vec::new();
    for path in request.oversight {
        let store = Arc::new(OversightStore::open(path)?);
        for incident in Incidents::new(store, Arc::new(MemorySink::new())).list(None)? {
            if !runtime_incidents
                .iter()
                .any(|known| known.id == incident.id)
            {
                runtime_incidents.push(incident);
            }
        }
    }
    let inputs = ReportInputs {
        register: &loaded.register,
        runtime_incidents,
        logs: report::log_dirs(request.logs)?,
        // Given only the log's signing key, the logs are checked against its public half.
        public_key: match request.pubkey {
            Some(path) => Some(NoteVerifier::read(path)?),
            None => request
                .key
                .map(|key| NoteSigner::read(key).map(|signer| signer.verifier()))
                .transpose()?,
        },
        period: request.period,
        now: OffsetDateTime::now_utc(),
    };
    // Progress on a terminal only: a log of millions of records takes a while to verify.
    let on_terminal = std::io::stderr().is_terminal();
    let mut shown: Option<PathBuf> = None;
    let pack = report::build(&inputs, |log, read| {
        if !on_terminal || read == 0 {
            return;
        }
        if shown.as_deref().is_some_and(|previous| previous != log) {
            eprintln!();
        }
        eprint!("\r{}: {read} records read", log.display());
        shown = Some(log.to_path_buf());
    })?;
    if shown.is_some() {
        eprintln!();
    }
    let signer = match request.key {
        Some(path) => NoteSigner::read(path)?,
        None => match std::env::var_os("AIMS_SIGNING_KEY").filter(|v| !v.is_empty()) {
            Some(path) => NoteSigner::read(Path::new(&path))?,
            None => {
                // Beside the pack, not in it, so the manifest does not cover its own key.
                let key_path = request.out.with_extension("key");
                if !key_path.exists() {
                    NoteSigner::generate("aims-report")?.write(&key_path)?;
                }
                eprintln!(
                    "aims: no --key or AIMS_SIGNING_KEY: signed the manifest with {} (a key kept beside the pack proves integrity only against outsiders)",
                    key_path.display()
                );
                NoteSigner::read(&key_path)?
            }
        },
    };
    report::write_pack(&pack, request.out, &signer)?;
    let intact = !pack.logs.is_empty() && pack.logs.iter().all(|log| log.intact);
    println!(
        "evidence pack: {} ({} controls, {} decisions, {} incidents, {} gaps)",
        request.out.join("index.html").display(),
        pack.soa.len(),
        pack.metrics.decisions,
        pack.incidents.len(),
        pack.gaps.len()
    );
    if !intact {
        println!("WARNING: audit log verification FAILED; the pack says so on its first line");
        for log in pack.logs.iter().filter(|log| !log.intact) {
            println!(
                "  {}: {}",
                log.dir,
                log.problem.as_deref().unwrap_or("unknown problem")
            );
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_day(text: &str) -> Result<Date, CliError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format)
        .map_err(|err| format!("bad date {text:?} (expected YYYY-MM-DD): {err}").into())
}

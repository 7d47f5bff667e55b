//! `aims audit keygen|rotate|verify|prove|verify-proof|consistency|show|export`: keys for
//! and offline checks of the tamper-evident audit log (format: `docs/audit-format.md`).
//!
//! Exit codes: 0 intact / ok, 1 tampered, damaged, malformed (a log, a checkpoint, a proof)
//! or a proof that does not hold (the first bad index and why are printed), 2 usage or I/O
//! error only.

use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aims_core::audit::checkpoint::SignedCheckpoint;
use aims_core::audit::keys::{NoteSigner, NoteVerifier};
use aims_core::audit::proof::{ConsistencyProof, InclusionProof};
use aims_core::audit::{
    for_each_record, record, verify, AuditError, AuditEvent, AuditLog, Integrity, LogOptions,
    LogSnapshot, VerifyOptions,
};
use serde_json::Value;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Write a new Ed25519 checkpoint signing key to KEY (mode 0600) and its public key to
    /// KEY.pub.
    Keygen(KeygenArgs),
    /// Hand a log over to a new signing key: the old key endorses the new one in a
    /// `key_rotated` record, and the new key signs a checkpoint.
    Rotate(RotateArgs),
    /// Verify a log offline: every record, the chain, the signed checkpoint (exit 1 if not
    /// intact).
    Verify(VerifyArgs),
    /// Print the inclusion proof (JSON) of one record against the stored checkpoint.
    Prove(ProveArgs),
    /// Check an inclusion or consistency proof (JSON) with the public key.
    VerifyProof(VerifyProofArgs),
    /// Print the consistency proof (JSON) from an older checkpoint to the stored one (exit 1
    /// when the log does not extend the older checkpoint).
    Consistency(ConsistencyArgs),
    /// Print the records, one per line.
    Show(ShowArgs),
    /// Print every record as JSON lines.
    Export(ExportArgs),
    /// Verify the log, then write it in the C2SP tlog-tiles layout for tiles clients.
    Publish(super::publish::PublishArgs),
    /// Write a COSE receipt (RFC 9942, RFC9162_SHA256) of one record's inclusion to stdout.
    Receipt(super::publish::ReceiptArgs),
    /// Check a COSE receipt against the record and the log's public key.
    VerifyReceipt(super::publish::VerifyReceiptArgs),
}

#[derive(Debug, clap::Args)]
struct KeygenArgs {
    /// Where to write the private key; the public key goes to the same path plus `.pub`.
    #[arg(long)]
    out: PathBuf,
    /// The key name that appears in signed checkpoints.
    #[arg(long, default_value = "aims-audit")]
    name: String,
}

#[derive(Debug, clap::Args)]
struct RotateArgs {
    /// The log directory.
    dir: PathBuf,
    /// The key that signs the log now.
    #[arg(long)]
    old: PathBuf,
    /// The key that takes over.
    #[arg(long)]
    new: PathBuf,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The log directory.
    dir: PathBuf,
    /// The trusted public key (KEY.pub). Without it the log's own signer.pub is used, which
    /// proves nothing against someone who could rewrite the directory.
    #[arg(long)]
    pubkey: Option<PathBuf>,
    /// A checkpoint you kept earlier: the log must still contain it.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    #[command(flatten)]
    witnesses: super::witness::QuorumArgs,
}

#[derive(Debug, clap::Args)]
struct ProveArgs {
    /// The log directory.
    dir: PathBuf,
    /// The record's index.
    #[arg(long)]
    index: u64,
}

#[derive(Debug, clap::Args)]
struct VerifyProofArgs {
    /// The proof file (from `prove` or `consistency`); `-` for standard input.
    proof: PathBuf,
    /// The trusted public key (KEY.pub).
    #[arg(long)]
    pubkey: PathBuf,
    /// For a consistency proof: the older checkpoint you hold, whose root the proof must
    /// start from.
    #[arg(long)]
    old: Option<PathBuf>,
    /// The public key the older checkpoint is signed with, when the log's key was rotated
    /// since (default: --pubkey).
    #[arg(long, requires = "old")]
    old_pubkey: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ConsistencyArgs {
    /// The log directory.
    dir: PathBuf,
    /// The older checkpoint file.
    #[arg(long)]
    old: PathBuf,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The log directory.
    dir: PathBuf,
    /// The first index to show.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// One JSON record per line instead of a summary.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// The log directory.
    dir: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let outcome = match args.command {
        Command::Keygen(args) => keygen(args),
        Command::Rotate(args) => rotate(args),
        Command::Verify(args) => verify_log(args),
        Command::Prove(args) => prove(args),
        Command::VerifyProof(args) => verify_proof(args),
        Command::Consistency(args) => consistency(args),
        Command::Show(args) => list(&args.dir, args.from, args.json),
        Command::Export(args) => list(&args.dir, 0, true),
        Command::Publish(args) => super::publish::publish(&args),
        Command::Receipt(args) => super::publish::issue_receipt(&args),
        Command::VerifyReceipt(args) => super::publish::verify_receipt(&args),
    };
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(AuditError::Integrity(integrity)) => Ok(not_intact(&integrity)),
        // A malformed checkpoint is a format fault of the evidence, not a usage error.
        Err(err @ AuditError::Checkpoint { .. }) => {
            Ok(not_intact(&Integrity::whole(err.to_string())))
        }
        Err(err) => Err(err.into()),
    }
}

fn not_intact(integrity: &Integrity) -> ExitCode {
    match integrity.index {
        Some(index) => eprintln!(
            "aims: NOT intact: first bad index {index}: {}",
            integrity.reason
        ),
        None => eprintln!("aims: NOT intact: {}", integrity.reason),
    }
    ExitCode::from(1)
}

fn keygen(args: KeygenArgs) -> Result<(), AuditError> {
    let signer = NoteSigner::generate(&args.name)?;
    let public = signer.write(&args.out)?;
    println!("private key: {} (mode 0600)", args.out.display());
    println!("public key:  {} ({})", public.display(), signer.verifier());
    Ok(())
}

fn rotate(args: RotateArgs) -> Result<(), AuditError> {
    let old = NoteSigner::read(&args.old)?;
    let new = NoteSigner::read(&args.new)?;
    let log = AuditLog::open(&args.dir, LogOptions::new(new).rotate_from(old))?;
    let rotated = log.open_report().rotated_from.is_some();
    let key = log.verifier();
    log.close()?;
    if rotated {
        println!("rotated: {} is now signed by {key}", args.dir.display());
    } else {
        println!("{} is already signed by {key}", args.dir.display());
    }
    Ok(())
}

fn read_text(path: &Path) -> Result<String, AuditError> {
    if path == Path::new("-") {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(AuditError::io("<stdin>"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(AuditError::io(path))
}

fn read_checkpoint_file(path: &Path) -> Result<SignedCheckpoint, AuditError> {
    SignedCheckpoint::parse(&read_text(path)?).map_err(|source| AuditError::Checkpoint {
        path: path.to_path_buf(),
        source,
    })
}

fn verify_log(args: VerifyArgs) -> Result<(), AuditError> {
    let options = VerifyOptions {
        public_key: args.pubkey.as_deref().map(NoteVerifier::read).transpose()?,
        checkpoint: args.checkpoint.as_deref().map(read_text).transpose()?,
    };
    let quorum = args.witnesses.read()?;
    let report = verify(&args.dir, &options)?;
    if report.key_from_log {
        eprintln!(
            "aims: warning: no --pubkey: checked against the log's own signer.pub, which \
             proves nothing against someone who could rewrite the directory"
        );
    }
    if let Some(torn) = &report.torn_tail {
        eprintln!(
            "aims: warning: torn tail after record {} ({torn}): a crash; the next open \
             truncates it",
            report.records
        );
    }
    let unsigned = report.records - report.signed_size;
    println!(
        "ok: {} records ({} bytes) intact in {}; the signed checkpoint covers {}{}",
        report.records,
        report.bytes,
        report.origin,
        report.signed_size,
        report
            .external_size
            .map(|size| format!("; extends the given checkpoint of {size}"))
            .unwrap_or_default()
    );
    if unsigned > 0 {
        println!("note: the last {unsigned} records are not yet covered by a signed checkpoint");
    }
    quorum.check(&report.checkpoint)
}

fn print_json(value: &impl serde::Serialize) -> Result<(), AuditError> {
    let text = serde_json::to_string_pretty(value).map_err(|err| AuditError::Io {
        path: "<stdout>".into(),
        source: err.into(),
    })?;
    println!("{text}");
    Ok(())
}

fn prove(args: ProveArgs) -> Result<(), AuditError> {
    let snapshot = LogSnapshot::open(&args.dir)?;
    print_json(&snapshot.prove_inclusion(args.index)?)
}

fn consistency(args: ConsistencyArgs) -> Result<(), AuditError> {
    let old = read_checkpoint_file(&args.old)?;
    let snapshot = LogSnapshot::open(&args.dir)?;
    print_json(&snapshot.prove_consistency(&old)?)
}

fn verify_proof(args: VerifyProofArgs) -> Result<(), AuditError> {
    let key = NoteVerifier::read(&args.pubkey)?;
    let text = read_text(&args.proof)?;
    let bad_json = |err: serde_json::Error| {
        AuditError::Integrity(Integrity::whole(format!(
            "{} is neither an inclusion nor a consistency proof: {err}",
            args.proof.display()
        )))
    };
    let value: Value = serde_json::from_str(&text).map_err(bad_json)?;
    if value.get("record").is_some() {
        let proof: InclusionProof = serde_json::from_value(value).map_err(bad_json)?;
        proof.verify(&key).map_err(AuditError::Integrity)?;
        println!(
            "ok: record {} is in the log at signed size {}",
            proof.index, proof.tree_size
        );
        return Ok(());
    }
    let proof: ConsistencyProof = serde_json::from_value(value).map_err(bad_json)?;
    proof.verify(&key).map_err(AuditError::Integrity)?;
    if let Some(old) = &args.old {
        let old_key = match &args.old_pubkey {
            Some(path) => NoteVerifier::read(path)?,
            None => key,
        };
        let old = read_checkpoint_file(old)?;
        old.verify(&old_key)
            .map_err(|err| AuditError::Integrity(Integrity::whole(format!("old {err}"))))?;
        if old.checkpoint.size != proof.old_size
            || hex::encode(old.checkpoint.root) != proof.old_root
        {
            return Err(AuditError::Integrity(Integrity::whole(
                "the proof does not start from the given old checkpoint",
            )));
        }
    }
    println!(
        "ok: the tree of {} records is a prefix of the signed tree of {}",
        proof.old_size, proof.new_size
    );
    Ok(())
}

fn list(dir: &Path, from: u64, json: bool) -> Result<(), AuditError> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failure = None;
    for_each_record(dir, |index, payload| {
        if index < from || failure.is_some() {
            return;
        }
        let line = if json {
            String::from_utf8_lossy(payload).into_owned()
        } else {
            match record::decode(payload) {
                Ok(record) => summary(&record),
                Err(err) => format!("{index:>7}  <undecodable record: {err}>"),
            }
        };
        if let Err(err) = writeln!(out, "{line}") {
            failure = Some(err);
        }
    })?;
    match failure.map_or_else(|| out.flush(), Err) {
        // A closed pipe (`| head`) is not an error.
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(AuditError::Io {
            path: "<stdout>".into(),
            source: err,
        }),
        _ => Ok(()),
    }
}

fn summary(record: &record::Record) -> String {
    let what = match &record.event {
        AuditEvent::Decision(d) => format!(
            "decision    {} {} -> {:?} rules=[{}] controls=[{}]",
            d.agent_id,
            d.tool,
            d.verdict,
            d.rule_ids.join(","),
            d.control_ids.join(",")
        ),
        AuditEvent::Outcome(o) => format!(
            "outcome     {} {} {:?} {}us",
            o.agent_id, o.tool, o.status, o.duration_us
        ),
        AuditEvent::Approval(a) => format!(
            "approval    {} {} {} {}/{}",
            a.request_id, a.step, a.tool, a.approvals, a.required
        ),
        AuditEvent::Incident(i) => format!(
            "incident    {} {} {} {}",
            i.incident_id, i.step, i.severity, i.summary
        ),
        AuditEvent::Anomaly(a) => format!(
            "anomaly     {} {} {} {:.3} -> {:.3}",
            a.agent_id, a.signal, a.level, a.baseline_rate, a.current_rate
        ),
        AuditEvent::PolicyLoaded(p) => format!(
            "policy      {} from {} ({} rules)",
            p.policy_version, p.source, p.rules
        ),
        AuditEvent::Recovered(r) => format!(
            "recovered   dropped {} bytes of torn tail at byte {}",
            r.dropped_bytes, r.truncated_at
        ),
        AuditEvent::KeyRotated(k) => format!("key_rotated {} -> {}", k.previous_key, k.key),
        AuditEvent::Checkpoint(c) => {
            format!("checkpoint  size {} root {}", c.tree_size, c.root_hash)
        }
    };
    format!("{:>7}  {}  {what}", record.index, record.timestamp)
}

//! `aims pii scan|mask`: find or mask PII and secrets in a file or standard input.

use std::collections::BTreeSet;
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use aims_core::pii::{Entity, Finding, HashKey, MaskOperator, MaskPolicy, Scanner, ScannerConfig};
use serde_json::{json, Value};

use super::CliError;

/// The environment variable holding the key for `--op hash`.
const HASH_KEY_VAR: &str = "AIMS_PII_KEY";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Print the findings (exit 1 when there are any). Values are shown masked but for their
    /// last four characters.
    Scan(ScanArgs),
    /// Print the text with every finding masked.
    Mask(MaskArgs),
}

#[derive(Debug, clap::Args)]
struct Common {
    /// Only these entities, comma-separated (e.g. EMAIL_ADDRESS,CREDIT_CARD).
    #[arg(long, value_delimiter = ',')]
    entities: Vec<String>,
    /// The file to read; `-` or nothing for standard input.
    file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// A JSON array of {"entity", "start", "end", "validated"}, offsets in Unicode code points
    /// (Python string indices), end exclusive.
    #[arg(long, conflicts_with = "jsonl")]
    json: bool,
    /// Each input line is one JSON string; print one JSON array of findings per line, as
    /// `--json` does. For batch evaluation.
    #[arg(long)]
    jsonl: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Op {
    /// `<EMAIL_ADDRESS>`.
    Tag,
    /// `*` for every character.
    Mask,
    /// All but the last four letters and digits masked.
    Last4,
    /// A keyed hash token; the key is read from the AIMS_PII_KEY environment variable.
    Hash,
}

#[derive(Debug, clap::Args)]
struct MaskArgs {
    /// The masking operator.
    #[arg(long, value_enum, default_value = "tag")]
    op: Op,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    match args.command {
        Command::Scan(args) => scan(args),
        Command::Mask(args) => mask(args),
    }
}

fn scanner(common: &Common) -> Result<Scanner, CliError> {
    let entities = if common.entities.is_empty() {
        None
    } else {
        let parsed: Result<BTreeSet<Entity>, _> = common
            .entities
            .iter()
            .map(|name| name.trim().parse())
            .collect();
        Some(parsed?)
    };
    Ok(Scanner::new(ScannerConfig {
        entities,
        deny_list: Vec::new(),
    })?)
}

fn open(file: &Option<PathBuf>) -> Result<Box<dyn BufRead>, CliError> {
    match file {
        Some(path) if path.as_os_str() != "-" => {
            let file = std::fs::File::open(path)
                .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
            Ok(Box::new(std::io::BufReader::new(file)))
        }
        _ => Ok(Box::new(std::io::stdin().lock())),
    }
}

fn read_all(file: &Option<PathBuf>) -> Result<String, CliError> {
    let mut text = String::new();
    open(file)?.read_to_string(&mut text)?;
    Ok(text)
}

fn scan(args: ScanArgs) -> Result<ExitCode, CliError> {
    let scanner = scanner(&args.common)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut any = false;
    if args.jsonl {
        for (number, line) in open(&args.common.file)?.lines().enumerate() {
            let line = line?;
            let text: String = serde_json::from_str(&line)
                .map_err(|err| format!("line {}: expected a JSON string: {err}", number + 1))?;
            let findings = scanner.scan(&text);
            any |= !findings.is_empty();
            writeln!(out, "{}", findings_json(&text, &findings))?;
        }
    } else {
        let text = read_all(&args.common.file)?;
        let findings = scanner.scan(&text);
        any = !findings.is_empty();
        if args.json {
            writeln!(out, "{}", findings_json(&text, &findings))?;
        } else {
            for (finding, (line, column)) in findings.iter().zip(line_columns(&text, &findings)) {
                let preview = MaskOperator::KeepLast4
                    .replace(finding.entity, &text[finding.start..finding.end]);
                let check = if finding.validated {
                    "validated"
                } else {
                    "pattern"
                };
                writeln!(
                    out,
                    "{line}:{column}\t{}\t{check}\t{preview}",
                    finding.entity
                )?;
            }
        }
    }
    out.flush()?;
    Ok(if any {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn mask(args: MaskArgs) -> Result<ExitCode, CliError> {
    let scanner = scanner(&args.common)?;
    let operator = match args.op {
        Op::Tag => MaskOperator::Tag,
        Op::Mask => MaskOperator::Mask('*'),
        Op::Last4 => MaskOperator::KeepLast4,
        Op::Hash => {
            let key = std::env::var(HASH_KEY_VAR).map_err(|_| {
                format!("--op hash needs a key in the {HASH_KEY_VAR} environment variable")
            })?;
            MaskOperator::Hash(HashKey::new(key)?)
        }
    };
    let text = read_all(&args.common.file)?;
    let mut out = std::io::stdout().lock();
    out.write_all(scanner.mask(&text, &MaskPolicy::new(operator)).as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Findings as JSON with Unicode code point offsets.
fn findings_json(text: &str, findings: &[Finding]) -> Value {
    let offsets = code_point_offsets(text, findings);
    Value::Array(
        findings
            .iter()
            .zip(offsets)
            .map(|(finding, (start, end))| {
                json!({"entity": finding.entity, "start": start, "end": end, "validated": finding.validated})
            })
            .collect(),
    )
}

/// (start, end) of each finding in code points; findings are sorted by start and disjoint,
/// so one pass over the text converts them all.
fn code_point_offsets(text: &str, findings: &[Finding]) -> Vec<(usize, usize)> {
    let mut bytes_seen = 0;
    let mut chars_seen = 0;
    let mut to_chars = |byte: usize| {
        chars_seen += text[bytes_seen..byte].chars().count();
        bytes_seen = byte;
        chars_seen
    };
    findings
        .iter()
        .map(|finding| (to_chars(finding.start), to_chars(finding.end)))
        .collect()
}

/// 1-based line and column (in code points) of each finding's start.
fn line_columns(text: &str, findings: &[Finding]) -> Vec<(usize, usize)> {
    findings
        .iter()
        .map(|finding| {
            let head = &text[..finding.start];
            let line = head.matches('\n').count() + 1;
            let line_start = head.rfind('\n').map_or(0, |at| at + 1);
            (line, head[line_start..].chars().count() + 1)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_code_points() {
        let text = "é€ x a@b.io\nz 4111111111111111";
        let findings = Scanner::default().scan(text);
        assert_eq!(code_point_offsets(text, &findings), vec![(5, 11), (14, 30)]);
        assert_eq!(line_columns(text, &findings), vec![(1, 6), (2, 3)]);
    }
}

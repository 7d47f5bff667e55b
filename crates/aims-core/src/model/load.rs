//! Loading a register from a directory: one YAML (`.yaml`, `.yml`) or JSON (`.json`) file per
//! section, named after it (see [`Section`]). Other files (a README) are ignored.
//!
//! Every file is parsed twice: by serde (`serde_yaml_ng` or `serde_json`) into the typed
//! section, whose errors carry the line and column of the bad node, and by
//! [`SourceMap::parse`] for the positions later findings point at. A file that cannot be
//! parsed or has the wrong shape becomes a finding with its position; loading reports all such
//! findings at once instead of stopping at the first.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::finding::Finding;
use super::register::{Register, Section};
use super::source_map::{Position, SourceMap};
use super::validation::PolicyRules;

/// Finding code: a file is not well-formed YAML or JSON.
pub const PARSE_SYNTAX: &str = "parse.syntax";
/// Finding code: a file is well-formed but has the wrong shape (type, unknown or missing field).
pub const PARSE_TYPE: &str = "parse.type";
/// Finding code: a YAML or JSON file whose name is not a section.
pub const UNKNOWN_FILE: &str = "register.unknown_file";
/// Finding code: two files hold the same section (e.g. `soa.yaml` and `soa.json`).
pub const DUPLICATE_SECTION: &str = "register.duplicate_section";

/// A register loaded from files, with what is needed to point findings at them.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRegister {
    /// The typed register.
    pub register: Register,
    /// The file each section came from.
    pub sources: Sources,
}

impl LoadedRegister {
    /// Validates the register now; findings carry file, line and column.
    pub fn validate(&self) -> Vec<Finding> {
        self.validate_at(OffsetDateTime::now_utc())
    }

    /// Validates the register as of `now` (deadlines and reviews are judged against it).
    pub fn validate_at(&self, now: OffsetDateTime) -> Vec<Finding> {
        self.located(self.register.validate_at(now))
    }

    /// Checks the references between the register and a guard policy
    /// (see [`Register::check_policy`]); findings carry file, line and column.
    pub fn check_policy(&self, policy: &dyn PolicyRules) -> Vec<Finding> {
        self.located(self.register.check_policy(policy))
    }

    /// Adds file, line and column, and sorts by them (stable, so rule order breaks ties).
    fn located(&self, findings: Vec<Finding>) -> Vec<Finding> {
        let mut findings: Vec<Finding> = findings
            .into_iter()
            .map(|finding| self.sources.locate(finding))
            .collect();
        findings.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        findings
    }
}

/// The files a register was loaded from, by section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    files: BTreeMap<Section, SourceFile>,
}

/// One loaded file.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// The path, as found under the register directory.
    pub path: PathBuf,
    /// Node positions by JSON pointer.
    pub map: SourceMap,
}

impl Sources {
    /// The file a section came from.
    pub fn file(&self, section: Section) -> Option<&SourceFile> {
        self.files.get(&section)
    }

    /// Fills in the file, line and column of a finding about a loaded section.
    pub fn locate(&self, finding: Finding) -> Finding {
        let Some(source) = finding.section.and_then(|section| self.files.get(&section)) else {
            return finding;
        };
        let position = source.map.position(&finding.pointer);
        Finding {
            file: Some(source.path.display().to_string()),
            ..finding
        }
        .at(position)
    }
}

/// Why a register directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The directory or a file in it could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Files could not be parsed or have the wrong shape; each finding says where.
    #[error("{} register file problem(s), first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<Finding>),
}

/// The file formats a section may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Yaml,
    Json,
}

impl Format {
    fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Loads every section file of the register in `dir`.
pub fn load_dir(dir: &Path) -> Result<LoadedRegister, LoadError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoadError::Io { path, source }
    };
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        if let Some(format) = Format::of(&path).filter(|_| path.is_file()) {
            paths.push((path, format));
        }
    }
    // Deterministic order, so findings come out the same on every machine.
    paths.sort_by(|(a, _), (b, _)| a.cmp(b));

    let mut register = Register::default();
    let mut sources = Sources::default();
    let mut problems = Vec::new();
    for (path, format) in paths {
        let shown = path.display().to_string();
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("");
        let Some(section) = Section::from_name(stem) else {
            problems.push(Finding::file_error(
                UNKNOWN_FILE,
                None,
                shown,
                None,
                format!(
                    "`{stem}` is not a register section (expected one of: {})",
                    section_names()
                ),
            ));
            continue;
        };
        if let Some(earlier) = sources.files.get(&section) {
            problems.push(Finding::file_error(
                DUPLICATE_SECTION,
                Some(section),
                shown,
                None,
                format!(
                    "section `{}` is already loaded from {}",
                    section.name(),
                    earlier.path.display()
                ),
            ));
            continue;
        }
        let text = fs::read_to_string(&path).map_err(io_error(&path))?;
        // Editors on Windows save a byte order mark; it is not part of the document.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        match load_section(&mut register, section, text, format) {
            Ok(map) => {
                sources.files.insert(section, SourceFile { path, map });
            }
            Err(problem) => {
                problems.push(Finding::file_error(
                    problem.code,
                    Some(section),
                    shown,
                    problem.position,
                    problem.message,
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(LoadedRegister { register, sources })
    } else {
        Err(LoadError::Invalid(problems))
    }
}

fn section_names() -> String {
    Section::ALL.map(Section::name).join(", ")
}

/// A file that could not be turned into its section.
struct ParseProblem {
    code: &'static str,
    message: String,
    position: Option<Position>,
}

/// Parses `text` into `section` of `register`; returns the file's source map.
fn load_section(
    register: &mut Register,
    section: Section,
    text: &str,
    format: Format,
) -> Result<SourceMap, ParseProblem> {
    let map = match (SourceMap::parse(text), format) {
        (Ok(map), _) => map,
        (Err(err), Format::Yaml) => {
            return Err(ParseProblem {
                code: PARSE_SYNTAX,
                message: err.message,
                position: Some(err.position),
            });
        }
        // serde_json is the authority on JSON syntax; without a map, findings in this file
        // carry no position.
        (Err(_), Format::Json) => SourceMap::default(),
    };
    // An empty YAML file (or one holding only comments) is an empty section.
    if format == Format::Yaml && map.position("").is_none() {
        return Ok(map);
    }
    fill_section(register, section, text, format)?;
    Ok(map)
}

/// Deserializes `text` as `section` and stores it in `register`.
fn fill_section(
    register: &mut Register,
    section: Section,
    text: &str,
    format: Format,
) -> Result<(), ParseProblem> {
    match section {
        Section::AiPolicy => register.ai_policy = Some(parse(text, format)?),
        Section::RiskCriteria => register.risk_criteria = parse(text, format)?,
        Section::Systems => register.systems = parse(text, format)?,
        Section::Soa => register.soa = parse(text, format)?,
        Section::Risks => register.risks = parse(text, format)?,
        Section::ImpactAssessments => register.impact_assessments = parse(text, format)?,
        Section::Oversight => register.oversight = parse(text, format)?,
        Section::Incidents => register.incidents = parse(text, format)?,
        Section::Nonconformities => register.nonconformities = parse(text, format)?,
        Section::CorrectiveActions => register.corrective_actions = parse(text, format)?,
        Section::InternalAudits => register.internal_audits = parse(text, format)?,
        Section::ManagementReviews => register.management_reviews = parse(text, format)?,
        Section::Evidence => register.evidence = parse(text, format)?,
    }
    Ok(())
}

/// Deserializes one section, turning serde's error into a problem with a position.
fn parse<T: DeserializeOwned>(text: &str, format: Format) -> Result<T, ParseProblem> {
    match format {
        Format::Yaml => serde_yaml_ng::from_str(text).map_err(|err| {
            let position = err.location().map(|location| Position {
                line: location.line(),
                column: location.column(),
            });
            let message = without_position_suffix(err.to_string());
            // serde_yaml_ng writes paths under a top-level sequence as `.[0].field`.
            let message = match message.strip_prefix('.') {
                Some(rest) if rest.starts_with('[') => rest.to_owned(),
                _ => message,
            };
            ParseProblem {
                code: PARSE_TYPE,
                message,
                position,
            }
        }),
        Format::Json => serde_json::from_str(text).map_err(|err| {
            let code = match err.classify() {
                serde_json::error::Category::Data => PARSE_TYPE,
                _ => PARSE_SYNTAX,
            };
            // serde_json reports column 0 when it fails before consuming a character.
            let position = (err.line() > 0).then(|| Position {
                line: err.line(),
                column: err.column().max(1),
            });
            ParseProblem {
                code,
                message: without_position_suffix(err.to_string()),
                position,
            }
        }),
    }
}

/// serde's messages end in ` at line L column C`; the finding carries those separately.
fn without_position_suffix(mut message: String) -> String {
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    message
}

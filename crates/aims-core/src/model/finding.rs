//! A problem found in a register: how bad, a stable code, a message, and where.

use std::fmt;

use serde::Serialize;

use super::register::Section;
use super::source_map::Position;

/// How bad a finding is. An error makes the register unacceptable; a warning does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSeverity {
    /// Worth attention (an overdue review, expired evidence).
    Warning,
    /// The register is not acceptable as it is.
    Error,
}

impl FindingSeverity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingSeverity::Warning => "warning",
            FindingSeverity::Error => "error",
        }
    }
}

/// One finding about a register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: FindingSeverity,
    /// A stable machine-readable code, e.g. `soa.missing_control`.
    pub code: &'static str,
    /// What is wrong, in words.
    pub message: String,
    /// The section concerned, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<Section>,
    /// The file the section came from, when the register was loaded from files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// JSON pointer to the node concerned, relative to the section (its file).
    pub pointer: String,
    /// 1-based line of that node, where the source has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column of that node, where the source has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Finding {
    /// An error about the node at `pointer` in `section`.
    pub fn error(
        code: &'static str,
        section: Section,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(FindingSeverity::Error, code, section, pointer, message)
    }

    /// A warning about the node at `pointer` in `section`.
    pub fn warning(
        code: &'static str,
        section: Section,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(FindingSeverity::Warning, code, section, pointer, message)
    }

    /// An error about a whole file that belongs to no section (an unknown file name) or that
    /// could not be parsed.
    pub fn file_error(
        code: &'static str,
        section: Option<Section>,
        file: impl Into<String>,
        position: Option<Position>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: FindingSeverity::Error,
            code,
            message: message.into(),
            section,
            file: Some(file.into()),
            pointer: String::new(),
            line: None,
            column: None,
        }
        .at(position)
    }

    fn new(
        severity: FindingSeverity,
        code: &'static str,
        section: Section,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            section: Some(section),
            file: None,
            pointer: pointer.into(),
            line: None,
            column: None,
        }
    }

    /// Sets the position.
    pub fn at(mut self, position: Option<Position>) -> Self {
        self.line = position.map(|position| position.line);
        self.column = position.map(|position| position.column);
        self
    }

    /// Whether this finding is an error.
    pub fn is_error(&self) -> bool {
        self.severity == FindingSeverity::Error
    }
}

/// `FILE:LINE:COL: severity code: message (at POINTER)`; parts the finding lacks are left out.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.section) {
            (Some(file), _) => f.write_str(file)?,
            (None, Some(section)) => f.write_str(section.name())?,
            (None, None) => f.write_str("register")?,
        }
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        write!(
            f,
            ": {} {}: {}",
            self.severity.as_str(),
            self.code,
            self.message
        )?;
        if !self.pointer.is_empty() {
            write!(f, " (at {})", self.pointer)?;
        }
        Ok(())
    }
}

//! The evidence pack: Statement of Applicability, clause 9 metrics, HTML, JSON and OSCAL.

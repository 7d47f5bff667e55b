//! The guard: decides every tool call an agent makes before it has any side effect.
//!
//! Owns the call and decision types, evaluation against a compiled [`crate::policy`],
//! fail-closed handling, shadow mode, metrics and the hand-off to an [`crate::audit::AuditSink`].

mod call;
mod decision;

pub use call::ToolCall;
pub use decision::{Decision, Phase, Reason, Redaction, Verdict};

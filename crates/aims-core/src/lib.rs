//! aims-core: ISO/IEC 42001 AI management system requirements as controls that run.
//!
//! - [`model`]: the typed AIMS register (inventory, SoA, risks, incidents, reviews, evidence).
//! - [`catalog`]: clauses 4-10 and the 38 Annex A controls, shipped as data.
//! - [`policy`]: declarative guard policies, compiled once at load.
//! - [`guard`]: the fail-closed, in-process decision point for agent tool calls.
//! - [`audit`]: the append-only, tamper-evident, signed audit log.
//! - [`pii`]: validated PII and secret detection and masking.
//! - [`oversight`]: human approvals, incidents and anomaly monitoring.
//! - [`report`]: the Statement of Applicability, clause 9 metrics and the evidence pack.
//! - [`runtime`]: the assembled guard, log and stores that applications and bindings embed.
//! - [`call`]: the vocabulary every layer shares (the call, its verdict and decision).
//! - [`schema`]: the JSON Schemas of every top-level type.
//!
//! The main flow: open a runtime on a policy and an audit log, admit each tool call through the
//! guarded-call protocol, run the tool with the arguments it was admitted with, and finish:
//!
//! ```
//! use aims_core::guard::{CallError, ToolCall};
//! use aims_core::runtime::{Runtime, RuntimeConfig};
//! use serde_json::json;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let runtime = Runtime::open(RuntimeConfig {
//!     policy_text: Some(
//!         "default: deny\n\
//!          rules:\n\
//!          - {id: refunds, match: {tool: issue_refund, args: {/amount: {lte: 100}}}, effect: allow}\n"
//!             .into(),
//!     ),
//!     audit_dir: Some(dir.path().join("log")),
//!     ..RuntimeConfig::default()
//! })?;
//!
//! let call = ToolCall::new("cs-agent", "issue_refund", json!({"amount": 20}));
//! let guarded = runtime.admit(call)?; // decided and recorded before the tool runs
//! let result = json!({"refund": "R-1", "amount": guarded.arguments()["amount"]});
//! let returned = guarded.finish(result)?; // outcome recorded, result rules applied
//! assert_eq!(returned["refund"], "R-1");
//!
//! let refused = runtime.admit(ToolCall::new("cs-agent", "issue_refund", json!({"amount": 900})));
//! assert!(matches!(refused, Err(CallError::Denied(_))));
//! runtime.flush()?; // durable, with a signed checkpoint
//! # Ok(())
//! # }
//! ```

pub mod audit;
pub mod call;
pub mod canonical;
pub mod catalog;
pub mod guard;
pub mod model;
#[cfg(feature = "otel")]
pub mod otel;
pub mod oversight;
pub mod pii;
pub mod policy;
pub mod report;
pub mod runtime;
pub mod schema;

//! The shared vocabulary of a guarded call, below every other module: the call itself, the
//! verdict and decision taken on it, the severity scale, and the clock decisions are timed by.
//! It imports nothing from the rest of the crate, so every layer above can speak it.

mod clock;
mod decision;
mod tool_call;

pub use clock::{unix_ms, Clock, ManualClock, SystemClock};
pub use decision::{Decision, Phase, Reason, Redaction, Severity, Verdict};
pub use tool_call::ToolCall;

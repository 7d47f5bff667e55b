//! Coding-agent hooks: one process per tool call reads the agent's hook JSON on stdin, decides
//! the call (or its result) with the guard, and answers in the agent's own hook protocol.
//!
//! Every failure (unreadable input, a policy or log that cannot be opened, a panic) blocks the
//! call the way the agent's protocol blocks; nothing here ever answers "allow" on an error.

mod protocol;

use serde_json::Value;

use crate::guarded::{Admission, Gate, Refusal, Screened};
use aims_core::guard::{ToolCall, Verdict};

pub use protocol::Agent;

/// The largest hook input read, in bytes: tool inputs and outputs larger than this are denied.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// What the hook process prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Standard output (the agent's JSON answer, or nothing).
    pub stdout: String,
    /// Standard error (the reason, when the protocol blocks by exit code).
    pub stderr: String,
    /// The exit code.
    pub exit_code: u8,
}

/// One hook event, read from the agent's JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    /// The tool call as the guard sees it.
    pub call: ToolCall,
    /// The tool's result, for events after the tool ran.
    pub result: Option<Value>,
}

/// What the guard made of an event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ruling {
    /// Before the call: run it as it is.
    Allow,
    /// Before the call: run it with these (masked) arguments.
    AllowWith(Value),
    /// Before the call: a human must decide (the approval request, when one was opened).
    Ask(Refusal),
    /// Before the call: do not run it. After it: withhold the result.
    Deny(String),
    /// After the call: the result passes unchanged.
    Pass,
    /// After the call: the result passes with these parts masked.
    PassMasked(Value),
}

/// Answers one hook invocation. `input` is what the agent wrote on stdin; `open` opens the
/// guard (policy, log) and is called only once the input reads.
pub fn answer(
    agent: Agent,
    agent_id: &str,
    input: &[u8],
    open: impl FnOnce() -> Result<Gate, String>,
) -> Reply {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decide(agent, agent_id, input, open)
    }));
    match outcome {
        Ok(Ok((event, ruling))) => agent.reply(&event, &ruling),
        Ok(Err(why)) => agent.block_on_error(&why),
        Err(_) => agent.block_on_error("the hook failed unexpectedly"),
    }
}

fn decide(
    agent: Agent,
    agent_id: &str,
    input: &[u8],
    open: impl FnOnce() -> Result<Gate, String>,
) -> Result<(Event, Ruling), String> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "the hook input is larger than {MAX_INPUT_BYTES} bytes"
        ));
    }
    let json: Value = serde_json::from_slice(input)
        .map_err(|err| format!("the hook input is not JSON ({err})"))?;
    let event = agent.read_event(agent_id, &json)?;
    let gate = open()?;
    let ruling = match &event.result {
        None => match gate.admit(event.call.clone()) {
            Admission::Run(admitted) if admitted.redacted => Ruling::AllowWith(admitted.args),
            Admission::Run(_) => Ruling::Allow,
            Admission::Refused(refusal) if refusal.verdict == Verdict::RequireApproval => {
                Ruling::Ask(refusal)
            }
            Admission::Refused(refusal) => Ruling::Deny(refusal.reason),
        },
        Some(result) => match gate.screen_result(&event.call, result.clone()) {
            Screened::Pass(masked) if &masked == result => Ruling::Pass,
            Screened::Pass(masked) => Ruling::PassMasked(masked),
            Screened::Withheld(refusal) => Ruling::Deny(refusal.reason),
        },
    };
    gate.flush()?;
    Ok((event, ruling))
}

/// The text an agent shows for a call that waits for approval.
pub(crate) fn approval_text(refusal: &Refusal) -> String {
    match &refusal.approval_id {
        Some(id) => format!(
            "aims: this call needs a human approval (approval id {id}): {}",
            refusal.reason
        ),
        None => format!("aims: this call needs a human approval: {}", refusal.reason),
    }
}

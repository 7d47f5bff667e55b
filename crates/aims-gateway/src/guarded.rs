//! The guarded-call protocol as the gateways use it: admit a call (decided and recorded), run
//! it elsewhere with the arguments admitted (masked when the verdict is redact), then finish
//! with its result (outcome recorded, result rules and masking applied) or fail.
//!
//! This is the only module that talks to the runtime's decision API, so the gateways follow
//! the core's protocol through one seam.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use aims_core::guard::{Decision, Reason, ToolCall, ToolOutcome, Verdict};
use aims_core::oversight::approvals::call_binding_hash;
use aims_core::oversight::ApprovalStatus;
use aims_core::policy::Policy;
use aims_core::runtime::Runtime;
use serde_json::Value;

/// A runtime with the bookkeeping the protocol needs between calls.
#[derive(Debug)]
pub struct Gate {
    runtime: Runtime,
    /// Approval requests this gate opened, by the hash that binds them to their call, so an
    /// identical retry after the approval runs the approved call once.
    opened: Mutex<HashMap<String, String>>,
}

/// Why a call or its result may not go on.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// deny or require_approval.
    pub verdict: Verdict,
    /// The policy's reasons, in words (never the call's values).
    pub reason: String,
    /// The approval request opened for this call, when the verdict is require_approval.
    pub approval_id: Option<String>,
    /// The recorded decision's id.
    pub decision_id: String,
}

/// A call the guard let through: run it with `args`, then [`Gate::finish`] or [`Gate::fail`].
#[derive(Debug)]
pub struct Admitted {
    /// The arguments to run the call with (masked when the verdict is redact).
    pub args: Value,
    /// Whether `args` differ from what the caller sent.
    pub redacted: bool,
    call: ToolCall,
    decision: Decision,
    started: Instant,
}

/// What [`Gate::admit`] decided.
#[derive(Debug)]
pub enum Admission {
    /// Run the call.
    Run(Box<Admitted>),
    /// Do not run it.
    Refused(Refusal),
}

/// What [`Gate::finish`] or [`Gate::screen_result`] decided about a result.
#[derive(Debug, PartialEq)]
pub enum Screened {
    /// Hand this result (masked as the result rules say) to the caller.
    Pass(Value),
    /// Withhold the result.
    Withheld(Refusal),
}

impl Gate {
    /// A gate over `runtime`.
    pub fn new(runtime: Runtime) -> Self {
        Self {
            runtime,
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// The runtime behind the gate.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Decides a call before it runs and records the decision.
    pub fn admit(&self, call: ToolCall) -> Admission {
        // An approved request satisfies a require_approval at its checkpoint: the runtime
        // cleared the call to run once.
        let (decision, approved) = match self.approved_earlier(&call) {
            Ok(Some(decision)) => (decision, true),
            Ok(None) => (self.runtime.check(&call), false),
            Err(refused) => return Admission::Refused(refused),
        };
        if decision.verdict == Verdict::RequireApproval && !approved {
            if let Some(id) = &decision.approval_id {
                self.remember(&call, id);
            }
        }
        let cleared = approved && decision.verdict == Verdict::RequireApproval;
        if !(cleared || decision.may_proceed()) {
            return Admission::Refused(self.refusal(&decision));
        }
        let mut args = call.args.clone();
        let redacted = decision.verdict == Verdict::Redact && !decision.shadow;
        if redacted {
            self.runtime.guard().apply_redactions(&decision, &mut args);
        }
        Admission::Run(Box::new(Admitted {
            args,
            redacted,
            call,
            decision,
            started: Instant::now(),
        }))
    }

    /// Records that an admitted call ran and returned `result`, then decides the result.
    /// `tool_error` is true when the tool reported a failure inside its result.
    pub fn finish(&self, admitted: Box<Admitted>, result: Value, tool_error: bool) -> Screened {
        let elapsed = admitted.started.elapsed();
        let outcome = if tool_error {
            ToolOutcome::error("the tool reported an error", elapsed)
        } else {
            ToolOutcome::ok(elapsed)
        };
        if self
            .runtime
            .record_outcome(&admitted.call, &admitted.decision, &outcome)
            .is_err()
        {
            return Screened::Withheld(audit_refusal(&admitted.decision));
        }
        self.screen_result(&admitted.call, result)
    }

    /// Records that an admitted call failed without a result (`error` must not carry the
    /// call's values: it is masked, but say what failed, not what was sent).
    pub fn fail(&self, admitted: Box<Admitted>, error: &str) {
        let outcome = ToolOutcome::error(error, admitted.started.elapsed());
        // The caller reports the failure either way; a record that cannot be written leaves
        // the decision in the log without its outcome, which verification shows.
        let _ = self
            .runtime
            .record_outcome(&admitted.call, &admitted.decision, &outcome);
    }

    /// Decides a result the caller obtained by itself (a hook sees the result of a call it
    /// did not run): result rules apply, redactions are masked.
    pub fn screen_result(&self, call: &ToolCall, mut result: Value) -> Screened {
        let decision = self.runtime.check_result(call, &result);
        if !decision.may_proceed() {
            return Screened::Withheld(self.refusal(&decision));
        }
        if decision.verdict == Verdict::Redact && !decision.shadow {
            self.runtime
                .guard()
                .apply_redactions(&decision, &mut result);
        }
        Screened::Pass(result)
    }

    /// Approves an approval request for a human who decided at the client, then lets the
    /// approved call run once.
    pub fn approve_and_admit(
        &self,
        approval_id: &str,
        approver: &str,
        role: &str,
        call: ToolCall,
    ) -> Result<Admission, String> {
        let approvals = self.runtime.approvals().map_err(|err| err.to_string())?;
        approvals
            .approve(
                approval_id,
                approver,
                role,
                Some("approved at the MCP client"),
            )
            .map_err(|err| err.to_string())?;
        Ok(self.admit(call))
    }

    /// Rejects an approval request for a human who declined at the client.
    pub fn reject(&self, approval_id: &str, approver: &str, role: &str) -> Result<(), String> {
        let approvals = self.runtime.approvals().map_err(|err| err.to_string())?;
        approvals
            .reject(
                approval_id,
                approver,
                role,
                Some("declined at the MCP client"),
            )
            .map(|_| ())
            .map_err(|err| err.to_string())
    }

    /// Makes every record durable and signs a checkpoint.
    pub fn flush(&self) -> Result<(), String> {
        self.runtime.flush().map_err(|err| err.to_string())
    }

    fn refusal(&self, decision: &Decision) -> Refusal {
        refusal(&self.runtime.guard().policy(), decision)
    }

    fn binding(&self, call: &ToolCall) -> String {
        call_binding_hash(call, &self.runtime.guard().policy_version())
    }

    fn remember(&self, call: &ToolCall, approval_id: &str) {
        if let Ok(mut opened) = self.opened.lock() {
            opened.insert(self.binding(call), approval_id.to_owned());
        }
    }

    /// The decision for a retry of a call whose approval request was approved: the runtime
    /// clears it once (and asks the policy again). `None` when there is no such approval; a
    /// refusal when the runtime will not clear it (expired, already run, policy changed).
    fn approved_earlier(&self, call: &ToolCall) -> Result<Option<Decision>, Refusal> {
        let binding = self.binding(call);
        let Some(id) = self
            .opened
            .lock()
            .ok()
            .and_then(|opened| opened.get(&binding).cloned())
        else {
            return Ok(None);
        };
        let approved = self
            .runtime
            .approvals()
            .ok()
            .and_then(|approvals| approvals.status(&id).ok())
            .is_some_and(|request| request.status == ApprovalStatus::Approved);
        if !approved {
            return Ok(None);
        }
        if let Ok(mut opened) = self.opened.lock() {
            opened.remove(&binding);
        }
        match self.runtime.execute_approved(&id, call) {
            Ok(decision) => Ok(Some(decision)),
            Err(err) => Err(Refusal {
                verdict: Verdict::Deny,
                reason: format!("approval {id} cannot be executed: {err}"),
                approval_id: Some(id),
                decision_id: String::new(),
            }),
        }
    }
}

/// The refusal of a decision, with the reasons of the rules that gave its verdict (not those of
/// weaker rules that also matched).
fn refusal(policy: &Policy, decision: &Decision) -> Refusal {
    let gave_verdict = |reason: &&Reason| match &reason.rule_id {
        Some(id) => policy
            .rules()
            .iter()
            .any(|rule| rule.id() == id && rule.effect() == decision.verdict),
        None => true,
    };
    let reason = decision
        .reasons
        .iter()
        .filter(gave_verdict)
        .map(|reason| reason.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Refusal {
        verdict: decision.verdict,
        reason,
        approval_id: decision.approval_id.clone(),
        decision_id: decision.decision_id.clone(),
    }
}

fn audit_refusal(decision: &Decision) -> Refusal {
    Refusal {
        verdict: Verdict::Deny,
        reason: "the outcome could not be recorded; the result is withheld".to_owned(),
        approval_id: None,
        decision_id: decision.decision_id.clone(),
    }
}

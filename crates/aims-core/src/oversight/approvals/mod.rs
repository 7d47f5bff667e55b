//! Human approvals bound to the exact call: requests made when the guard says
//! `require_approval`, votes with the two-person rule and self-approval refused, expiry and
//! escalation on an injectable clock, blocking and non-blocking status, notifications, and the
//! check at execution that the call is unchanged and the policy still lets it run.
//!
//! Every step is one audit record, written in the same store transaction as the state change:
//! if the audit sink refuses the record, the step does not happen.

mod notify;
mod request;
mod rows;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use time::{Duration, OffsetDateTime};

use crate::audit::{ApprovalEvent, AuditEvent, AuditSink, SinkError};
use crate::guard::{Clock, Decision, SystemClock, ToolCall, Verdict};
use crate::model::{OnTimeout, OversightCheckpoint};
use crate::oversight::store::{OversightStore, StoreError};
use crate::pii::PiiError;

pub use notify::{ApprovalNotice, ApprovalNotifier};
pub use request::{
    call_binding_hash, requesters, ApprovalRequest, ApprovalStatus, ApprovalStep, ApprovalVote,
    Vote,
};

use notify::ChangeSignal;

/// How often a blocking [`Approvals::wait`] re-reads the store, to see votes cast by another
/// process and windows closed by the (possibly injected) clock.
const WAIT_POLL: StdDuration = StdDuration::from_millis(50);

/// Why an approval operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit sink refused the step's record, so the step was not taken.
    #[error("approval step not taken: {0}")]
    Audit(#[from] SinkError),
    /// An approval was asked for a decision that does not require one.
    #[error("decision {decision_id} is {verdict}, not require_approval")]
    NotRequired {
        /// The decision.
        decision_id: String,
        /// Its verdict.
        verdict: &'static str,
    },
    /// The decision requires approval but names no checkpoint.
    #[error("decision {decision_id} requires approval but names no checkpoint")]
    MissingCheckpoint {
        /// The decision.
        decision_id: String,
    },
    /// The checkpoint is not configured.
    #[error("unknown oversight checkpoint {0:?}")]
    UnknownCheckpoint(String),
    /// A checkpoint's configuration cannot work.
    #[error("oversight checkpoint {id:?}: {problem}")]
    InvalidCheckpoint {
        /// The checkpoint.
        id: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// No request has this id.
    #[error("unknown approval request {0:?}")]
    UnknownRequest(String),
    /// The request's voting window closed.
    #[error("approval request {0} has expired")]
    Expired(String),
    /// The request is no longer waiting for votes.
    #[error("approval request {id} is {status}, not pending")]
    NotPending {
        /// The request.
        id: String,
        /// Its status.
        status: ApprovalStatus,
    },
    /// The approver's role may not vote on this request.
    #[error("role {role:?} may not vote on approval request {id} (allowed: {allowed:?})")]
    RoleNotAllowed {
        /// The request.
        id: String,
        /// The role given.
        role: String,
        /// The roles that may vote.
        allowed: Vec<String>,
    },
    /// The approver triggered the call.
    #[error("the agent or user that triggered approval request {0} cannot approve it")]
    SelfApproval(String),
    /// The approver already voted; the two-person rule needs distinct people.
    #[error("this approver already voted on approval request {0}")]
    AlreadyVoted(String),
    /// A note could not be masked for the audit record, so the step was not taken.
    #[error("approval note could not be masked: {0}")]
    Masking(#[from] PiiError),
    /// Execution was asked for a request that is not approved.
    #[error("approval request {id} is {status}: the call may not run")]
    NotApproved {
        /// The request.
        id: String,
        /// Its status.
        status: ApprovalStatus,
    },
    /// The call to run is not the call that was approved.
    #[error("the call differs from the one approved in request {0}: refused")]
    CallChanged(String),
    /// The policy, evaluated again at execution, no longer lets the call run.
    #[error(
        "the policy (version {policy_version}) now decides {verdict} for approval request {id}: refused"
    )]
    PolicyNowRefuses {
        /// The request.
        id: String,
        /// The verdict now.
        verdict: &'static str,
        /// The policy version deciding now.
        policy_version: String,
    },
}

/// The approval service over one store. Clones share the store, sink, clock, notifiers and
/// the signal that wakes waiters.
#[derive(Clone)]
pub struct Approvals {
    store: Arc<OversightStore>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    checkpoints: Arc<HashMap<String, CheckpointRules>>,
    notifiers: Vec<Arc<dyn ApprovalNotifier>>,
    changes: Arc<ChangeSignal>,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals")
            .field("store", &self.store.path())
            .field("clock", &self.clock)
            .field("checkpoints", &self.checkpoints.keys().collect::<Vec<_>>())
            .field("notifiers", &self.notifiers.len())
            .finish_non_exhaustive()
    }
}

impl Approvals {
    /// A service on `store` writing every step to `audit`, on the system clock, with no
    /// checkpoint configured yet.
    pub fn new(store: Arc<OversightStore>, audit: Arc<dyn AuditSink>) -> Self {
        Self {
            store,
            audit,
            clock: Arc::new(SystemClock),
            checkpoints: Arc::new(HashMap::new()),
            notifiers: Vec::new(),
            changes: Arc::new(ChangeSignal::default()),
        }
    }

    /// Reads time from `clock` (a [`crate::oversight::ManualClock`] in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds (or replaces) a checkpoint of the register. Requests already made keep the rules
    /// they were made with.
    pub fn with_checkpoint(
        mut self,
        checkpoint: &OversightCheckpoint,
    ) -> Result<Self, ApprovalError> {
        let rules = CheckpointRules::from_register(checkpoint)?;
        Arc::make_mut(&mut self.checkpoints).insert(checkpoint.id.clone(), rules);
        Ok(self)
    }

    /// Adds a notifier, told of every step after it is committed.
    pub fn with_notifier(mut self, notifier: impl ApprovalNotifier + 'static) -> Self {
        self.notifiers.push(Arc::new(notifier));
        self
    }

    /// Opens a request for a call the guard decided `require_approval`, bound to the hash of
    /// the call and the deciding policy version.
    pub fn request(
        &self,
        call: &ToolCall,
        decision: &Decision,
    ) -> Result<ApprovalRequest, ApprovalError> {
        if decision.verdict != Verdict::RequireApproval {
            return Err(ApprovalError::NotRequired {
                decision_id: decision.decision_id.clone(),
                verdict: decision.verdict.as_str(),
            });
        }
        let checkpoint_id =
            decision
                .checkpoint
                .as_deref()
                .ok_or_else(|| ApprovalError::MissingCheckpoint {
                    decision_id: decision.decision_id.clone(),
                })?;
        let CheckpointRules {
            checkpoint,
            timeout,
        } = self
            .checkpoints
            .get(checkpoint_id)
            .ok_or_else(|| ApprovalError::UnknownCheckpoint(checkpoint_id.to_string()))?;
        let now = self.clock.now();
        let call_hash = call_binding_hash(call, &decision.policy_version);
        let request = ApprovalRequest {
            id: super::new_id("apr", &call_hash),
            checkpoint: checkpoint.id.clone(),
            call_hash,
            agent_id: call.agent_id.clone(),
            tool: call.tool.clone(),
            requested_by: requesters(call),
            policy_version: decision.policy_version.clone(),
            decision_id: Some(decision.decision_id.clone()),
            approver_roles: checkpoint.approver_roles.clone(),
            required_approvals: checkpoint.required_approvals,
            timeout: *timeout,
            on_timeout: checkpoint.on_timeout,
            escalate_to: checkpoint.escalate_to.clone(),
            escalated: false,
            status: ApprovalStatus::Pending,
            requested_at: now,
            expires_at: now + *timeout,
            resolved_at: None,
            executed_at: None,
            votes: Vec::new(),
        };
        self.store.write(|tx| {
            rows::insert_request(tx, &request)?;
            self.record(ApprovalStep::Requested, &request, None)
        })?;
        self.announce(&[(ApprovalStep::Requested, request.clone())]);
        Ok(request)
    }

    /// Approves request `id` as `approver` acting in `role`. The request becomes approved once
    /// `required_approvals` distinct approvers have approved. Refused when the role may not
    /// vote, the approver triggered the call or already voted, or the window has closed.
    pub fn approve(
        &self,
        id: &str,
        approver: &str,
        role: &str,
        note: Option<&str>,
    ) -> Result<ApprovalRequest, ApprovalError> {
        self.vote(id, approver, role, note, Vote::Approve)
    }

    /// Rejects request `id`: one rejection by a holder of an allowed role resolves it. The
    /// agent or user that triggered the call may withdraw it this way.
    pub fn reject(
        &self,
        id: &str,
        approver: &str,
        role: &str,
        note: Option<&str>,
    ) -> Result<ApprovalRequest, ApprovalError> {
        self.vote(id, approver, role, note, Vote::Reject)
    }

    /// The request now, without blocking. A request whose window has closed is resolved by its
    /// `on_timeout` first (and that step is recorded).
    pub fn status(&self, id: &str) -> Result<ApprovalRequest, ApprovalError> {
        let request = self
            .store
            .read(|conn| rows::load_request(conn, id))?
            .ok_or_else(|| ApprovalError::UnknownRequest(id.to_string()))?;
        if request.is_pending() && self.clock.now() >= request.expires_at {
            return self.settle(id);
        }
        Ok(request)
    }

    /// Blocks until request `id` is no longer pending or `timeout` (wall time) passes, and
    /// returns it as it is then (still pending on timeout).
    pub fn wait(&self, id: &str, timeout: StdDuration) -> Result<ApprovalRequest, ApprovalError> {
        let started = Instant::now();
        loop {
            let seen = self.changes.generation();
            let request = self.status(id)?;
            let waited = started.elapsed();
            if !request.is_pending() || waited >= timeout {
                return Ok(request);
            }
            self.changes
                .wait_after(seen, WAIT_POLL.min(timeout - waited));
        }
    }

    /// Requests waiting for votes, oldest first (windows that closed are resolved first).
    pub fn pending(&self) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        self.expire_due()?;
        let ids = self
            .store
            .read(|conn| rows::request_ids_with_status(conn, ApprovalStatus::Pending))?;
        ids.iter().map(|id| self.status(id)).collect()
    }

    /// Resolves every pending request whose window has closed, by its `on_timeout`, and returns
    /// the steps taken. Call it from a timer so escalations are announced without waiting for
    /// someone to look at the request.
    pub fn expire_due(&self) -> Result<Vec<ApprovalNotice>, ApprovalError> {
        let now = self.clock.now();
        let due = self.store.read(|conn| rows::due_request_ids(conn, now))?;
        let mut notices = Vec::new();
        for id in due {
            let steps = self.store.write(|tx| {
                let Some(mut request) = rows::load_request(tx, &id)? else {
                    return Ok(Vec::new());
                };
                self.apply_timeout(tx, &mut request, now)
            })?;
            self.announce(&steps);
            notices.extend(
                steps
                    .into_iter()
                    .map(|(step, request)| ApprovalNotice { step, request }),
            );
        }
        Ok(notices)
    }

    /// Marks the approved request `id` executed, once, if `call` is the call that was approved
    /// and `current` (the policy's decision on `call` now) still lets it run: allow, warn or
    /// redact, or `require_approval` at the same checkpoint (which this approval satisfies).
    /// A refusal is recorded as an `execution_refused` step.
    pub fn execute(
        &self,
        id: &str,
        call: &ToolCall,
        current: &Decision,
    ) -> Result<ApprovalRequest, ApprovalError> {
        let now = self.clock.now();
        let (outcome, step) = self.store.write(|tx| {
            let mut request = rows::load_request(tx, id)?
                .ok_or_else(|| ApprovalError::UnknownRequest(id.to_string()))?;
            if request.status != ApprovalStatus::Approved {
                return Err(ApprovalError::NotApproved {
                    id: id.to_string(),
                    status: request.status,
                });
            }
            let refusal = execution_refusal(&request, call, current);
            let step = match &refusal {
                Some(reason) => {
                    self.record(
                        ApprovalStep::ExecutionRefused,
                        &request,
                        Some(StepDetail::note(reason.to_string())),
                    )?;
                    ApprovalStep::ExecutionRefused
                }
                None => {
                    request.status = ApprovalStatus::Executed;
                    request.executed_at = Some(now);
                    rows::update_request(tx, &request)?;
                    self.record(ApprovalStep::Executed, &request, None)?;
                    ApprovalStep::Executed
                }
            };
            Ok((refusal.map_or(Ok(request.clone()), Err), (step, request)))
        })?;
        self.announce(&[step]);
        outcome
    }

    fn vote(
        &self,
        id: &str,
        approver: &str,
        role: &str,
        note: Option<&str>,
        vote: Vote,
    ) -> Result<ApprovalRequest, ApprovalError> {
        // Close a window that has passed first, so an escalation happens before the vote is
        // judged against the roles allowed now.
        self.status(id)?;
        let now = self.clock.now();
        let step = self.store.write(|tx| {
            let mut request = rows::load_request(tx, id)?
                .ok_or_else(|| ApprovalError::UnknownRequest(id.to_string()))?;
            check_vote(&request, approver, role, vote, now)?;
            let cast = ApprovalVote {
                approver: approver.to_string(),
                role: role.to_string(),
                vote,
                note: note.map(str::to_string),
                at: now,
            };
            rows::insert_vote(tx, id, &cast)?;
            request.votes.push(cast);
            let step = match vote {
                Vote::Approve => {
                    if request.approvals() >= request.required_approvals {
                        request.status = ApprovalStatus::Approved;
                        request.resolved_at = Some(now);
                    }
                    ApprovalStep::Approved
                }
                Vote::Reject => {
                    request.status = ApprovalStatus::Rejected;
                    request.resolved_at = Some(now);
                    ApprovalStep::Rejected
                }
            };
            rows::update_request(tx, &request)?;
            self.record(
                step,
                &request,
                Some(StepDetail::vote(approver, role, note)?),
            )?;
            Ok::<_, ApprovalError>((step, request))
        })?;
        let request = step.1.clone();
        self.announce(&[step]);
        Ok(request)
    }

    /// Applies the closing of a pending request's window, if it is due, in its own transaction.
    fn settle(&self, id: &str) -> Result<ApprovalRequest, ApprovalError> {
        let now = self.clock.now();
        let (request, steps) = self.store.write(|tx| {
            let mut request = rows::load_request(tx, id)?
                .ok_or_else(|| ApprovalError::UnknownRequest(id.to_string()))?;
            let steps = self.apply_timeout(tx, &mut request, now)?;
            Ok::<_, ApprovalError>((request, steps))
        })?;
        self.announce(&steps);
        Ok(request)
    }

    /// Resolves `request` by its `on_timeout` for every window that closed by `now`: at most
    /// one escalation, then expiry (or approval, for `allow`). Times are the windows' ends, not
    /// `now`, so the outcome does not depend on when someone looked.
    fn apply_timeout(
        &self,
        tx: &rusqlite::Transaction<'_>,
        request: &mut ApprovalRequest,
        now: OffsetDateTime,
    ) -> Result<Vec<(ApprovalStep, ApprovalRequest)>, ApprovalError> {
        let mut steps = Vec::new();
        while request.is_pending() && now >= request.expires_at {
            let closed_at = request.expires_at;
            let (step, detail) = match (request.on_timeout, &request.escalate_to) {
                (OnTimeout::Escalate, Some(role)) if !request.escalated => {
                    let role = role.clone();
                    request.approver_roles = vec![role.clone()];
                    request.escalated = true;
                    request.expires_at = closed_at + request.timeout;
                    (ApprovalStep::Escalated, Some(StepDetail::escalation(role)))
                }
                (OnTimeout::Allow, _) => {
                    request.status = ApprovalStatus::Approved;
                    request.resolved_at = Some(closed_at);
                    let note = "timed out; on_timeout allow approved it without a human";
                    (ApprovalStep::Expired, Some(StepDetail::note(note.into())))
                }
                _ => {
                    request.status = ApprovalStatus::Expired;
                    request.resolved_at = Some(closed_at);
                    (ApprovalStep::Expired, None)
                }
            };
            rows::update_request(tx, request)?;
            self.record(step, request, detail)?;
            steps.push((step, request.clone()));
        }
        Ok(steps)
    }

    fn record(
        &self,
        step: ApprovalStep,
        request: &ApprovalRequest,
        detail: Option<StepDetail>,
    ) -> Result<(), ApprovalError> {
        let detail = detail.unwrap_or_default();
        self.audit.append(AuditEvent::Approval(ApprovalEvent {
            request_id: request.id.clone(),
            step: step.as_str().to_string(),
            checkpoint: request.checkpoint.clone(),
            call_hash: request.call_hash.clone(),
            agent_id: request.agent_id.clone(),
            tool: request.tool.clone(),
            actor: detail.actor,
            role: detail.role,
            note: detail.note,
            approvals: request.approvals(),
            required: request.required_approvals,
        }))?;
        Ok(())
    }

    fn announce(&self, steps: &[(ApprovalStep, ApprovalRequest)]) {
        if steps.is_empty() {
            return;
        }
        self.changes.bump();
        for (step, request) in steps {
            let notice = ApprovalNotice {
                step: *step,
                request: request.clone(),
            };
            for notifier in &self.notifiers {
                notifier.notify(&notice);
            }
        }
    }
}

/// Who acted in a step and the note recorded with it. Approvers' notes reach the audit record
/// masked; the store keeps them as written.
#[derive(Debug, Default)]
struct StepDetail {
    actor: Option<String>,
    role: Option<String>,
    note: Option<String>,
}

impl StepDetail {
    fn vote(actor: &str, role: &str, note: Option<&str>) -> Result<Self, ApprovalError> {
        Ok(Self {
            actor: Some(actor.to_string()),
            role: Some(role.to_string()),
            note: note.map(super::mask_free_text).transpose()?,
        })
    }

    fn escalation(role: String) -> Self {
        Self {
            actor: None,
            role: Some(role),
            note: None,
        }
    }

    fn note(note: String) -> Self {
        Self {
            note: Some(note),
            ..Self::default()
        }
    }
}

/// A register checkpoint checked once for use, with its timeout as a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CheckpointRules {
    checkpoint: OversightCheckpoint,
    timeout: Duration,
}

impl CheckpointRules {
    fn from_register(checkpoint: &OversightCheckpoint) -> Result<Self, ApprovalError> {
        let invalid = |problem| ApprovalError::InvalidCheckpoint {
            id: checkpoint.id.clone(),
            problem,
        };
        if checkpoint.approver_roles.is_empty() {
            return Err(invalid("no approver role"));
        }
        if checkpoint.required_approvals == 0 {
            return Err(invalid("required_approvals must be at least 1"));
        }
        let timeout = i64::try_from(checkpoint.timeout_seconds)
            .ok()
            .filter(|seconds| *seconds > 0 && *seconds <= MAX_TIMEOUT_SECONDS)
            .map(Duration::seconds)
            .ok_or_else(|| invalid("timeout_seconds must be between 1 and 10 years"))?;
        if checkpoint.on_timeout == OnTimeout::Escalate && checkpoint.escalate_to.is_none() {
            return Err(invalid("on_timeout escalate needs escalate_to"));
        }
        Ok(Self {
            checkpoint: checkpoint.clone(),
            timeout,
        })
    }
}

/// The longest voting window accepted: keeps `expires_at` far inside the storable range.
const MAX_TIMEOUT_SECONDS: i64 = 10 * 366 * 24 * 3600;

fn check_vote(
    request: &ApprovalRequest,
    approver: &str,
    role: &str,
    vote: Vote,
    now: OffsetDateTime,
) -> Result<(), ApprovalError> {
    let id = || request.id.clone();
    match request.status {
        ApprovalStatus::Pending if now >= request.expires_at => {
            return Err(ApprovalError::Expired(id()))
        }
        ApprovalStatus::Pending => {}
        ApprovalStatus::Expired => return Err(ApprovalError::Expired(id())),
        status => return Err(ApprovalError::NotPending { id: id(), status }),
    }
    if !request.approver_roles.iter().any(|allowed| allowed == role) {
        return Err(ApprovalError::RoleNotAllowed {
            id: id(),
            role: role.to_string(),
            allowed: request.approver_roles.clone(),
        });
    }
    if vote == Vote::Approve && request.requested_by.iter().any(|who| who == approver) {
        return Err(ApprovalError::SelfApproval(id()));
    }
    if request.votes.iter().any(|cast| cast.approver == approver) {
        return Err(ApprovalError::AlreadyVoted(id()));
    }
    Ok(())
}

/// Why an approved request's call may not run now, if it may not.
fn execution_refusal(
    request: &ApprovalRequest,
    call: &ToolCall,
    current: &Decision,
) -> Option<ApprovalError> {
    if call_binding_hash(call, &request.policy_version) != request.call_hash {
        return Some(ApprovalError::CallChanged(request.id.clone()));
    }
    let still_covered = match current.verdict {
        Verdict::Allow | Verdict::Warn | Verdict::Redact => true,
        Verdict::RequireApproval => current.checkpoint.as_deref() == Some(&request.checkpoint),
        Verdict::Deny => false,
    };
    if still_covered {
        return None;
    }
    Some(ApprovalError::PolicyNowRefuses {
        id: request.id.clone(),
        verdict: current.verdict.as_str(),
        policy_version: current.policy_version.clone(),
    })
}

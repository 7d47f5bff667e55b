//! Human approvals through the binding, over the runtime's oversight store: the request
//! records, the [`Approvals`] object (approve, reject, status, wait, pending, expire_due), and
//! the [`ApprovalListener`] callback interface an app implements to hear about every step.
//!
//! `Guard.check` opens a request for a `RequireApproval` decision (its id is the decision's
//! `approval_id`) and `Guard.execute_approved` clears the approved call; the rules (two-person
//! rule, self-approval refused, expiry, the call bound to its hash) are the core's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aims_core::model::OnTimeout as CoreOnTimeout;
use aims_core::oversight::approvals::{ApprovalVote as CoreVote, Vote as CoreVoteKind};
use aims_core::oversight::{self as core, ApprovalNotifier};
use aims_core::runtime::Runtime;

use crate::error::AimsError;

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ApprovalStatus {
    /// Waiting for votes.
    Pending,
    /// Enough distinct approvals (or `on_timeout: allow`); the call may run once.
    Approved,
    /// An approver rejected the call.
    Rejected,
    /// Nobody resolved it in time and the checkpoint denies on timeout.
    Expired,
    /// The approved call ran.
    Executed,
}

/// One step of a request's life: each is one audit record and one notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ApprovalStep {
    /// The request was opened.
    Requested,
    /// One approver approved (the request is approved once enough distinct approvers have).
    Approved,
    /// An approver rejected.
    Rejected,
    /// The window closed (denied, or approved by `on_timeout: allow`).
    Expired,
    /// The window closed and the request moved to the escalation role.
    Escalated,
    /// The approved call was cleared to run.
    Executed,
    /// Running the call was refused (a changed call, or the policy now refuses it).
    ExecutionRefused,
}

/// What a closed window does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OnTimeout {
    /// The call is denied.
    Deny,
    /// The call is approved without a human (recorded as such).
    Allow,
    /// The request moves to `escalate_to`.
    Escalate,
}

/// For or against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Vote {
    /// For the call.
    Approve,
    /// Against the call; one rejection resolves the request.
    Reject,
}

/// One vote cast on a request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApprovalVote {
    /// Who voted (as the app authenticated them).
    pub approver: String,
    /// The role they voted in.
    pub role: String,
    /// For or against.
    pub vote: Vote,
    /// Their note as written (the audit record holds it masked of PII).
    pub note: Option<String>,
    /// When.
    pub at: SystemTime,
}

/// An approval request, bound to the exact call and the policy version that asked for it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApprovalRequest {
    /// The request id (`apr_...`); a decision's `approval_id`.
    pub id: String,
    /// The oversight checkpoint that must approve.
    pub checkpoint: String,
    /// The hash binding the request to the call (tool, arguments, agent) and policy version.
    pub call_hash: String,
    /// The agent that made the call.
    pub agent_id: String,
    /// The tool.
    pub tool: String,
    /// The agent and users that triggered the call: they may not approve it.
    pub requested_by: Vec<String>,
    /// The policy version that asked for approval.
    pub policy_version: String,
    /// The decision that asked for approval.
    pub decision_id: Option<String>,
    /// The roles that may vote.
    pub approver_roles: Vec<String>,
    /// Distinct approvals needed (2 or more is the two-person rule).
    pub required_approvals: u32,
    /// Approvals so far.
    pub approvals: u32,
    /// The voting window, in seconds.
    pub timeout_seconds: u64,
    /// What a closed window does.
    pub on_timeout: OnTimeout,
    /// The role a closed window escalates to.
    pub escalate_to: Option<String>,
    /// Whether it was escalated.
    pub escalated: bool,
    /// Where it is.
    pub status: ApprovalStatus,
    /// When it was opened.
    pub requested_at: SystemTime,
    /// When its window closes.
    pub expires_at: SystemTime,
    /// When it was resolved.
    pub resolved_at: Option<SystemTime>,
    /// When the approved call was cleared to run.
    pub executed_at: Option<SystemTime>,
    /// The votes so far, in order.
    pub votes: Vec<ApprovalVote>,
}

/// One step of one request, as told to an [`ApprovalListener`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApprovalNotice {
    /// What happened.
    pub step: ApprovalStep,
    /// The request after the step.
    pub request: ApprovalRequest,
}

/// What an [`ApprovalListener`] may throw. Whatever it throws is dropped (and counted in
/// `Guard.listener_failures`): the step it was told about is already stored and recorded.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ListenerError {
    /// The listener failed.
    #[error("the approval listener failed: {detail}")]
    Failed {
        /// What the listener said.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for ListenerError {
    /// Any other exception a Kotlin or Swift listener throws arrives here instead of
    /// panicking inside the guard.
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ListenerError::Failed { detail: err.reason }
    }
}

/// Implemented by the app to hear about every approval step (to show a notification, post
/// to a chat). Called on the thread that took the step, after it was stored and recorded:
/// hand the notice off quickly. An exception it throws changes nothing that was decided.
#[uniffi::export(callback_interface)]
pub trait ApprovalListener: Send + Sync {
    /// Told once per step, in the order the steps happened.
    fn on_approval_event(&self, notice: ApprovalNotice) -> Result<(), ListenerError>;
}

/// The app's listener as one of the runtime's notifiers. A listener error is counted in
/// `failures` and otherwise ignored: the step is committed, so the decision, the request and
/// the audit record stay as they are.
pub(crate) struct ListenerNotifier {
    listener: Box<dyn ApprovalListener>,
    failures: Arc<AtomicU64>,
}

impl ListenerNotifier {
    pub(crate) fn new(listener: Box<dyn ApprovalListener>, failures: Arc<AtomicU64>) -> Self {
        Self { listener, failures }
    }
}

impl ApprovalNotifier for ListenerNotifier {
    fn notify(&self, notice: &core::ApprovalNotice) {
        if self
            .listener
            .on_approval_event(notice.clone().into())
            .is_err()
        {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The approval requests of a guard opened with an `approval_store_path`.
#[derive(Debug, uniffi::Object)]
pub struct Approvals {
    /// A runtime with an oversight store (checked by [`Approvals::of`]).
    runtime: Runtime,
}

impl Approvals {
    /// The approvals of `runtime`, when it has an oversight store.
    pub(crate) fn of(runtime: &Runtime) -> Option<Self> {
        runtime.supervisor()?;
        Some(Self {
            runtime: runtime.clone(),
        })
    }

    fn core(&self) -> Result<&core::Approvals, AimsError> {
        Ok(self.runtime.approvals()?)
    }
}

#[uniffi::export]
impl Approvals {
    /// Approves request `id` as `approver` acting in `role`; the request is approved once the
    /// checkpoint's number of distinct approvers agreed. Throws `SelfApproval`,
    /// `AlreadyVoted` (two-person rule), `RoleNotAllowed`, `Expired`, `NotPending` or
    /// `UnknownRequest` when refused.
    #[uniffi::method(default(note = None))]
    pub fn approve(
        &self,
        id: String,
        approver: String,
        role: String,
        note: Option<String>,
    ) -> Result<ApprovalRequest, AimsError> {
        let request = self
            .core()?
            .approve(&id, &approver, &role, note.as_deref())?;
        Ok(request.into())
    }

    /// Rejects request `id`: one rejection by an allowed role resolves it.
    #[uniffi::method(default(note = None))]
    pub fn reject(
        &self,
        id: String,
        approver: String,
        role: String,
        note: Option<String>,
    ) -> Result<ApprovalRequest, AimsError> {
        let request = self
            .core()?
            .reject(&id, &approver, &role, note.as_deref())?;
        Ok(request.into())
    }

    /// Request `id` now, without blocking (a closed window is settled first).
    pub fn status(&self, id: String) -> Result<ApprovalRequest, AimsError> {
        Ok(self.core()?.status(&id)?.into())
    }

    /// Blocks until request `id` is resolved or `timeout` passes, and returns it as it is
    /// then (still `Pending` on timeout). Call it off the app's main thread.
    pub fn wait(&self, id: String, timeout: Duration) -> Result<ApprovalRequest, AimsError> {
        Ok(self.core()?.wait(&id, timeout)?.into())
    }

    /// Requests waiting for votes, oldest first.
    pub fn pending(&self) -> Result<Vec<ApprovalRequest>, AimsError> {
        let requests = self.core()?.pending()?;
        Ok(requests.into_iter().map(Into::into).collect())
    }

    /// Settles every request whose window closed and returns the steps taken; call it from a
    /// timer so expiries and escalations are announced without waiting for someone to look.
    pub fn expire_due(&self) -> Result<Vec<ApprovalNotice>, AimsError> {
        let notices = self.core()?.expire_due()?;
        Ok(notices.into_iter().map(Into::into).collect())
    }
}

impl From<core::ApprovalStatus> for ApprovalStatus {
    fn from(status: core::ApprovalStatus) -> Self {
        match status {
            core::ApprovalStatus::Pending => ApprovalStatus::Pending,
            core::ApprovalStatus::Approved => ApprovalStatus::Approved,
            core::ApprovalStatus::Rejected => ApprovalStatus::Rejected,
            core::ApprovalStatus::Expired => ApprovalStatus::Expired,
            core::ApprovalStatus::Executed => ApprovalStatus::Executed,
        }
    }
}

impl From<core::ApprovalStep> for ApprovalStep {
    fn from(step: core::ApprovalStep) -> Self {
        match step {
            core::ApprovalStep::Requested => ApprovalStep::Requested,
            core::ApprovalStep::Approved => ApprovalStep::Approved,
            core::ApprovalStep::Rejected => ApprovalStep::Rejected,
            core::ApprovalStep::Expired => ApprovalStep::Expired,
            core::ApprovalStep::Escalated => ApprovalStep::Escalated,
            core::ApprovalStep::Executed => ApprovalStep::Executed,
            core::ApprovalStep::ExecutionRefused => ApprovalStep::ExecutionRefused,
        }
    }
}

impl From<CoreOnTimeout> for OnTimeout {
    fn from(on_timeout: CoreOnTimeout) -> Self {
        match on_timeout {
            CoreOnTimeout::Deny => OnTimeout::Deny,
            CoreOnTimeout::Allow => OnTimeout::Allow,
            CoreOnTimeout::Escalate => OnTimeout::Escalate,
        }
    }
}

impl From<CoreVote> for ApprovalVote {
    fn from(vote: CoreVote) -> Self {
        Self {
            approver: vote.approver,
            role: vote.role,
            vote: match vote.vote {
                CoreVoteKind::Approve => Vote::Approve,
                CoreVoteKind::Reject => Vote::Reject,
            },
            note: vote.note,
            at: vote.at.into(),
        }
    }
}

impl From<core::ApprovalRequest> for ApprovalRequest {
    fn from(request: core::ApprovalRequest) -> Self {
        Self {
            approvals: request.approvals(),
            id: request.id,
            checkpoint: request.checkpoint,
            call_hash: request.call_hash,
            agent_id: request.agent_id,
            tool: request.tool,
            requested_by: request.requested_by,
            policy_version: request.policy_version,
            decision_id: request.decision_id,
            approver_roles: request.approver_roles,
            required_approvals: request.required_approvals,
            // The core accepts windows of 1 second to 10 years only.
            timeout_seconds: request.timeout.whole_seconds().unsigned_abs(),
            on_timeout: request.on_timeout.into(),
            escalate_to: request.escalate_to,
            escalated: request.escalated,
            status: request.status.into(),
            requested_at: request.requested_at.into(),
            expires_at: request.expires_at.into(),
            resolved_at: request.resolved_at.map(Into::into),
            executed_at: request.executed_at.map(Into::into),
            votes: request.votes.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<core::ApprovalNotice> for ApprovalNotice {
    fn from(notice: core::ApprovalNotice) -> Self {
        Self {
            step: notice.step.into(),
            request: notice.request.into(),
        }
    }
}

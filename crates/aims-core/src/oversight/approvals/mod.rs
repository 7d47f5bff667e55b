//! Human approvals bound to the exact call: requests made when the guard says
//! `require_approval` (an identical call joins the pending request), votes with the
//! two-person rule and self-approval refused on normalised identities, expiry and escalation
//! on an injectable clock, blocking and non-blocking status, notifications, and the check at
//! execution that the call is unchanged, the approval verifies against signed evidence, its
//! execution window is open and the policy still lets it run.
//!
//! Every step is one audit record, written in the same store transaction as the state change:
//! if the audit sink refuses the record, the step does not happen.

mod evidence;
mod identity;
mod notify;
mod request;
mod rows;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use arc_swap::ArcSwap;
use time::{Duration, OffsetDateTime};

use crate::audit::keys::KeyError;
use crate::audit::{ApprovalEvent, AuditEvent, AuditSink, SinkError};
use crate::guard::{Clock, Decision, SystemClock, ToolCall, Verdict};
use crate::model::{OnTimeout, OversightCheckpoint};
use crate::oversight::store::{OversightStore, StoreError};
use crate::pii::PiiError;

pub use evidence::ApprovalKeys;
pub use identity::normalize_identity;
pub use notify::{ApprovalNotice, ApprovalNotifier};
pub use request::{
    call_binding_hash, requesters, ApprovalRequest, ApprovalStatus, ApprovalStep, ApprovalVote,
    Vote,
};

/// How long an approved call may still be executed after its approval, unless configured
/// otherwise: long enough for an agent that paused to be resumed, short enough that an
/// approval cannot be kept for later.
pub const DEFAULT_EXECUTION_WINDOW: Duration = Duration::minutes(15);

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
    /// An approver id or role is empty or blank once normalised.
    #[error("the {0} is empty or blank")]
    BlankIdentity(&'static str),
    /// The approval service's signing key could not be made.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The approval does not verify against its signed evidence (a store edited outside aims,
    /// or votes no trusted key signed): the call may not run.
    #[error("approval request {id} does not verify: {problem}")]
    Unverified {
        /// The request.
        id: String,
        /// What failed.
        problem: String,
    },
    /// The approved call was not executed within its execution window.
    #[error("approval request {0} was approved too long ago: its execution window has closed")]
    ExecutionWindowClosed(String),
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

/// What a transaction decided (the caller's answer) and the steps it took, to announce once
/// it committed.
type Settled<T> = (
    Result<T, ApprovalError>,
    Vec<(ApprovalStep, ApprovalRequest)>,
);

/// The checkpoints requests can be opened at, by id.
pub(crate) type CheckpointTable = HashMap<String, CheckpointRules>;

/// The approval service over one store. Clones share the store, sink, clock, checkpoints,
/// keys, notifiers and the signal that wakes waiters.
#[derive(Clone)]
pub struct Approvals {
    store: Arc<OversightStore>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    checkpoints: Arc<ArcSwap<CheckpointTable>>,
    notifiers: Vec<Arc<dyn ApprovalNotifier>>,
    changes: Arc<ChangeSignal>,
    keys: Arc<ApprovalKeys>,
    /// This service's id, stored with the votes it casts: votes from elsewhere are recorded
    /// in this service's log when it executes the call.
    origin: Arc<str>,
    execution_window: Duration,
    /// Requests executed by this process: a store rolled back to `approved` cannot make
    /// this process run one again.
    executed: Arc<Mutex<HashSet<String>>>,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals")
            .field("store", &self.store.path())
            .field("clock", &self.clock)
            .field(
                "checkpoints",
                &self.checkpoints.load().keys().cloned().collect::<Vec<_>>(),
            )
            .field("notifiers", &self.notifiers.len())
            .field("keys", &self.keys)
            .field("execution_window", &self.execution_window)
            .finish_non_exhaustive()
    }
}

impl Approvals {
    /// A service on `store` writing every step to `audit`, on the system clock, with no
    /// checkpoint configured yet, signing with a new key of its own (give the runtime's with
    /// [`Approvals::with_keys`] so other processes can verify what it signs).
    pub fn new(
        store: Arc<OversightStore>,
        audit: Arc<dyn AuditSink>,
    ) -> Result<Self, ApprovalError> {
        Ok(Self {
            store,
            audit,
            clock: Arc::new(SystemClock),
            checkpoints: Arc::new(ArcSwap::from_pointee(HashMap::new())),
            notifiers: Vec::new(),
            changes: Arc::new(ChangeSignal::default()),
            keys: Arc::new(ApprovalKeys::ephemeral()?),
            origin: super::new_id("apv", "approvals").into(),
            execution_window: DEFAULT_EXECUTION_WINDOW,
            executed: Arc::new(Mutex::new(HashSet::new())),
        })
    }

    /// Signs requests and votes with `keys` and trusts the keys it names.
    pub fn with_keys(mut self, keys: ApprovalKeys) -> Self {
        self.keys = Arc::new(keys);
        self
    }

    /// How long after approval a call may be executed (default
    /// [`DEFAULT_EXECUTION_WINDOW`]); requests keep the window they were opened with.
    pub fn with_execution_window(mut self, window: std::time::Duration) -> Self {
        self.execution_window = Duration::try_from(window).unwrap_or(Duration::MAX);
        self
    }

    /// Whether any checkpoint is configured (without one no request can be opened here).
    pub(crate) fn has_checkpoints(&self) -> bool {
        !self.checkpoints.load().is_empty()
    }

    /// The keys requests and votes are signed and verified with.
    pub fn keys(&self) -> &ApprovalKeys {
        &self.keys
    }

    /// Reads time from `clock` (a [`crate::oversight::ManualClock`] in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds (or replaces) a checkpoint of the register. Requests already made keep the rules
    /// they were made with.
    pub fn with_checkpoint(self, checkpoint: &OversightCheckpoint) -> Result<Self, ApprovalError> {
        let rules = CheckpointRules::from_register(checkpoint)?;
        let mut table = CheckpointTable::clone(&self.checkpoints.load());
        table.insert(checkpoint.id.clone(), rules);
        self.checkpoints.store(Arc::new(table));
        Ok(self)
    }

    /// Checks `checkpoints` and builds their table, for [`Approvals::replace_checkpoints`].
    pub(crate) fn checkpoint_table<'a>(
        checkpoints: impl IntoIterator<Item = &'a OversightCheckpoint>,
    ) -> Result<CheckpointTable, ApprovalError> {
        checkpoints
            .into_iter()
            .map(|checkpoint| {
                Ok((
                    checkpoint.id.clone(),
                    CheckpointRules::from_register(checkpoint)?,
                ))
            })
            .collect()
    }

    /// Swaps in a new set of checkpoints, for every clone at once. Requests already made keep
    /// the rules they were made with.
    pub(crate) fn replace_checkpoints(&self, table: CheckpointTable) {
        self.checkpoints.store(Arc::new(table));
    }

    /// Adds a notifier, told of every step after it is committed.
    pub fn with_notifier(mut self, notifier: impl ApprovalNotifier + 'static) -> Self {
        self.notifiers.push(Arc::new(notifier));
        self
    }

    /// Opens a request for a call the guard decided `require_approval`, bound to the hash of
    /// the call and the deciding policy version, and sealed with this service's key. When a
    /// request for the identical call is already pending, that request is returned instead (no
    /// duplicate is opened and nothing is recorded).
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
        let checkpoints = self.checkpoints.load();
        let CheckpointRules {
            checkpoint,
            timeout,
        } = checkpoints
            .get(checkpoint_id)
            .ok_or_else(|| ApprovalError::UnknownCheckpoint(checkpoint_id.to_string()))?;
        let now = self.clock.now();
        let call_hash = call_binding_hash(call, &decision.policy_version);
        if let Some(pending) = self.pending_for(&call_hash)? {
            return Ok(pending);
        }
        let mut request = ApprovalRequest {
            id: super::new_id("apr", &call_hash),
            checkpoint: checkpoint.id.clone(),
            call_hash,
            agent_id: call.agent_id.clone(),
            tool: call.tool.clone(),
            requested_by: requesters(call),
            policy_version: decision.policy_version.clone(),
            decision_id: Some(decision.decision_id.clone()),
            approver_roles: checkpoint
                .approver_roles
                .iter()
                .filter_map(|role| normalize_identity(role))
                .collect(),
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
            execution_window: self.execution_window,
            votes: Vec::new(),
            seal: None,
        };
        request.seal = Some(evidence::seal(&request, &self.keys)?);
        self.store.write(|tx| {
            rows::insert_request(tx, &request)?;
            self.record(ApprovalStep::Requested, &request, None)
        })?;
        self.announce(&[(ApprovalStep::Requested, request.clone())]);
        Ok(request)
    }

    /// The pending request for the call with this binding hash whose window is still open, if
    /// any (settling those whose window closed).
    fn pending_for(&self, call_hash: &str) -> Result<Option<ApprovalRequest>, ApprovalError> {
        let ids = self
            .store
            .read(|conn| rows::request_ids_for_call(conn, call_hash, ApprovalStatus::Pending))?;
        for id in ids {
            let request = self.status(&id)?;
            if request.is_pending() {
                return Ok(Some(request));
            }
        }
        Ok(None)
    }

    /// Ids of approved, not yet executed requests for the identical call (same binding hash
    /// under `policy_version`), oldest first: what a retry of the call may consume with
    /// [`Approvals::execute`].
    pub fn approved_for(
        &self,
        call: &ToolCall,
        policy_version: &str,
    ) -> Result<Vec<String>, ApprovalError> {
        let call_hash = call_binding_hash(call, policy_version);
        // A pending request whose window closed under `on_timeout: allow` is approved now.
        self.pending_for(&call_hash)?;
        Ok(self
            .store
            .read(|conn| rows::request_ids_for_call(conn, &call_hash, ApprovalStatus::Approved))?)
    }

    /// Approves request `id` as `approver` acting in `role`. The request becomes approved once
    /// `required_approvals` distinct approvers have approved. Refused when the approver id or
    /// role is blank, the role may not vote, the approver triggered the call or already voted,
    /// or the window has closed. Identities and roles are compared in their normal form
    /// ([`normalize_identity`]); the note is masked for PII before it is stored. The vote is
    /// signed with this service's key.
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
        let request = self.get(id)?;
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

    /// Request `id` as stored, without settling a closed window (nothing is written: for
    /// readers such as an approver's CLI).
    pub fn get(&self, id: &str) -> Result<ApprovalRequest, ApprovalError> {
        self.store
            .read(|conn| rows::load_request(conn, id))?
            .ok_or_else(|| ApprovalError::UnknownRequest(id.to_string()))
    }

    /// Requests as stored with `status` (every request with `None`), oldest first, without
    /// settling closed windows.
    pub fn list(
        &self,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        let ids = self.store.read(|conn| match status {
            Some(status) => rows::request_ids_with_status(conn, status),
            None => rows::all_request_ids(conn),
        })?;
        ids.iter().map(|id| self.get(id)).collect()
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

    /// Marks the approved request `id` executed, once, if `call` is the call that was approved,
    /// the approval verifies against its signed evidence, its execution window is open, and
    /// the policy's decision on `call` now (made by `decide`, given the request, only once
    /// all of that holds) still lets it run: allow, warn or redact, or `require_approval` at
    /// the same checkpoint. A refusal is recorded as an `execution_refused` step (a closed
    /// window as `expired`); votes cast by another process are recorded, with the key that
    /// signed them, before the `executed` step.
    pub fn execute(
        &self,
        id: &str,
        call: &ToolCall,
        decide: impl FnOnce(&ApprovalRequest) -> Decision,
    ) -> Result<(ApprovalRequest, Decision), ApprovalError> {
        let now = self.clock.now();
        let (outcome, steps) = self.store.write(|tx| {
            let mut request = rows::load_request(tx, id)?
                .ok_or_else(|| ApprovalError::UnknownRequest(id.to_string()))?;
            if request.status != ApprovalStatus::Approved || self.executed_here(id) {
                return Err(ApprovalError::NotApproved {
                    id: id.to_string(),
                    status: if request.status == ApprovalStatus::Approved {
                        ApprovalStatus::Executed
                    } else {
                        request.status
                    },
                });
            }
            let verified = match evidence::verify(&request, &self.keys, now) {
                Ok(verified) => verified,
                Err(problem) => {
                    let refusal = ApprovalError::Unverified {
                        id: id.to_string(),
                        problem,
                    };
                    return self.refuse(&request, refusal);
                }
            };
            if call_binding_hash(call, &verified.terms.policy_version) != verified.terms.call_hash {
                return self.refuse(&request, ApprovalError::CallChanged(id.to_string()));
            }
            let window = Duration::nanoseconds(verified.terms.execution_window_ns);
            if now > verified.approved_at + window {
                request.status = ApprovalStatus::Expired;
                rows::update_request(tx, &request)?;
                let note = "the execution window closed before the call ran";
                self.record(
                    ApprovalStep::Expired,
                    &request,
                    Some(StepDetail::note(note.into())),
                )?;
                let refusal = ApprovalError::ExecutionWindowClosed(id.to_string());
                return Ok((Err(refusal), vec![(ApprovalStep::Expired, request)]));
            }
            let current = decide(&request);
            if let Some(refusal) = execution_refusal(&request, &current) {
                return self.refuse(&request, refusal);
            }
            for &i in &verified.counted {
                let vote = &request.votes[i];
                if vote.origin.as_deref() != Some(&*self.origin) {
                    self.record(
                        ApprovalStep::Approved,
                        &request,
                        Some(StepDetail::observed(vote)),
                    )?;
                }
            }
            request.status = ApprovalStatus::Executed;
            request.executed_at = Some(now);
            rows::update_request(tx, &request)?;
            self.record(ApprovalStep::Executed, &request, None)?;
            Ok((
                Ok((request.clone(), current)),
                vec![(ApprovalStep::Executed, request)],
            ))
        })?;
        if outcome.is_ok() {
            self.executed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(id.to_owned());
        }
        self.announce(&steps);
        outcome
    }

    fn executed_here(&self, id: &str) -> bool {
        self.executed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(id)
    }

    /// Records `refusal` as an `execution_refused` step; the request stays as it was.
    fn refuse<T>(
        &self,
        request: &ApprovalRequest,
        refusal: ApprovalError,
    ) -> Result<Settled<T>, ApprovalError> {
        self.record(
            ApprovalStep::ExecutionRefused,
            request,
            Some(StepDetail::note(refusal.to_string())),
        )?;
        Ok((
            Err(refusal),
            vec![(ApprovalStep::ExecutionRefused, request.clone())],
        ))
    }

    fn vote(
        &self,
        id: &str,
        approver: &str,
        role: &str,
        note: Option<&str>,
        vote: Vote,
    ) -> Result<ApprovalRequest, ApprovalError> {
        let approver =
            normalize_identity(approver).ok_or(ApprovalError::BlankIdentity("approver id"))?;
        let role = normalize_identity(role).ok_or(ApprovalError::BlankIdentity("approver role"))?;
        let note = note.map(super::mask_free_text).transpose()?;
        // Close a window that has passed first, so an escalation happens before the vote is
        // judged against the roles allowed now.
        self.status(id)?;
        let now = self.clock.now();
        let step = self.store.write(|tx| {
            let mut request = rows::load_request(tx, id)?
                .ok_or_else(|| ApprovalError::UnknownRequest(id.to_string()))?;
            check_vote(&request, &approver, &role, vote, now)?;
            let mut cast = ApprovalVote {
                approver: approver.clone(),
                role: role.clone(),
                vote,
                note: note.clone(),
                at: now,
                signed_by: Some(self.keys.verifier().name().to_owned()),
                signature: None,
                origin: Some(self.origin.to_string()),
            };
            cast.signature = Some(evidence::sign_vote(&request, &cast, &self.keys)?);
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
                Some(StepDetail::vote(&approver, &role, note.as_deref())),
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

/// Who acted in a step and the note recorded with it. Approvers' notes are masked before they
/// are stored, so the store and the audit record hold the same masked text.
#[derive(Debug, Default)]
struct StepDetail {
    actor: Option<String>,
    role: Option<String>,
    note: Option<String>,
}

impl StepDetail {
    fn vote(actor: &str, role: &str, note: Option<&str>) -> Self {
        Self {
            actor: Some(actor.to_string()),
            role: Some(role.to_string()),
            note: note.map(str::to_owned),
        }
    }

    /// A vote cast by another process, seen (and its signature verified) by this one.
    fn observed(vote: &ApprovalVote) -> Self {
        let signer = vote.signed_by.as_deref().unwrap_or("unknown");
        let mut note = format!("cast in another process; signature by key {signer} verified");
        if let Some(text) = &vote.note {
            note.push_str(": ");
            note.push_str(text);
        }
        Self {
            actor: Some(vote.approver.clone()),
            role: Some(vote.role.clone()),
            note: Some(note),
        }
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
pub(crate) struct CheckpointRules {
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
    // Both sides in the normal form: requests stored by older builds hold ids as written.
    let same = |stored: &String, given: &str| normalize_identity(stored).as_deref() == Some(given);
    if !request
        .approver_roles
        .iter()
        .any(|allowed| same(allowed, role))
    {
        return Err(ApprovalError::RoleNotAllowed {
            id: id(),
            role: role.to_string(),
            allowed: request.approver_roles.clone(),
        });
    }
    if vote == Vote::Approve && request.requested_by.iter().any(|who| same(who, approver)) {
        return Err(ApprovalError::SelfApproval(id()));
    }
    if request
        .votes
        .iter()
        .any(|cast| same(&cast.approver, approver))
    {
        return Err(ApprovalError::AlreadyVoted(id()));
    }
    Ok(())
}

/// Why the policy's decision now does not let an approved request's call run, if it does not.
fn execution_refusal(request: &ApprovalRequest, current: &Decision) -> Option<ApprovalError> {
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

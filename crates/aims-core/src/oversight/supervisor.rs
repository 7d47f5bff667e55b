//! The guard with human oversight around it: every decision goes through the anomaly monitor
//! and the incident triggers, a `require_approval` decision opens an approval request (or joins
//! the pending one for the identical call), and an approved call runs once, when it is retried
//! or executed by id, after its approval verifies and the policy in force lets it run, counted
//! against its limits like any call.
//!
//! Checkpoints come from the policy's `checkpoints` section and, optionally, the register's
//! `oversight` section; incident triggers from the policy's `incidents` section. Both are read
//! when the supervisor is built and swapped together with the policy by
//! [`Supervisor::reload`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use arc_swap::ArcSwap;
use serde_json::Value;

use crate::audit::{AnomalyEvent, AuditEvent, AuditSink, SinkError};
use crate::guard::{Clock, Decision, Guard, Reason, SystemClock, ToolCall, Verdict};
use crate::model::OversightCheckpoint;
use crate::oversight::anomaly::{Anomaly, AnomalyConfig, AnomalyLevel, AnomalyMonitor};
use crate::oversight::approvals::{
    ApprovalError, ApprovalKeys, ApprovalNotifier, ApprovalRequest, Approvals, CheckpointTable,
};
use crate::oversight::incidents::{
    IncidentError, IncidentSignal, Incidents, Raised, TriggerEngine,
};
use crate::oversight::store::OversightStore;
use crate::pii::{PiiError, Scanner, ScannerConfig};
use crate::policy::Policy;

/// Why the supervisor could not be built, or could not finish handling a call. A call whose
/// handling failed must not run.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// An approval step failed or was refused.
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    /// An incident could not be recorded.
    #[error(transparent)]
    Incident(#[from] IncidentError),
    /// An anomaly could not be recorded.
    #[error("anomaly not recorded: {0}")]
    Audit(#[from] SinkError),
    /// The PII scanner for `pii_in_result` triggers could not be built.
    #[error(transparent)]
    Pii(#[from] PiiError),
    /// Two checkpoints (policy and register together) share an id.
    #[error("oversight checkpoint {0:?} is declared twice")]
    DuplicateCheckpoint(String),
    /// Two incident triggers share an id.
    #[error("incident trigger {0:?} is declared twice")]
    DuplicateTrigger(String),
}

/// The part of oversight derived from the policy (with the register's checkpoints): swapped
/// as one with the policy on reload.
struct PolicyOversight {
    triggers: TriggerEngine,
    scanner: Option<Scanner>,
}

impl PolicyOversight {
    /// Checks the checkpoints (policy and register together) and the triggers of `policy`.
    fn for_policy(
        policy: &Policy,
        register_checkpoints: &[OversightCheckpoint],
    ) -> Result<(Self, CheckpointTable), SupervisorError> {
        let mut seen = HashSet::new();
        let checkpoints = policy.checkpoints().iter().chain(register_checkpoints);
        for checkpoint in checkpoints.clone() {
            if !seen.insert(checkpoint.id.as_str()) {
                return Err(SupervisorError::DuplicateCheckpoint(checkpoint.id.clone()));
            }
        }
        let table = Approvals::checkpoint_table(checkpoints)?;
        let triggers = policy.incident_triggers().to_vec();
        let mut trigger_ids = HashSet::new();
        for trigger in &triggers {
            if !trigger_ids.insert(trigger.id.as_str()) {
                return Err(SupervisorError::DuplicateTrigger(trigger.id.clone()));
            }
        }
        let scans_results = triggers.iter().any(|trigger| {
            matches!(
                trigger.when,
                crate::oversight::incidents::TriggerCondition::PiiInResult { .. }
            )
        });
        let scanner = if scans_results {
            Some(Scanner::new(ScannerConfig::default())?)
        } else {
            None
        };
        Ok((
            Self {
                triggers: TriggerEngine::new(triggers),
                scanner,
            },
            table,
        ))
    }
}

/// What the supervisor did with one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Supervised {
    /// The guard's decision (recorded; `audit_index` says where).
    pub decision: Decision,
    /// The approval request opened when the decision is `require_approval`.
    pub approval: Option<ApprovalRequest>,
    /// Shifts the anomaly monitor detected with this decision (each recorded).
    pub anomalies: Vec<Anomaly>,
    /// Incidents opened or extended.
    pub incidents: Vec<Raised>,
}

/// An approved call cleared to run now.
#[derive(Debug, Clone, PartialEq)]
pub struct Cleared {
    /// The request, now `executed`.
    pub request: ApprovalRequest,
    /// The decision of the policy in force when the call was evaluated again.
    pub decision: Decision,
}

/// The guard, approvals, incidents and anomaly monitoring over one store and one audit sink.
/// Cheap to clone (clones share everything, reloads included); `Send + Sync`.
#[derive(Clone)]
pub struct Supervisor {
    guard: Guard,
    approvals: Approvals,
    incidents: Incidents,
    oversight: Arc<ArcSwap<PolicyOversight>>,
    register_checkpoints: Arc<Mutex<Vec<OversightCheckpoint>>>,
    /// Held shared while a call is handled and exclusively while the policy and the
    /// oversight derived from it are swapped, so no call sees one without the other.
    reload_lock: Arc<RwLock<()>>,
    anomalies: Arc<AnomalyMonitor>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("guard", &self.guard)
            .field("approvals", &self.approvals)
            .field("incidents", &self.incidents)
            .field("triggers", &self.oversight.load().triggers.triggers().len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Supervisor`].
#[must_use]
pub struct SupervisorBuilder {
    guard: Guard,
    store: Arc<OversightStore>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    register_checkpoints: Vec<OversightCheckpoint>,
    anomaly: AnomalyConfig,
    notifiers: Vec<Box<dyn ApprovalNotifier>>,
    keys: Option<ApprovalKeys>,
    execution_window: Option<std::time::Duration>,
}

impl std::fmt::Debug for SupervisorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorBuilder")
            .field("guard", &self.guard)
            .field("store", &self.store.path())
            .field("register_checkpoints", &self.register_checkpoints.len())
            .finish_non_exhaustive()
    }
}

impl SupervisorBuilder {
    /// The clock for expiry, incidents and burst windows; pass the guard's clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds the register's checkpoints to those of the policy.
    pub fn register_checkpoints(mut self, checkpoints: &[OversightCheckpoint]) -> Self {
        self.register_checkpoints.extend_from_slice(checkpoints);
        self
    }

    /// Tunes the anomaly monitor (defaults in `docs/oversight.md`).
    pub fn anomaly(mut self, config: AnomalyConfig) -> Self {
        self.anomaly = config;
        self
    }

    /// Adds a notifier told of every approval step.
    pub fn notifier(mut self, notifier: impl ApprovalNotifier + 'static) -> Self {
        self.notifiers.push(Box::new(notifier));
        self
    }

    /// Signs approval requests and votes with `keys` and trusts the keys it names (default: a
    /// new key of this process's own, which other processes cannot verify).
    pub fn approval_keys(mut self, keys: ApprovalKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// How long after approval a call may be executed (default
    /// [`crate::oversight::approvals::DEFAULT_EXECUTION_WINDOW`]).
    pub fn execution_window(mut self, window: std::time::Duration) -> Self {
        self.execution_window = Some(window);
        self
    }

    /// Builds the supervisor, checking the checkpoints and triggers.
    pub fn build(self) -> Result<Supervisor, SupervisorError> {
        let (oversight, table) =
            PolicyOversight::for_policy(&self.guard.policy(), &self.register_checkpoints)?;
        let mut approvals = Approvals::new(Arc::clone(&self.store), Arc::clone(&self.audit))?
            .with_clock(Arc::clone(&self.clock));
        approvals.replace_checkpoints(table);
        if let Some(keys) = self.keys {
            approvals = approvals.with_keys(keys);
        }
        if let Some(window) = self.execution_window {
            approvals = approvals.with_execution_window(window);
        }
        for notifier in self.notifiers {
            approvals = approvals.with_notifier(BoxedNotifier(notifier));
        }
        Ok(Supervisor {
            incidents: Incidents::new(self.store, Arc::clone(&self.audit))
                .with_clock(Arc::clone(&self.clock)),
            approvals,
            oversight: Arc::new(ArcSwap::from_pointee(oversight)),
            register_checkpoints: Arc::new(Mutex::new(self.register_checkpoints)),
            reload_lock: Arc::new(RwLock::new(())),
            anomalies: Arc::new(AnomalyMonitor::new(self.anomaly)),
            audit: self.audit,
            clock: self.clock,
            guard: self.guard,
        })
    }
}

/// A boxed notifier handed to [`Approvals::with_notifier`], which takes one by value.
struct BoxedNotifier(Box<dyn ApprovalNotifier>);

impl ApprovalNotifier for BoxedNotifier {
    fn notify(&self, notice: &crate::oversight::approvals::ApprovalNotice) {
        self.0.notify(notice)
    }
}

impl Supervisor {
    /// Starts building a supervisor around `guard`, keeping its state in `store` and recording
    /// to `audit` (give it the guard's sink, so every record is in one log).
    pub fn builder(
        guard: Guard,
        store: Arc<OversightStore>,
        audit: Arc<dyn AuditSink>,
    ) -> SupervisorBuilder {
        SupervisorBuilder {
            guard,
            store,
            audit,
            clock: Arc::new(SystemClock),
            register_checkpoints: Vec::new(),
            anomaly: AnomalyConfig::default(),
            notifiers: Vec::new(),
            keys: None,
            execution_window: None,
        }
    }

    /// Decides a call (recording the decision), feeds the anomaly monitor and the incident
    /// triggers, and handles approvals:
    ///
    /// - an approved, not yet executed request for the identical call is consumed: the call
    ///   is decided with that approval ([`Guard::check_approved`]: limits and budgets count),
    ///   the request is marked executed, and the decision may proceed with `approval_id`
    ///   naming the request. A second retry needs a new approval;
    /// - a `require_approval` decision opens a request, or returns the pending request for
    ///   the identical call; `approval_id` names it.
    ///
    /// Run the call only when `decision.may_proceed()` and this returned `Ok`.
    pub fn check(&self, call: &ToolCall) -> Result<Supervised, SupervisorError> {
        self.handle(call).map_err(|failed| failed.error)
    }

    /// [`Supervisor::check`] for hosts that must always get a recorded decision: when
    /// oversight fails after the guard decided, the decision is turned into a deny with reason
    /// `oversight_failed` (the call must not run).
    pub fn admit(&self, call: &ToolCall) -> Supervised {
        match self.handle(call) {
            Ok(supervised) => supervised,
            Err(failed) => Supervised {
                decision: Self::fail_closed(failed.decision, &failed.error),
                approval: None,
                anomalies: Vec::new(),
                incidents: Vec::new(),
            },
        }
    }

    fn handle(&self, call: &ToolCall) -> Result<Supervised, Box<Failed>> {
        let _policy_in_force = self.hold_policy();
        if let Some(supervised) = self.consume_approval(call)? {
            return Ok(supervised);
        }
        let decision = self.guard.check(call);
        self.supervise_decided(call, decision, None)
    }

    /// Runs `call` on an approved request for the identical call, if there is one that
    /// verifies. `None` when there is none (the call is then decided as usual).
    fn consume_approval(&self, call: &ToolCall) -> Result<Option<Supervised>, Box<Failed>> {
        if !self.approvals.has_checkpoints() {
            return Ok(None);
        }
        // A store that cannot be read here is caught on the usual path: a call that needs
        // approval cannot open its request on it, and is denied.
        let Ok(ids) = self
            .approvals
            .approved_for(call, &self.guard.policy_version())
        else {
            return Ok(None);
        };
        for id in ids {
            let mut decided = None;
            let executed = self.approvals.execute(&id, call, |request| {
                let decision = self.guard.check_approved(call, &request.checkpoint);
                decided = Some(decision.clone());
                decision
            });
            match (executed, decided) {
                (Ok((request, mut decision)), _) => {
                    decision.approval_id = Some(request.id.clone());
                    return self
                        .supervise_decided(call, decision, Some(request))
                        .map(Some);
                }
                // Decided and recorded, and the policy now refuses it (a limit, a deny, another
                // checkpoint): that decision stands for this call.
                (Err(_), Some(decision)) if !decision.may_proceed() => {
                    return self.supervise_decided(call, decision, None).map(Some);
                }
                // Recorded as proceeding, but the execution could not be stored or recorded.
                (Err(error), Some(decision)) => {
                    return Err(Box::new(Failed {
                        decision,
                        error: error.into(),
                    }))
                }
                // Refused before deciding (evidence that does not verify, a closed execution
                // window, another replica executed it first): recorded; try the next one.
                (Err(_), None) => {}
            }
        }
        Ok(None)
    }

    /// What [`Supervisor::check`] does after the guard decided: for callers that must keep the
    /// recorded decision when oversight fails (to deny with it). It does not consume
    /// approvals (the decision is already made); [`Supervisor::check`] does.
    pub fn supervise(
        &self,
        call: &ToolCall,
        decision: Decision,
    ) -> Result<Supervised, SupervisorError> {
        let _policy_in_force = self.hold_policy();
        self.supervise_decided(call, decision, None)
            .map_err(|failed| failed.error)
    }

    fn supervise_decided(
        &self,
        call: &ToolCall,
        mut decision: Decision,
        executed: Option<ApprovalRequest>,
    ) -> Result<Supervised, Box<Failed>> {
        let failed = |decision: &Decision| {
            let decision = decision.clone();
            move |error: SupervisorError| Box::new(Failed { decision, error })
        };
        let approval = if decision.verdict == Verdict::RequireApproval && !decision.shadow {
            let request = self
                .approvals
                .request(call, &decision)
                .map_err(|err| failed(&decision)(err.into()))?;
            decision.approval_id = Some(request.id.clone());
            Some(request)
        } else {
            executed
        };
        let anomalies = self.anomalies.observe(&call.agent_id, decision.verdict);
        self.raise_for_decision(call, &decision, &anomalies)
            .map(|incidents| Supervised {
                decision: decision.clone(),
                approval,
                anomalies,
                incidents,
            })
            .map_err(failed(&decision))
    }

    fn raise_for_decision(
        &self,
        call: &ToolCall,
        decision: &Decision,
        anomalies: &[Anomaly],
    ) -> Result<Vec<Raised>, SupervisorError> {
        let oversight = self.oversight.load();
        let policy = self.guard.policy();
        let rule_severity = |id: &str| {
            policy
                .rules()
                .iter()
                .find(|rule| rule.id() == id)
                .and_then(|rule| rule.severity())
        };
        let mut signals =
            oversight
                .triggers
                .on_decision(call, decision, rule_severity, self.clock.now());
        for anomaly in anomalies {
            self.record_anomaly(anomaly)?;
            signals.extend(oversight.triggers.on_anomaly(anomaly, call));
        }
        self.raise_all(&signals)
    }

    /// Swaps in `policy` and the oversight configuration derived from it (its checkpoints with
    /// the register's, its incident triggers) as one: no call is decided by the new policy
    /// while oversight still has the old checkpoints, or the other way round. Recorded as one
    /// `policy_loaded` event. When the new configuration is invalid or the record fails,
    /// nothing changes. Deny-burst windows start afresh; anomaly baselines and pending
    /// requests are kept (requests keep the rules they were opened with).
    pub fn reload(&self, policy: Policy) -> Result<(), SupervisorError> {
        let register = self
            .register_checkpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        self.reload_with_register(policy, &register)
    }

    /// [`Supervisor::reload`] with a new set of register checkpoints too.
    pub fn reload_with_register(
        &self,
        policy: Policy,
        register_checkpoints: &[OversightCheckpoint],
    ) -> Result<(), SupervisorError> {
        let (oversight, table) = PolicyOversight::for_policy(&policy, register_checkpoints)?;
        let _exclusive = self
            .reload_lock
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.guard.reload(policy)?;
        self.approvals.replace_checkpoints(table);
        self.oversight.store(Arc::new(oversight));
        *self
            .register_checkpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = register_checkpoints.to_vec();
        Ok(())
    }

    /// A recorded decision turned into a deny because oversight around it failed (the request
    /// could not be opened, an incident could not be recorded): the call must not run.
    pub fn fail_closed(mut decision: Decision, err: &SupervisorError) -> Decision {
        decision.verdict = Verdict::Deny;
        decision.shadow = false;
        decision.redactions.clear();
        decision.approval_id = None;
        decision.reasons.push(Reason {
            code: "oversight_failed".to_owned(),
            rule_id: None,
            message: format!("failing closed: {err}"),
        });
        decision
    }

    fn hold_policy(&self) -> RwLockReadGuard<'_, ()> {
        // The lock guards no data: a panic while it was held leaves nothing half-written.
        self.reload_lock
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Decides a call's result (recorded when a result rule matched) and, when `pii_in_result`
    /// triggers exist, scans the result for the PII they name.
    pub fn check_result(
        &self,
        call: &ToolCall,
        result: &Value,
    ) -> Result<Supervised, SupervisorError> {
        let _policy_in_force = self.hold_policy();
        self.supervise_result(call, result, self.guard.check_result(call, result))
    }

    /// Whether `pii_in_result` triggers make the supervisor scan results.
    pub fn scans_results(&self) -> bool {
        self.oversight.load().scanner.is_some()
    }

    /// What [`Supervisor::check_result`] does after the guard decided the result.
    pub fn supervise_result(
        &self,
        call: &ToolCall,
        result: &Value,
        decision: Decision,
    ) -> Result<Supervised, SupervisorError> {
        let oversight = self.oversight.load();
        let signals = match &oversight.scanner {
            Some(scanner) => {
                let found: Vec<_> = scanner
                    .scan_json(result)
                    .into_iter()
                    .map(|found| found.finding.entity)
                    .collect();
                oversight
                    .triggers
                    .on_result_pii(call, &found, decision.audit_index)
            }
            None => Vec::new(),
        };
        let incidents = self.raise_all(&signals)?;
        Ok(Supervised {
            decision,
            approval: None,
            anomalies: Vec::new(),
            incidents,
        })
    }

    /// Clears approved request `id` to run `call` now, once: the call must hash to the
    /// approved call and the approval verify against its signed evidence within its execution
    /// window; then the call is decided with the approval by the policy in force
    /// ([`Guard::check_approved`]: limits and budgets count) and that one decision is recorded
    /// and returned. It may proceed, and names the request in `approval_id`. Refusals are
    /// recorded and returned as errors; the call must not run then.
    pub fn execute_approved(&self, id: &str, call: &ToolCall) -> Result<Cleared, SupervisorError> {
        let _policy_in_force = self.hold_policy();
        let (request, mut decision) = self.approvals.execute(id, call, |request| {
            self.guard.check_approved(call, &request.checkpoint)
        })?;
        decision.approval_id = Some(request.id.clone());
        Ok(Cleared { request, decision })
    }

    /// Records a failed verification of the audit log (`problem`: what failed) as an incident,
    /// when an `audit_verification_failed` trigger exists.
    pub fn audit_verification_failed(&self, problem: &str) -> Result<Vec<Raised>, SupervisorError> {
        self.raise_all(
            &self
                .oversight
                .load()
                .triggers
                .on_audit_verification_failed(problem),
        )
    }

    /// The guard.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Approvals: approve, reject, status, wait, pending, expire_due.
    pub fn approvals(&self) -> &Approvals {
        &self.approvals
    }

    /// Incidents: list, get, update.
    pub fn incidents(&self) -> &Incidents {
        &self.incidents
    }

    /// The anomaly monitor, for its snapshots.
    pub fn anomalies(&self) -> &AnomalyMonitor {
        &self.anomalies
    }

    fn record_anomaly(&self, anomaly: &Anomaly) -> Result<(), SupervisorError> {
        self.audit.append(AuditEvent::Anomaly(AnomalyEvent {
            agent_id: anomaly.agent_id.clone(),
            signal: anomaly.signal.as_str().to_string(),
            level: match anomaly.level {
                AnomalyLevel::Warning => "warning",
                AnomalyLevel::Incident => "incident",
            }
            .to_string(),
            baseline_rate: anomaly.baseline_rate,
            current_rate: anomaly.current_rate,
            cusum: anomaly.cusum,
        }))?;
        Ok(())
    }

    fn raise_all(&self, signals: &[IncidentSignal]) -> Result<Vec<Raised>, SupervisorError> {
        signals
            .iter()
            .map(|signal| Ok(self.incidents.raise(signal)?))
            .collect()
    }
}

/// Oversight failed after the guard decided (and recorded) `decision`.
struct Failed {
    decision: Decision,
    error: SupervisorError,
}

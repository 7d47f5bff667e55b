//! The guard with human oversight around it: every decision goes through the anomaly monitor
//! and the incident triggers, a `require_approval` decision opens an approval request, and an
//! approved call runs only after it is hashed and evaluated again.
//!
//! Checkpoints come from the policy's `checkpoints` section and, optionally, the register's
//! `oversight` section; incident triggers from the policy's `incidents` section. Both are read
//! when the supervisor is built.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use crate::audit::{AnomalyEvent, AuditEvent, AuditSink, SinkError};
use crate::guard::{Clock, Decision, Guard, SystemClock, ToolCall, Verdict};
use crate::model::OversightCheckpoint;
use crate::oversight::anomaly::{Anomaly, AnomalyConfig, AnomalyLevel, AnomalyMonitor};
use crate::oversight::approvals::{ApprovalError, ApprovalNotifier, ApprovalRequest, Approvals};
use crate::oversight::incidents::{
    IncidentError, IncidentSignal, Incidents, Raised, TriggerEngine,
};
use crate::oversight::store::OversightStore;
use crate::pii::{PiiError, Scanner, ScannerConfig};

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
/// Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Supervisor {
    guard: Guard,
    approvals: Approvals,
    incidents: Incidents,
    triggers: Arc<TriggerEngine>,
    anomalies: Arc<AnomalyMonitor>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    scanner: Option<Scanner>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("guard", &self.guard)
            .field("approvals", &self.approvals)
            .field("incidents", &self.incidents)
            .field("triggers", &self.triggers.triggers().len())
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

    /// Builds the supervisor, checking the checkpoints and triggers.
    pub fn build(self) -> Result<Supervisor, SupervisorError> {
        let policy = self.guard.policy();
        let mut approvals = Approvals::new(Arc::clone(&self.store), Arc::clone(&self.audit))
            .with_clock(Arc::clone(&self.clock));
        let mut seen = HashSet::new();
        for checkpoint in policy
            .checkpoints()
            .iter()
            .chain(&self.register_checkpoints)
        {
            if !seen.insert(checkpoint.id.as_str()) {
                return Err(SupervisorError::DuplicateCheckpoint(checkpoint.id.clone()));
            }
            approvals = approvals.with_checkpoint(checkpoint)?;
        }
        for notifier in self.notifiers {
            approvals = approvals.with_notifier(BoxedNotifier(notifier));
        }
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
        Ok(Supervisor {
            incidents: Incidents::new(self.store, Arc::clone(&self.audit))
                .with_clock(Arc::clone(&self.clock)),
            approvals,
            triggers: Arc::new(TriggerEngine::new(triggers)),
            anomalies: Arc::new(AnomalyMonitor::new(self.anomaly)),
            audit: self.audit,
            clock: self.clock,
            scanner,
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
        }
    }

    /// Decides a call (recording the decision), feeds the anomaly monitor and the incident
    /// triggers, and opens an approval request when the decision is `require_approval`. Run the
    /// call only when `decision.may_proceed()` and this returned `Ok`.
    pub fn check(&self, call: &ToolCall) -> Result<Supervised, SupervisorError> {
        self.supervise(call, self.guard.check(call))
    }

    /// What [`Supervisor::check`] does after the guard decided: for callers that must keep the
    /// recorded decision when oversight fails (to deny with it).
    pub fn supervise(
        &self,
        call: &ToolCall,
        decision: Decision,
    ) -> Result<Supervised, SupervisorError> {
        let approval = if decision.verdict == Verdict::RequireApproval && !decision.shadow {
            Some(self.approvals.request(call, &decision)?)
        } else {
            None
        };
        let anomalies = self.anomalies.observe(&call.agent_id, decision.verdict);
        let policy = self.guard.policy();
        let rule_severity = |id: &str| {
            policy
                .rules()
                .iter()
                .find(|rule| rule.id() == id)
                .and_then(|rule| rule.severity())
        };
        let mut signals =
            self.triggers
                .on_decision(call, &decision, rule_severity, self.clock.now());
        for anomaly in &anomalies {
            self.record_anomaly(anomaly)?;
            signals.extend(self.triggers.on_anomaly(anomaly, call));
        }
        let incidents = self.raise_all(&signals)?;
        Ok(Supervised {
            decision,
            approval,
            anomalies,
            incidents,
        })
    }

    /// Decides a call's result (recorded when a result rule matched) and, when `pii_in_result`
    /// triggers exist, scans the result for the PII they name.
    pub fn check_result(
        &self,
        call: &ToolCall,
        result: &Value,
    ) -> Result<Supervised, SupervisorError> {
        self.supervise_result(call, result, self.guard.check_result(call, result))
    }

    /// Whether `pii_in_result` triggers make the supervisor scan results.
    pub fn scans_results(&self) -> bool {
        self.scanner.is_some()
    }

    /// What [`Supervisor::check_result`] does after the guard decided the result.
    pub fn supervise_result(
        &self,
        call: &ToolCall,
        result: &Value,
        decision: Decision,
    ) -> Result<Supervised, SupervisorError> {
        let signals = match &self.scanner {
            Some(scanner) => {
                let found: Vec<_> = scanner
                    .scan_json(result)
                    .into_iter()
                    .map(|found| found.finding.entity)
                    .collect();
                self.triggers
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

    /// Clears approved request `id` to run `call` now: the call is evaluated again by the
    /// policy in force (and that decision recorded), and must hash to the approved call.
    /// Refusals are recorded; the request can be executed once.
    pub fn execute_approved(&self, id: &str, call: &ToolCall) -> Result<Cleared, SupervisorError> {
        let decision = self.guard.check(call);
        let request = self.approvals.execute(id, call, &decision)?;
        Ok(Cleared { request, decision })
    }

    /// Records a failed verification of the audit log (`problem`: what failed) as an incident,
    /// when an `audit_verification_failed` trigger exists.
    pub fn audit_verification_failed(&self, problem: &str) -> Result<Vec<Raised>, SupervisorError> {
        self.raise_all(&self.triggers.on_audit_verification_failed(problem))
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

//! What the guard writes to its audit sink: decision ids and the events built from decisions
//! and outcomes (masked arguments, keyed hash of the raw ones).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::mask::{self, Masker};
use super::{Decision, ToolCall};
use crate::audit::{AuditSink, DecisionEvent};
use crate::canonical;

/// Unique decision ids: a random per-guard prefix and a counter, 32 hex digits. Cheap enough
/// for the hot path (no system call per id), unique across processes through the prefix.
#[derive(Debug)]
pub(crate) struct DecisionIds {
    prefix: u64,
    next: AtomicU64,
}

impl DecisionIds {
    pub(crate) fn new() -> Self {
        // std seeds RandomState from the OS, so this is a fresh random value per guard.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        hasher.write_u32(std::process::id());
        Self {
            prefix: hasher.finish(),
            next: AtomicU64::new(0),
        }
    }

    pub(crate) fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&self.prefix.to_be_bytes());
        id[8..].copy_from_slice(&n.to_be_bytes());
        canonical::lower_hex(&id)
    }
}

/// The audit record of a decision on `raw` (the call's arguments, or its result).
pub(crate) fn decision_event(
    decision: &Decision,
    call: &ToolCall,
    raw: &Value,
    sink: &dyn AuditSink,
    masker: &dyn Masker,
    eval_us: u64,
) -> DecisionEvent {
    let (args, masked) = mask::for_record(&decision.redactions, masker, raw);
    DecisionEvent {
        decision_id: decision.decision_id.clone(),
        phase: decision.phase,
        agent_id: call.agent_id.clone(),
        tool: call.tool.clone(),
        call_id: call.call_id.clone(),
        conversation_id: call.conversation_id.clone(),
        ai_system_id: call.ai_system_id.clone(),
        verdict: decision.verdict,
        enforced: !decision.shadow,
        rule_ids: decision.rule_ids.clone(),
        control_ids: decision.controls.clone(),
        reasons: decision.reasons.clone(),
        policy_version: decision.policy_version.clone(),
        args,
        args_hmac: sink.keyed_hash(raw),
        masked,
        checkpoint: decision.checkpoint.clone(),
        eval_us,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_within_and_across_generators() {
        let first = DecisionIds::new();
        let second = DecisionIds::new();
        let ids: HashSet<String> = (0..1000)
            .flat_map(|_| [first.next(), second.next()])
            .collect();
        assert_eq!(ids.len(), 2000);
        assert!(ids.iter().all(|id| id.len() == 32));
        // The prefix, then the counter, both as 16 hex digits.
        let third = first.next();
        assert_eq!(third[16..], format!("{:016x}", 1000));
        assert_eq!(third[..16], format!("{:016x}", first.prefix));
    }
}

//! Human oversight at runtime: approval requests, incidents and anomaly monitoring.
//!
//! - [`store`]: the embedded SQLite database (WAL, versioned schema) that keeps pending work
//!   across restarts.
//! - [`approvals`]: requests bound to the exact call, two-person rule, expiry and escalation.
//! - [`incidents`]: incidents opened by triggers, de-duplicated, with a validated lifecycle.
//! - [`supervisor`]: the guard with all of the above around it.
//! - [`anomaly`]: per-agent EWMA and CUSUM on deny and approval-request rates.
//! - [`settings`]: the approval settings a runtime is configured with.
//!
//! Time comes from the guard's injectable [`Clock`] (re-exported here), so one
//! [`ManualClock`] can drive the guard's limits and oversight's expiry in a test.
//!
//! The parameters and their defaults are documented in `docs/oversight.md`.

pub mod anomaly;
pub mod approvals;
pub mod incidents;
pub mod settings;
pub mod store;
pub mod supervisor;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::guard::{Clock, ManualClock, SystemClock};
pub use anomaly::{Anomaly, AnomalyConfig, AnomalyLevel, AnomalyMonitor, RateDetector, Signal};
pub use approvals::{
    ApprovalError, ApprovalKeys, ApprovalNotice, ApprovalNotifier, ApprovalRequest, ApprovalStatus,
    ApprovalStep, Approvals,
};
pub use incidents::{IncidentError, IncidentSignal, IncidentUpdate, Incidents, Raised};
pub use settings::ApprovalSettings;
pub use store::{OversightStore, StoreError};
pub use supervisor::{Cleared, Supervised, Supervisor, SupervisorBuilder, SupervisorError};

/// Free text written by people (approver notes, incident notes) as it may appear in the audit
/// log and the register: PII and secrets masked with type tags such as `<EMAIL_ADDRESS>`.
fn mask_free_text(text: &str) -> Result<String, crate::pii::PiiError> {
    use crate::pii::{MaskPolicy, Scanner, ScannerConfig};
    // Scanners for all entities share one compiled pattern set, so this is cheap after the
    // first call.
    let scanner = Scanner::new(ScannerConfig::default())?;
    Ok(scanner.mask(text, &MaskPolicy::default()))
}

/// A new id such as `apr_3f9c0a1b2c4d5e6f7a8b`: unique across threads and processes sharing a
/// store (a per-process random key, the process id, a counter and the time go into it), and
/// not guessable from another id.
fn new_id(prefix: &str, seed: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState carries a random key per process; hashing through it keeps ids unpredictable
    // without another dependency.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write(seed.as_bytes());
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_i128(time::OffsetDateTime::now_utc().unix_timestamp_nanos());
    let high = hasher.finish();
    hasher.write_u8(0xa5);
    let low = hasher.finish();
    format!("{prefix}_{high:016x}{:04x}", low & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_distinct_and_prefixed() {
        let ids: HashSet<String> = (0..10_000).map(|_| new_id("apr", "same seed")).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|id| id.starts_with("apr_") && id.len() == 4 + 20));
    }
}

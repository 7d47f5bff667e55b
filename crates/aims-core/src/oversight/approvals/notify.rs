//! How applications hear about approval steps: a notification hook (a callback or a channel)
//! for posting requests to a chat or a web page, and the in-process signal that wakes
//! blocking waiters.

use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Duration as StdDuration;

use serde::Serialize;

use super::request::{ApprovalRequest, ApprovalStep};

/// One step of one request, as told to a notifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalNotice {
    /// What happened.
    pub step: ApprovalStep,
    /// The request after the step.
    pub request: ApprovalRequest,
}

/// Receives a notice after every committed step. Called on the thread that made the step, after
/// the store committed it; it should hand the notice off quickly (post to a queue, send on a
/// channel) rather than block.
pub trait ApprovalNotifier: Send + Sync {
    /// Told once per step.
    fn notify(&self, notice: &ApprovalNotice);
}

impl<F> ApprovalNotifier for F
where
    F: Fn(&ApprovalNotice) + Send + Sync,
{
    fn notify(&self, notice: &ApprovalNotice) {
        self(notice)
    }
}

impl ApprovalNotifier for mpsc::Sender<ApprovalNotice> {
    fn notify(&self, notice: &ApprovalNotice) {
        // A dropped receiver means nobody listens any more; the step itself is already stored
        // and audited, so there is nothing to undo.
        let _ = self.send(notice.clone());
    }
}

/// Wakes in-process waiters when any request changes. Waiters also poll, so changes made by
/// another process on the same store and time passing on an injected clock are seen too.
#[derive(Debug, Default)]
pub(super) struct ChangeSignal {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl ChangeSignal {
    /// Tells every waiter something changed.
    pub(super) fn bump(&self) {
        let mut generation = self
            .generation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *generation = generation.wrapping_add(1);
        self.changed.notify_all();
    }

    /// The current generation, to pass to [`ChangeSignal::wait_after`].
    pub(super) fn generation(&self) -> u64 {
        *self
            .generation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Blocks until the generation moves past `seen` or `at_most` passes.
    pub(super) fn wait_after(&self, seen: u64, at_most: StdDuration) {
        let generation = self
            .generation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Spurious wake-ups and timeouts both just return: the caller re-reads the store.
        let _ = self
            .changed
            .wait_timeout_while(generation, at_most, |current| *current == seen);
    }
}

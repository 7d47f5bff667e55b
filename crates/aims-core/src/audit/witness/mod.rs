//! Witnesses: independent parties that cosign the log's checkpoints only when they extend
//! every checkpoint they cosigned before, so a log rolled back or forked by someone holding
//! its directory (or even its key) cannot gather their cosignatures again.
//!
//! - [`cosignature`]: C2SP `tlog-cosignature` keys, lines and quorum checks;
//! - [`Witness`]: the C2SP `tlog-witness` `add-checkpoint` decision and its durable state;
//!   [`WitnessServer`]: its HTTP front;
//! - [`WitnessClient`]: the log's side, which asks the witnesses listed in the log
//!   directory's `witnesses` file.

mod client;
pub mod cosignature;
mod server;
mod service;

pub use client::{
    parse_witnesses, ConfigError, Cosigning, WitnessClient, WitnessEndpoint, WitnessFailure,
    WITNESSES_FILE,
};
pub use cosignature::{require_quorum, Cosigned, CosignerKey, CosignerVerifier, QuorumError};
pub use server::{ListenError, WitnessServer};
pub use service::{Answer, Witness, WitnessError, MAX_PROOF_LINES, SIZE_CONTENT_TYPE};

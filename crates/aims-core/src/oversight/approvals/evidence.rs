//! Evidence an approval stands on that whoever can write the store cannot forge.
//!
//! The store is a database: anyone who can write it (an `UPDATE ... SET status='approved'`, a
//! database administrator, a shared PostgreSQL account) could otherwise approve a call. So:
//!
//! - a request's terms (the call hash, the checkpoint's rules as copied, the times, the
//!   execution window) are signed with Ed25519 by the runtime that opened it;
//! - each vote is signed when it is cast: by the runtime's key when cast through its API (the
//!   application authenticated the approver), or by the approver's own key (`aims approval
//!   approve --key`), whose name is the approver's id;
//! - before an approved call runs, the executing runtime checks the request's seal against the
//!   runtime keys it trusts and counts only votes whose signatures verify, re-applying the
//!   rules (roles per window, escalation, self-approval, distinct approvers) to the signed
//!   terms, not to the store's columns. The `status` column is only a cache of that result.
//!
//! Signatures are C2SP signed-note lines over a domain-separated RFC 8785 canonical body, so
//! no signature of one kind verifies as another (nor as an audit log checkpoint, which may
//! share the runtime's key).

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::identity::normalize_identity;
use super::request::{ApprovalRequest, ApprovalVote, Vote};
use crate::audit::keys::{KeyError, NoteSigner, NoteVerifier};
use crate::model::OnTimeout;
use crate::oversight::store::{from_nanos, to_nanos, StoreError};

const REQUEST_DOMAIN: &str = "aims approval request v1\n";
const VOTE_DOMAIN: &str = "aims approval vote v1\n";

/// The keys that sign approval evidence and those trusted to have signed it.
pub struct ApprovalKeys {
    signer: NoteSigner,
    runtimes: Vec<NoteVerifier>,
    approvers: Vec<NoteVerifier>,
}

impl fmt::Debug for ApprovalKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names =
            |keys: &[NoteVerifier]| keys.iter().map(ToString::to_string).collect::<Vec<_>>();
        f.debug_struct("ApprovalKeys")
            .field("signer", &self.signer.name())
            .field("runtimes", &names(&self.runtimes))
            .field("approvers", &names(&self.approvers))
            .finish()
    }
}

impl ApprovalKeys {
    /// Signs with `signer` (the runtime's key, or an approver's key in the CLI) and trusts it
    /// as a runtime key.
    pub fn new(signer: NoteSigner) -> Self {
        Self {
            runtimes: vec![signer.verifier()],
            signer,
            approvers: Vec::new(),
        }
    }

    /// A new random key, for a runtime without a configured one: its requests and votes verify
    /// only in this process.
    pub fn ephemeral() -> Result<Self, KeyError> {
        Ok(Self::new(NoteSigner::generate("aims-approvals")?))
    }

    /// Also trusts `key` as a runtime's: it may seal requests and vouch for votes by any
    /// approver (another replica sharing the store).
    pub fn trust_runtime(mut self, key: NoteVerifier) -> Self {
        self.runtimes.push(key);
        self
    }

    /// Also trusts `key` as an approver's: it authenticates votes by the approver whose id is
    /// the key's name (compared in the identity normal form).
    pub fn trust_approver(mut self, key: NoteVerifier) -> Self {
        self.approvers.push(key);
        self
    }

    /// The public key votes and requests signed here verify with.
    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    fn sign(&self, domain: &str, body: &str) -> String {
        self.signer
            .signature_line(&format!("{domain}{body}"))
            .trim_end()
            .to_owned()
    }

    fn runtime_signed(&self, domain: &str, body: &str, line: &str) -> bool {
        let text = format!("{domain}{body}");
        self.runtimes
            .iter()
            .any(|key| key.verify_signature_line(&text, line))
    }

    /// Whether `line` is a trusted signature over the vote by `approver`: a runtime's key, or
    /// the approver's own.
    fn vote_signed(&self, body: &str, line: &str, approver: &str) -> bool {
        if self.runtime_signed(VOTE_DOMAIN, body, line) {
            return true;
        }
        let text = format!("{VOTE_DOMAIN}{body}");
        self.approvers.iter().any(|key| {
            normalize_identity(key.name()).as_deref() == Some(approver)
                && key.verify_signature_line(&text, line)
        })
    }
}

/// The name of the key that made a signature line (`— NAME BASE64`).
pub(super) fn signer_name(line: &str) -> Option<&str> {
    line.strip_prefix("\u{2014} ")?.split(' ').next()
}

/// What a request's seal covers: everything that decides whether it is approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Terms {
    pub id: String,
    pub checkpoint: String,
    pub call_hash: String,
    pub agent_id: String,
    pub tool: String,
    pub requested_by: Vec<String>,
    pub policy_version: String,
    pub approver_roles: Vec<String>,
    pub required_approvals: u32,
    pub timeout_ns: i64,
    pub on_timeout: OnTimeout,
    pub escalate_to: Option<String>,
    pub requested_at_ns: i64,
    pub expires_at_ns: i64,
    pub execution_window_ns: i64,
}

/// A request's signed terms as stored: the canonical JSON and the signature line over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    pub(super) terms: String,
    pub(super) signature: String,
}

impl Terms {
    fn of(request: &ApprovalRequest) -> Result<Self, StoreError> {
        Ok(Self {
            id: request.id.clone(),
            checkpoint: request.checkpoint.clone(),
            call_hash: request.call_hash.clone(),
            agent_id: request.agent_id.clone(),
            tool: request.tool.clone(),
            requested_by: request.requested_by.clone(),
            policy_version: request.policy_version.clone(),
            approver_roles: request.approver_roles.clone(),
            required_approvals: request.required_approvals,
            timeout_ns: nanos(request.timeout)?,
            on_timeout: request.on_timeout,
            escalate_to: request.escalate_to.clone(),
            requested_at_ns: to_nanos(request.requested_at)?,
            expires_at_ns: to_nanos(request.expires_at)?,
            execution_window_ns: nanos(request.execution_window)?,
        })
    }
}

fn nanos(duration: Duration) -> Result<i64, StoreError> {
    i64::try_from(duration.whole_nanoseconds()).map_err(|_| StoreError::Corrupt {
        what: "duration",
        detail: format!("{duration} is outside the storable range"),
    })
}

fn canonical<T: Serialize>(value: &T) -> Result<String, StoreError> {
    let bytes = crate::canonical::to_canonical_vec(value).map_err(|err| StoreError::Corrupt {
        what: "approval evidence",
        detail: err.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|err| StoreError::Corrupt {
        what: "approval evidence",
        detail: err.to_string(),
    })
}

/// Seals a new request's terms with the runtime's key.
pub(super) fn seal(request: &ApprovalRequest, keys: &ApprovalKeys) -> Result<Seal, StoreError> {
    let terms = canonical(&Terms::of(request)?)?;
    let signature = keys.sign(REQUEST_DOMAIN, &terms);
    Ok(Seal { terms, signature })
}

/// What a vote's signature covers.
#[derive(Serialize)]
struct VoteBody<'a> {
    request_id: &'a str,
    call_hash: &'a str,
    approver: &'a str,
    role: &'a str,
    vote: &'a str,
    note: Option<&'a str>,
    at_ns: i64,
}

fn vote_body(request_id: &str, call_hash: &str, vote: &ApprovalVote) -> Result<String, StoreError> {
    canonical(&VoteBody {
        request_id,
        call_hash,
        approver: &vote.approver,
        role: &vote.role,
        vote: vote.vote.as_str(),
        note: vote.note.as_deref(),
        at_ns: to_nanos(vote.at)?,
    })
}

/// Signs a vote on `request` (its id and call hash are part of what is signed, so the
/// signature cannot be moved to another request).
pub(super) fn sign_vote(
    request: &ApprovalRequest,
    vote: &ApprovalVote,
    keys: &ApprovalKeys,
) -> Result<String, StoreError> {
    Ok(keys.sign(
        VOTE_DOMAIN,
        &vote_body(&request.id, &request.call_hash, vote)?,
    ))
}

/// An approval that verified: its signed terms, when it took effect, and the votes that made
/// it (indices into the request's votes).
#[derive(Debug)]
pub(super) struct Verified {
    pub terms: Terms,
    pub approved_at: OffsetDateTime,
    pub counted: Vec<usize>,
}

/// Re-derives from signed evidence alone whether `request` is approved at `now`; the reason it
/// is not, otherwise. The store's status, roles, windows and vote count are not trusted.
pub(super) fn verify(
    request: &ApprovalRequest,
    keys: &ApprovalKeys,
    now: OffsetDateTime,
) -> Result<Verified, String> {
    let seal = request
        .seal
        .as_ref()
        .ok_or("the request carries no signed terms")?;
    if !keys.runtime_signed(REQUEST_DOMAIN, &seal.terms, &seal.signature) {
        return Err("the request's terms are not signed by a trusted runtime key".into());
    }
    let terms: Terms = serde_json::from_str(&seal.terms)
        .map_err(|err| format!("the signed terms cannot be read: {err}"))?;
    if terms.id != request.id {
        return Err("the signed terms belong to another request".into());
    }
    let at = |ns| from_nanos(ns).map_err(|err| err.to_string());
    let first_end = at(terms.expires_at_ns)?;
    let timeout = Duration::nanoseconds(terms.timeout_ns);
    let escalation = match (terms.on_timeout, &terms.escalate_to) {
        (OnTimeout::Escalate, Some(role)) => Some((first_end + timeout, role.as_str())),
        _ => None,
    };
    let last_end = escalation.map_or(first_end, |(end, _)| end);
    let roles_at = |when: OffsetDateTime| -> Option<Vec<String>> {
        if when < first_end {
            Some(terms.approver_roles.clone())
        } else {
            escalation
                .filter(|(end, _)| when < *end)
                .map(|(_, role)| vec![role.to_owned()])
        }
    };

    let mut order: Vec<usize> = (0..request.votes.len()).collect();
    order.sort_by_key(|&i| request.votes[i].at);
    let mut approvers = HashSet::new();
    let mut counted = Vec::new();
    let mut approved_at = None;
    for i in order {
        let vote = &request.votes[i];
        let signed = match (
            &vote.signature,
            vote_body(&terms.id, &terms.call_hash, vote),
        ) {
            (Some(line), Ok(body)) => keys.vote_signed(&body, line, &vote.approver),
            _ => false,
        };
        let role_allowed = roles_at(vote.at).is_some_and(|roles| {
            roles
                .iter()
                .any(|role| normalize_identity(role).as_deref() == Some(vote.role.as_str()))
        });
        if !signed || !role_allowed || vote.at < at(terms.requested_at_ns)? {
            continue;
        }
        match vote.vote {
            Vote::Reject => return Err(format!("approver {} rejected it", vote.approver)),
            Vote::Approve => {
                let own_call = terms.requested_by.contains(&vote.approver);
                if own_call || !approvers.insert(vote.approver.as_str()) {
                    continue;
                }
                counted.push(i);
                if counted.len() as u32 >= terms.required_approvals && approved_at.is_none() {
                    approved_at = Some(vote.at);
                }
            }
        }
    }
    let approved_at = match approved_at {
        Some(when) => when,
        None if terms.on_timeout == OnTimeout::Allow && now >= last_end => last_end,
        None => {
            return Err(format!(
                "{} of the {} approvals it needs carry a trusted signature",
                counted.len(),
                terms.required_approvals
            ))
        }
    };
    Ok(Verified {
        terms,
        approved_at,
        counted,
    })
}

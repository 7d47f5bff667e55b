//! Approval requests and votes to and from their SQLite rows. Only this module knows the column
//! names of the approval tables.

use rusqlite::{params, Connection, OptionalExtension, Row};
use time::{Duration, OffsetDateTime};

use super::evidence::{signer_name, Seal};
use super::request::{ApprovalRequest, ApprovalStatus, ApprovalVote, Vote};
use crate::model::OnTimeout;
use crate::oversight::store::{from_nanos, to_nanos, StoreError};

const REQUEST_COLUMNS: &str = "id, checkpoint, call_hash, agent_id, tool, requested_by, \
     policy_version, decision_id, approver_roles, required_approvals, timeout_ns, on_timeout, \
     escalate_to, escalated, status, requested_at_ns, expires_at_ns, resolved_at_ns, executed_at_ns, \
     execution_window_ns, terms, seal";

/// Inserts a new request (its votes must be empty).
pub(super) fn insert_request(conn: &Connection, r: &ApprovalRequest) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "INSERT INTO approval_requests ({REQUEST_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                     ?19, ?20, ?21, ?22)"
        ),
        params![
            r.id,
            r.checkpoint,
            r.call_hash,
            r.agent_id,
            r.tool,
            to_json(&r.requested_by),
            r.policy_version,
            r.decision_id,
            to_json(&r.approver_roles),
            r.required_approvals,
            duration_to_nanos(r.timeout)?,
            on_timeout_name(r.on_timeout),
            r.escalate_to,
            r.escalated,
            r.status.as_str(),
            to_nanos(r.requested_at)?,
            to_nanos(r.expires_at)?,
            optional_nanos(r.resolved_at)?,
            optional_nanos(r.executed_at)?,
            duration_to_nanos(r.execution_window)?,
            r.seal.as_ref().map(|seal| seal.terms.as_str()),
            r.seal.as_ref().map(|seal| seal.signature.as_str()),
        ],
    )?;
    Ok(())
}

/// Writes back what can change on a request: status, roles, window, escalation and times.
pub(super) fn update_request(conn: &Connection, r: &ApprovalRequest) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE approval_requests
         SET status = ?2, approver_roles = ?3, escalated = ?4, expires_at_ns = ?5,
             resolved_at_ns = ?6, executed_at_ns = ?7
         WHERE id = ?1",
        params![
            r.id,
            r.status.as_str(),
            to_json(&r.approver_roles),
            r.escalated,
            to_nanos(r.expires_at)?,
            optional_nanos(r.resolved_at)?,
            optional_nanos(r.executed_at)?,
        ],
    )?;
    Ok(())
}

/// Records one vote. The primary key (request, approver) makes a second vote by the same
/// approver impossible even if a caller skipped the check.
pub(super) fn insert_vote(
    conn: &Connection,
    request_id: &str,
    vote: &ApprovalVote,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO approval_votes (request_id, approver, role, vote, note, at_ns, signature,
             origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            request_id,
            vote.approver,
            vote.role,
            vote.vote.as_str(),
            vote.note,
            to_nanos(vote.at)?,
            vote.signature,
            vote.origin,
        ],
    )?;
    Ok(())
}

/// The request with this id and its votes, if it exists.
pub(super) fn load_request(
    conn: &Connection,
    id: &str,
) -> Result<Option<ApprovalRequest>, StoreError> {
    let row = conn
        .query_row(
            &format!("SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE id = ?1"),
            [id],
            RawRequest::from_row,
        )
        .optional()?;
    let Some(raw) = row else {
        return Ok(None);
    };
    let votes = load_votes(conn, id)?;
    raw.into_request(votes).map(Some)
}

/// Ids of pending requests whose window closed at or before `now`.
pub(super) fn due_request_ids(
    conn: &Connection,
    now: OffsetDateTime,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id FROM approval_requests
         WHERE status = 'pending' AND expires_at_ns <= ?1 ORDER BY expires_at_ns, id",
    )?;
    let ids = stmt
        .query_map([to_nanos(now)?], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

/// Ids of requests bound to `call_hash` with the given status, oldest first.
pub(super) fn request_ids_for_call(
    conn: &Connection,
    call_hash: &str,
    status: ApprovalStatus,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM approval_requests WHERE call_hash = ?1 AND status = ?2
         ORDER BY requested_at_ns, id",
    )?;
    let ids = stmt
        .query_map(params![call_hash, status.as_str()], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

/// Ids of every request, oldest first.
pub(super) fn all_request_ids(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare("SELECT id FROM approval_requests ORDER BY requested_at_ns, id")?;
    let ids = stmt
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

/// Ids of requests with the given status, oldest first.
pub(super) fn request_ids_with_status(
    conn: &Connection,
    status: ApprovalStatus,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id FROM approval_requests WHERE status = ?1 ORDER BY requested_at_ns, id",
    )?;
    let ids = stmt
        .query_map([status.as_str()], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

fn load_votes(conn: &Connection, id: &str) -> Result<Vec<ApprovalVote>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT approver, role, vote, note, at_ns, signature, origin FROM approval_votes
         WHERE request_id = ?1 ORDER BY at_ns, rowid",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, i64>(4)?,
            row.get::<_, Option<String>>(5)?,
            row.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut votes = Vec::new();
    for row in rows {
        let (approver, role, vote, note, at, signature, origin) = row?;
        votes.push(ApprovalVote {
            approver,
            role,
            vote: Vote::parse(&vote)?,
            note,
            at: from_nanos(at)?,
            signed_by: signature
                .as_deref()
                .and_then(signer_name)
                .map(str::to_owned),
            signature,
            origin,
        });
    }
    Ok(votes)
}

/// A request row as SQLite returns it, before its text columns are parsed.
struct RawRequest {
    id: String,
    checkpoint: String,
    call_hash: String,
    agent_id: String,
    tool: String,
    requested_by: String,
    policy_version: String,
    decision_id: Option<String>,
    approver_roles: String,
    required_approvals: u32,
    timeout_ns: i64,
    on_timeout: String,
    escalate_to: Option<String>,
    escalated: bool,
    status: String,
    requested_at_ns: i64,
    expires_at_ns: i64,
    resolved_at_ns: Option<i64>,
    executed_at_ns: Option<i64>,
    execution_window_ns: i64,
    terms: Option<String>,
    seal: Option<String>,
}

impl RawRequest {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            checkpoint: row.get(1)?,
            call_hash: row.get(2)?,
            agent_id: row.get(3)?,
            tool: row.get(4)?,
            requested_by: row.get(5)?,
            policy_version: row.get(6)?,
            decision_id: row.get(7)?,
            approver_roles: row.get(8)?,
            required_approvals: row.get(9)?,
            timeout_ns: row.get(10)?,
            on_timeout: row.get(11)?,
            escalate_to: row.get(12)?,
            escalated: row.get(13)?,
            status: row.get(14)?,
            requested_at_ns: row.get(15)?,
            expires_at_ns: row.get(16)?,
            resolved_at_ns: row.get(17)?,
            executed_at_ns: row.get(18)?,
            execution_window_ns: row.get(19)?,
            terms: row.get(20)?,
            seal: row.get(21)?,
        })
    }

    fn into_request(self, votes: Vec<ApprovalVote>) -> Result<ApprovalRequest, StoreError> {
        Ok(ApprovalRequest {
            id: self.id,
            checkpoint: self.checkpoint,
            call_hash: self.call_hash,
            agent_id: self.agent_id,
            tool: self.tool,
            requested_by: from_json("requested_by", &self.requested_by)?,
            policy_version: self.policy_version,
            decision_id: self.decision_id,
            approver_roles: from_json("approver_roles", &self.approver_roles)?,
            required_approvals: self.required_approvals,
            timeout: Duration::nanoseconds(self.timeout_ns),
            on_timeout: parse_on_timeout(&self.on_timeout)?,
            escalate_to: self.escalate_to,
            escalated: self.escalated,
            status: ApprovalStatus::parse(&self.status)?,
            requested_at: from_nanos(self.requested_at_ns)?,
            expires_at: from_nanos(self.expires_at_ns)?,
            resolved_at: self.resolved_at_ns.map(from_nanos).transpose()?,
            executed_at: self.executed_at_ns.map(from_nanos).transpose()?,
            execution_window: Duration::nanoseconds(self.execution_window_ns),
            votes,
            seal: match (self.terms, self.seal) {
                (Some(terms), Some(signature)) => Some(Seal { terms, signature }),
                _ => None,
            },
        })
    }
}

fn to_json(list: &[String]) -> String {
    // A list of strings always encodes.
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

fn from_json(what: &'static str, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|err| StoreError::Corrupt {
        what,
        detail: err.to_string(),
    })
}

fn duration_to_nanos(duration: Duration) -> Result<i64, StoreError> {
    i64::try_from(duration.whole_nanoseconds()).map_err(|_| StoreError::Corrupt {
        what: "timeout",
        detail: format!("{duration} is outside the storable range"),
    })
}

fn optional_nanos(at: Option<OffsetDateTime>) -> Result<Option<i64>, StoreError> {
    at.map(to_nanos).transpose()
}

fn on_timeout_name(on_timeout: OnTimeout) -> &'static str {
    match on_timeout {
        OnTimeout::Deny => "deny",
        OnTimeout::Allow => "allow",
        OnTimeout::Escalate => "escalate",
    }
}

fn parse_on_timeout(text: &str) -> Result<OnTimeout, StoreError> {
    match text {
        "deny" => Ok(OnTimeout::Deny),
        "allow" => Ok(OnTimeout::Allow),
        "escalate" => Ok(OnTimeout::Escalate),
        other => Err(StoreError::Corrupt {
            what: "on_timeout",
            detail: format!("unknown value {other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_timeout_names_round_trip_and_match_the_register_spelling() {
        for on_timeout in [OnTimeout::Deny, OnTimeout::Allow, OnTimeout::Escalate] {
            let name = on_timeout_name(on_timeout);
            assert_eq!(parse_on_timeout(name).unwrap(), on_timeout);
            assert_eq!(serde_json::to_value(on_timeout).unwrap(), name);
        }
        assert!(parse_on_timeout("shrug").is_err());
    }
}

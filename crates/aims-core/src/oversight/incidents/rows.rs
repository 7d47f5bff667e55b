//! Incidents to and from their SQLite rows: the register's `Incident` as JSON in `body`, plus
//! the columns that queries need (de-duplication key, status, opening time).

use rusqlite::{params, Connection, OptionalExtension};

use super::lifecycle::status_name;
use crate::model::{Incident, IncidentStatus};
use crate::oversight::store::{to_nanos, StoreError};

/// The active incident (open, investigating or contained) opened for `key`, newest first.
pub(super) fn active_for_key(conn: &Connection, key: &str) -> Result<Option<Incident>, StoreError> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM incidents
             WHERE dedup_key = ?1 AND status IN ('open', 'investigating', 'contained')
             ORDER BY opened_at_ns DESC, id DESC LIMIT 1",
            [key],
            |row| row.get(0),
        )
        .optional()?;
    body.map(|body| parse(&body)).transpose()
}

/// The incident with this id.
pub(super) fn load(conn: &Connection, id: &str) -> Result<Option<Incident>, StoreError> {
    let body: Option<String> = conn
        .query_row("SELECT body FROM incidents WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?;
    body.map(|body| parse(&body)).transpose()
}

/// Every incident, oldest first, optionally only those in `status`.
pub(super) fn list(
    conn: &Connection,
    status: Option<IncidentStatus>,
) -> Result<Vec<Incident>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT body FROM incidents WHERE ?1 IS NULL OR status = ?1 ORDER BY opened_at_ns, id",
    )?;
    let bodies = stmt
        .query_map([status.map(status_name)], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    bodies.iter().map(|body| parse(body)).collect()
}

/// The next free id of the form `INC-YYYY-NNN` for the year of `incident.detected_at`.
pub(super) fn next_id(conn: &Connection, year: i32) -> Result<String, StoreError> {
    let prefix = format!("INC-{year}-");
    let taken: i64 = conn.query_row(
        "SELECT count(*) FROM incidents WHERE substr(id, 1, length(?1)) = ?1",
        [&prefix],
        |row| row.get(0),
    )?;
    let mut number = taken + 1;
    loop {
        let id = format!("{prefix}{number:03}");
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM incidents WHERE id = ?1)",
            [&id],
            |row| row.get(0),
        )?;
        if !exists {
            return Ok(id);
        }
        number += 1;
    }
}

/// Inserts a new incident under de-duplication key `key`.
pub(super) fn insert(conn: &Connection, key: &str, incident: &Incident) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO incidents (id, dedup_key, status, opened_at_ns, body)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            incident.id,
            key,
            status_name(incident.status),
            to_nanos(incident.detected_at)?,
            encode(incident)?,
        ],
    )?;
    Ok(())
}

/// Writes back an incident's status and body.
pub(super) fn update(conn: &Connection, incident: &Incident) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE incidents SET status = ?2, body = ?3 WHERE id = ?1",
        params![incident.id, status_name(incident.status), encode(incident)?],
    )?;
    Ok(())
}

fn encode(incident: &Incident) -> Result<String, StoreError> {
    serde_json::to_string(incident).map_err(|err| StoreError::Corrupt {
        what: "incident",
        detail: err.to_string(),
    })
}

fn parse(body: &str) -> Result<Incident, StoreError> {
    serde_json::from_str(body).map_err(|err| StoreError::Corrupt {
        what: "incident",
        detail: err.to_string(),
    })
}

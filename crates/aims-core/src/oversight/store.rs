//! The embedded oversight database: one SQLite file (compiled in, WAL mode) holding approval
//! requests, their votes and incidents, so pending work survives a restart of the process.
//!
//! The path is always explicit (a mobile app puts it in its sandbox). A new file is created
//! mode 0600 (SQLite gives its `-wal` and `-shm` files the same mode): it holds who approved
//! what. The schema is versioned
//! with SQLite's `user_version` and migrated forward on open; a file written by a newer build is
//! refused rather than misread. Every state change runs in an `IMMEDIATE` transaction, so two
//! handles on one file (threads or processes) never both win the same transition.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration as StdDuration;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use time::OffsetDateTime;

/// How long a writer waits for another handle's transaction before giving up.
const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(30);

/// The schema, one entry per version: entry `i` takes a database from version `i` to `i + 1`.
/// Entries are append-only: a released entry is never edited.
const MIGRATIONS: &[&str] = &[
    // v1: approval requests and the votes cast on them.
    "CREATE TABLE approval_requests (
        id                 TEXT PRIMARY KEY,
        checkpoint         TEXT NOT NULL,
        call_hash          TEXT NOT NULL,
        agent_id           TEXT NOT NULL,
        tool               TEXT NOT NULL,
        requested_by       TEXT NOT NULL,
        policy_version     TEXT NOT NULL,
        decision_id        TEXT,
        approver_roles     TEXT NOT NULL,
        required_approvals INTEGER NOT NULL,
        timeout_ns         INTEGER NOT NULL,
        on_timeout         TEXT NOT NULL,
        escalate_to        TEXT,
        escalated          INTEGER NOT NULL DEFAULT 0,
        status             TEXT NOT NULL,
        requested_at_ns    INTEGER NOT NULL,
        expires_at_ns      INTEGER NOT NULL,
        resolved_at_ns     INTEGER,
        executed_at_ns     INTEGER
    );
    CREATE INDEX approval_requests_by_status ON approval_requests (status, expires_at_ns);
    CREATE TABLE approval_votes (
        request_id TEXT NOT NULL REFERENCES approval_requests (id),
        approver   TEXT NOT NULL,
        role       TEXT NOT NULL,
        vote       TEXT NOT NULL,
        note       TEXT,
        at_ns      INTEGER NOT NULL,
        PRIMARY KEY (request_id, approver)
    );",
    // v2: incidents, each the register's `Incident` as JSON, with the columns queries need.
    "CREATE TABLE incidents (
        id           TEXT PRIMARY KEY,
        dedup_key    TEXT NOT NULL,
        status       TEXT NOT NULL,
        opened_at_ns INTEGER NOT NULL,
        body         TEXT NOT NULL
    );
    CREATE INDEX incidents_by_key ON incidents (dedup_key, status);",
    // v3: signed evidence (the request's sealed terms, each vote's signature and origin), the
    // execution window, and lookup by call for "approve, then retry".
    "ALTER TABLE approval_requests ADD COLUMN execution_window_ns INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE approval_requests ADD COLUMN terms TEXT;
    ALTER TABLE approval_requests ADD COLUMN seal TEXT;
    ALTER TABLE approval_votes ADD COLUMN signature TEXT;
    ALTER TABLE approval_votes ADD COLUMN origin TEXT;
    CREATE INDEX approval_requests_by_call ON approval_requests (call_hash, status);",
];

/// Why the store could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or prepared.
    #[error("oversight store {path}: {source}")]
    Open {
        /// The store's path.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The database file could not be created.
    #[error("oversight store {path}: {source}")]
    Create {
        /// The store's path.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file was written by a newer build whose schema this one does not know.
    #[error(
        "oversight store {path} has schema version {found}, newer than the {supported} this build supports"
    )]
    NewerSchema {
        /// The store's path.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A query failed.
    #[error("oversight store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value cannot be read back (edited by hand, or written by a broken build).
    #[error("oversight store holds an unreadable {what}: {detail}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A handle's lock was poisoned by a panic in another thread.
    #[error("oversight store handle is unusable after a panic in another thread")]
    Poisoned,
}

/// A handle on the oversight database. Cheap to share behind an `Arc`; several handles (in
/// threads or processes) may open the same file.
#[derive(Debug)]
pub struct OversightStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl OversightStore {
    /// Opens (creating when missing) the store at `path`, switches it to WAL mode and migrates
    /// its schema to the newest version.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let open_error = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        create_private(&path).map_err(|source| StoreError::Create {
            path: path.clone(),
            source,
        })?;
        let mut conn = Connection::open(&path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // WAL lets readers (status, wait) run while a writer commits; FULL makes a committed
        // approval or execution mark survive a power loss, so an executed call cannot run twice.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt {
                what: "journal mode",
                detail: format!("SQLite kept {mode} instead of wal"),
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_error)?;
        migrate(&mut conn, &path)?;
        Ok(Self {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the file (the number of migrations applied).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let conn = self.lock()?;
        Ok(user_version(&conn)?)
    }

    /// The newest schema version this build writes.
    pub fn latest_schema_version() -> u32 {
        MIGRATIONS.len() as u32
    }

    /// Runs `work` in an `IMMEDIATE` transaction (the write lock is taken up front, so a
    /// read-then-write cannot race another handle) and commits it when `work` returns `Ok`.
    pub(crate) fn write<T, E>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let value = work(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    /// Runs `work` on the connection without a write lock, for reads.
    pub(crate) fn read<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let conn = self.lock()?;
        work(&conn)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }
}

/// Creates the file owner-only when it does not exist yet; an existing file keeps its mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

fn user_version(conn: &Connection) -> Result<u32, rusqlite::Error> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    let supported = MIGRATIONS.len() as u32;
    if found > supported {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported,
        });
    }
    for (version, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", version as u32 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// A timestamp as stored: nanoseconds since the Unix epoch (exact, and ordered by SQLite).
pub(crate) fn to_nanos(at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos()).map_err(|_| StoreError::Corrupt {
        what: "timestamp",
        detail: format!("{at} is outside the storable range"),
    })
}

/// A stored timestamp read back, in UTC.
pub(crate) fn from_nanos(nanos: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)).map_err(|err| {
        StoreError::Corrupt {
            what: "timestamp",
            detail: err.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn opens_in_wal_mode_at_the_latest_schema_and_reopens_idempotently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oversight.db");
        let store = OversightStore::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            OversightStore::latest_schema_version()
        );
        let mode: String = store
            .read(|conn| {
                conn.pragma_query_value(None, "journal_mode", |row| row.get(0))
                    .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!(mode, "wal");
        drop(store);
        let again = OversightStore::open(&path).unwrap();
        assert_eq!(
            again.schema_version().unwrap(),
            OversightStore::latest_schema_version()
        );
    }

    #[test]
    fn refuses_a_file_from_a_newer_build() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oversight.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 999).unwrap();
        }
        match OversightStore::open(&path) {
            Err(StoreError::NewerSchema {
                found, supported, ..
            }) => {
                assert_eq!(found, 999);
                assert_eq!(supported, OversightStore::latest_schema_version());
            }
            other => panic!("expected NewerSchema, got {other:?}"),
        }
    }

    #[test]
    fn migrates_an_older_file_forward_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oversight.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                "INSERT INTO approval_requests (id, checkpoint, call_hash, agent_id, tool,
                     requested_by, policy_version, approver_roles, required_approvals,
                     timeout_ns, on_timeout, status, requested_at_ns, expires_at_ns)
                 VALUES ('r', 'c', 'h', 'a', 't', '[]', 'v', '[]', 1, 1, 'deny', 'pending', 0, 1);
                 INSERT INTO approval_votes (request_id, approver, role, vote, at_ns)
                 VALUES ('r', 'a', 'x', 'approve', 0);",
            )
            .unwrap();
        }
        let store = OversightStore::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            OversightStore::latest_schema_version()
        );
        let votes: i64 = store
            .read(|conn| {
                conn.query_row("SELECT count(*) FROM approval_votes", [], |row| row.get(0))
                    .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!(votes, 1);
        // Version 2's table exists now.
        let incidents: i64 = store
            .read(|conn| {
                conn.query_row("SELECT count(*) FROM incidents", [], |row| row.get(0))
                    .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!(incidents, 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_store_and_its_journal_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oversight.db");
        let store = OversightStore::open(&path).unwrap();
        store
            .write(|tx| {
                tx.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
                    .map_err(StoreError::from)
            })
            .unwrap();
        for name in ["oversight.db", "oversight.db-wal", "oversight.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
    }

    #[test]
    fn an_unopenable_path_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("oversight.db");
        let err = OversightStore::open(&path).unwrap_err();
        assert!(err.to_string().contains("missing-dir"), "{err}");
    }

    #[test]
    fn timestamps_round_trip_exactly() {
        let at = datetime!(2026-11-23 18:30:01.123456789 UTC);
        assert_eq!(from_nanos(to_nanos(at).unwrap()).unwrap(), at);
        assert!(to_nanos(datetime!(9999-01-01 00:00 UTC)).is_err());
    }
}

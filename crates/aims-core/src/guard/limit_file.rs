//! Limit counters that persist across processes, for hooks that run one process per call:
//! a state file in a directory, locked while one process decides, replaced atomically.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::limits::LimitState;

/// The state file's name inside the directory.
pub const STATE_FILE: &str = "limits.json";
/// The lock file's name inside the directory.
pub const LOCK_FILE: &str = "limits.lock";

/// Why the persisted counters could not be used. The caller must not let the call proceed.
#[derive(Debug, thiserror::Error)]
pub enum LimitFileError {
    /// Reading, writing or locking failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The state file exists but is not valid.
    #[error("{}: corrupt limit state: {message}", path.display())]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LimitFileError + '_ {
    move |source| LimitFileError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Holds the directory's lock from [`LimitFile::open`] until dropped.
#[derive(Debug)]
pub struct LimitFile {
    dir: PathBuf,
    lock: File,
}

impl LimitFile {
    /// Creates `dir` if needed, takes its exclusive lock (waiting for other processes) and reads
    /// the counters (empty when there is no state file yet).
    pub fn open(dir: &Path) -> Result<(Self, LimitState), LimitFileError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|errno| io(&lock_path)(errno.into()))?;
        let state_path = dir.join(STATE_FILE);
        let state = match fs::read(&state_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| LimitFileError::Corrupt {
                path: state_path.clone(),
                message: err.to_string(),
            })?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => LimitState::default(),
            Err(err) => return Err(io(&state_path)(err)),
        };
        Ok((
            LimitFile {
                dir: dir.to_owned(),
                lock,
            },
            state,
        ))
    }

    /// Replaces the state file: writes a temporary file, syncs it, renames it over the old one.
    pub fn save(&self, state: &LimitState) -> Result<(), LimitFileError> {
        let state_path = self.dir.join(STATE_FILE);
        let temp_path = self.dir.join(format!("{STATE_FILE}.tmp"));
        let bytes = serde_json::to_vec(state).map_err(|err| LimitFileError::Corrupt {
            path: state_path.clone(),
            message: err.to_string(),
        })?;
        let mut temp = File::create(&temp_path).map_err(io(&temp_path))?;
        temp.write_all(&bytes).map_err(io(&temp_path))?;
        temp.sync_all().map_err(io(&temp_path))?;
        fs::rename(&temp_path, &state_path).map_err(io(&state_path))?;
        // The rename is durable once the directory is synced.
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io(&self.dir))?;
        Ok(())
    }
}

impl Drop for LimitFile {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first just makes it prompt.
        let _ = rustix::fs::flock(&self.lock, rustix::fs::FlockOperation::Unlock);
    }
}

//! The files of a log directory, created mode 0600 (the directory 0700), and the crash-safe
//! replace: temp file, fsync, rename, fsync of the directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The framed records.
pub const RECORDS: &str = "records";
/// The latest signed checkpoint note.
pub const CHECKPOINT: &str = "checkpoint";
/// The verifier key of the key that signs checkpoints.
pub const SIGNER_PUB: &str = "signer.pub";
/// The per-log HMAC secret (hex).
pub const SECRET: &str = "secret";
/// The lock the single writer holds.
pub const LOCK: &str = "lock";
/// A signing key the CLI generated for a log that was given none.
pub const GENERATED_KEY: &str = "signing.key";

/// The paths of one log directory.
#[derive(Debug, Clone)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The layout of `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Creates the directory when absent and makes it mode 0700 whatever the umask, or the
    /// mode it was created with, was.
    pub fn create_dir(&self) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        make_private(&self.dir, 0o700)
    }

    /// Reads a file as text, `None` when it does not exist.
    pub fn read_optional(&self, name: &str) -> io::Result<Option<String>> {
        match fs::read_to_string(self.path(name)) {
            Ok(text) => Ok(Some(text)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Replaces `name` with `contents` so that a crash leaves either the old or the new
    /// file, never a mix.
    pub fn write_atomic(&self, name: &str, contents: &[u8]) -> io::Result<()> {
        let temp = self.path(&format!("{name}.tmp"));
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        make_private(&temp, 0o600)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, self.path(name))?;
        self.sync_dir()
    }

    /// fsync of the directory, so created and renamed entries survive a crash.
    pub fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }
}

/// Opens (creating when absent) a file for appending, and makes it mode 0600.
pub fn open_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    make_private(path, 0o600)?;
    Ok(file)
}

/// Creates a new file mode 0600 (whatever the umask); fails when it exists.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    make_private(path, 0o600)?;
    Ok(file)
}

/// Sets `path` to `mode` unless it already has it: a umask of 0 or 077 changes what
/// `open` and `mkdir` create, and a log's files hold what only its owner may read.
fn make_private(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = fs::metadata(path)?.permissions();
    if current.mode() & 0o777 != mode {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

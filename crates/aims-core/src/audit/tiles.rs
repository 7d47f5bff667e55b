//! Publishing a verified log in the C2SP `tlog-tiles` layout, for standard tiles clients to
//! verify and mirror: `checkpoint` (the signed note, with any cosignatures), hash tiles
//! `tile/<L>/<N>[.p/<W>]` (up to 256 hashes of tree level 8·L, 32 bytes each) and entry
//! bundles `tile/entries/<N>[.p/<W>]` (up to 256 records, each a big-endian u16 length and the
//! record payload). Only the records the stored checkpoint covers are published, and the
//! checkpoint is written last, so a reader never sees one whose tiles are missing.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::checkpoint::SignedCheckpoint;
use super::error::{AuditError, Integrity};
use super::files::Layout;
use super::log::read_checkpoint;
use super::merkle::{leaf_hash, node_hash, Hash};
use super::verify::{verify_each, VerifyOptions};

/// Hashes (and entries) per full tile: tiles of height 8.
const TILE_WIDTH: usize = 256;

/// What was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReport {
    /// The log's origin.
    pub origin: String,
    /// Records published: the stored checkpoint's size.
    pub size: u64,
    /// Hash tiles written (full and partial).
    pub hash_tiles: u64,
    /// Entry bundles written (full and partial).
    pub entry_bundles: u64,
}

/// The C2SP tile index path: groups of three digits, each but the last prefixed with `x`
/// (1234067 is `x001/x234/067`).
pub fn tile_index_path(mut n: u64) -> String {
    let mut path = format!("{:03}", n % 1000);
    while n >= 1000 {
        n /= 1000;
        path = format!("x{:03}/{path}", n % 1000);
    }
    path
}

/// The path of a tile relative to the publication root: `level` is a number or `entries`;
/// `width` below 256 makes it partial.
fn tile_path(level: &str, index: u64, width: usize) -> String {
    let partial = if width < TILE_WIDTH {
        format!(".p/{width}")
    } else {
        String::new()
    };
    format!("tile/{level}/{}{partial}", tile_index_path(index))
}

/// Writes files under the publication root, each through a temporary file and a rename so a
/// mirror never reads half a tile.
struct Publisher {
    root: PathBuf,
    written: u64,
}

impl Publisher {
    fn write(&mut self, relative: &str, contents: &[u8]) -> Result<(), AuditError> {
        let path = self.root.join(relative);
        let parent = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(parent).map_err(AuditError::io(parent))?;
        let temp = parent.join(".publishing");
        fs::File::create(&temp)
            .and_then(|mut file| file.write_all(contents))
            .and_then(|()| fs::rename(&temp, &path))
            .map_err(AuditError::io(&path))?;
        self.written += 1;
        Ok(())
    }
}

/// The hash tiles of a growing tree: per tile level, the hashes of the tile being filled.
/// A full level-L tile's 256 hashes fold into one hash of level L+1.
struct HashTiles {
    levels: Vec<(u64, Vec<Hash>)>,
}

impl HashTiles {
    fn push(&mut self, out: &mut Publisher, mut hash: Hash) -> Result<(), AuditError> {
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push((0, Vec::with_capacity(TILE_WIDTH)));
            }
            let (index, hashes) = &mut self.levels[level];
            hashes.push(hash);
            if hashes.len() < TILE_WIDTH {
                return Ok(());
            }
            out.write(
                &tile_path(&level.to_string(), *index, TILE_WIDTH),
                &hashes.concat(),
            )?;
            hash = subtree_root(hashes);
            hashes.clear();
            *index += 1;
            level += 1;
        }
    }

    /// Writes the partial tile of every level that has one.
    fn finish(&self, out: &mut Publisher) -> Result<(), AuditError> {
        for (level, (index, hashes)) in self.levels.iter().enumerate() {
            if !hashes.is_empty() {
                out.write(
                    &tile_path(&level.to_string(), *index, hashes.len()),
                    &hashes.concat(),
                )?;
            }
        }
        Ok(())
    }
}

/// The root of a perfect subtree from its 2^k bottom hashes.
fn subtree_root(hashes: &[Hash]) -> Hash {
    let mut level = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
    level[0]
}

/// Verifies the log in `dir` (with `options`, as [`super::verify()`] does) and publishes the
/// records its stored checkpoint covers under `out` in the `tlog-tiles` layout.
pub fn publish_tiles(
    dir: &Path,
    options: &VerifyOptions,
    out: &Path,
) -> Result<PublishReport, AuditError> {
    let layout = Layout::new(dir);
    let note = read_checkpoint(&layout)?
        .ok_or_else(|| AuditError::NotALog {
            path: dir.to_path_buf(),
            reason: "no checkpoint file".into(),
        })?
        .note;
    let mut publisher = Publisher {
        root: out.to_path_buf(),
        written: 0,
    };
    let mut entries = EntryBundles::default();
    let mut tiles = HashTiles { levels: Vec::new() };
    let mut size = None;
    let mut failure: Option<AuditError> = None;
    let report = verify_each(dir, options, |index, payload| {
        // The stored checkpoint's size is known once its first record arrives: verify_each
        // read it before scanning.
        let covered = *size.get_or_insert_with(|| signed_size(&note));
        if failure.is_some() || index >= covered {
            return;
        }
        let leaf = leaf_hash(payload);
        failure = entries
            .push(&mut publisher, index, payload)
            .and_then(|()| tiles.push(&mut publisher, leaf))
            .err();
    })?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    if report.checkpoint != note {
        return Err(AuditError::Failed(
            "the checkpoint changed while publishing (a writer is active): publish again".into(),
        ));
    }
    entries.finish(&mut publisher)?;
    tiles.finish(&mut publisher)?;
    let hash_tiles = publisher.written - entries.written;
    publisher.write("checkpoint", note.as_bytes())?;
    Ok(PublishReport {
        origin: report.origin,
        size: report.signed_size,
        hash_tiles,
        entry_bundles: entries.written,
    })
}

/// The size line of a checkpoint note verify_each has accepted (0 when unreadable: then
/// verify_each fails anyway).
fn signed_size(note: &str) -> u64 {
    SignedCheckpoint::parse(note).map_or(0, |signed| signed.checkpoint.size)
}

/// The entry bundle being filled.
#[derive(Default)]
struct EntryBundles {
    bundle: Vec<u8>,
    count: usize,
    index: u64,
    written: u64,
}

impl EntryBundles {
    fn push(&mut self, out: &mut Publisher, at: u64, payload: &[u8]) -> Result<(), AuditError> {
        let length = u16::try_from(payload.len()).map_err(|_| {
            AuditError::Integrity(Integrity::at(
                at,
                format!(
                    "the record is {} bytes, more than a tlog-tiles entry holds (65535)",
                    payload.len()
                ),
            ))
        })?;
        self.bundle.extend_from_slice(&length.to_be_bytes());
        self.bundle.extend_from_slice(payload);
        self.count += 1;
        if self.count == TILE_WIDTH {
            out.write(&tile_path("entries", self.index, TILE_WIDTH), &self.bundle)?;
            self.bundle.clear();
            self.count = 0;
            self.index += 1;
            self.written += 1;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Publisher) -> Result<(), AuditError> {
        if self.count > 0 {
            out.write(&tile_path("entries", self.index, self.count), &self.bundle)?;
            self.written += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_follow_c2sp() {
        assert_eq!(tile_index_path(0), "000");
        assert_eq!(tile_index_path(999), "999");
        assert_eq!(tile_index_path(1000), "x001/000");
        assert_eq!(tile_index_path(1_234_067), "x001/x234/067");
        assert_eq!(tile_path("0", 5, 256), "tile/0/005");
        assert_eq!(tile_path("2", 1_234_067, 8), "tile/2/x001/x234/067.p/8");
        assert_eq!(tile_path("entries", 0, 1), "tile/entries/000.p/1");
    }
}

//! `publish_tiles` read back by an independent implementation of C2SP tlog-tiles, the
//! `tlog_tiles` crate (Cloudflare's port of Go's sumdb/tlog): the tree hash it computes from
//! the published hash tiles equals the signed checkpoint's root, and its record proofs, built
//! from the tiles, verify every published entry.
#![allow(clippy::unwrap_used)] // a test: a failed read should fail it loudly

use std::fs;
use std::path::{Path, PathBuf};

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::tiles::publish_tiles;
use aims_core::audit::{
    for_each_record, AuditEvent, AuditLog, AuditSink, Durability, LogOptions, OutcomeEvent,
    OutcomeStatus, VerifyOptions,
};
use tlog_tiles::{
    check_record, prove_record, record_hash, tree_hash, Checkpoint, Tile, TileHashReader,
    TileReader,
};

/// Reads tiles from the published directory. `Tile::path()` gives Go sumdb paths
/// (`tile/8/<L>/...`, `tile/8/data/...`); C2SP drops the height and names data `entries`.
struct Published {
    root: PathBuf,
}

fn c2sp_path(tile: &Tile) -> String {
    let go = tile.path();
    let rest = go.strip_prefix("tile/8/").unwrap();
    match rest.strip_prefix("data/") {
        Some(index) => format!("tile/entries/{index}"),
        None => format!("tile/{rest}"),
    }
}

impl TileReader for Published {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        Ok(tiles
            .iter()
            .map(|tile| fs::read(self.root.join(c2sp_path(tile))).unwrap())
            .collect())
    }

    fn save_tiles(&self, _tiles: &[Tile], _data: &[Vec<u8>]) {}
}

/// Entries of a bundle, parsed here independently: big-endian u16 length, then the bytes.
fn bundle_entries(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        entries.push(rest[2..2 + len].to_vec());
        rest = &rest[2 + len..];
    }
    entries
}

fn write_log(dir: &Path, events: u64) {
    let signer = NoteSigner::from_seed("aims-test", [1; 32]).unwrap();
    let mut options = LogOptions::new(signer).durability(Durability::None);
    options.origin = Some("example.test/tiles".into());
    options.checkpoint_every = 1_000_000;
    let log = AuditLog::open(dir, options).unwrap();
    for n in 0..events {
        log.append(AuditEvent::Outcome(OutcomeEvent {
            decision_id: format!("d-{n}"),
            agent_id: "agent".into(),
            tool: "tool".into(),
            call_id: None,
            status: OutcomeStatus::Ok,
            error: None,
            duration_us: n,
        }))
        .unwrap();
    }
    log.close().unwrap();
}

#[test]
fn tlog_tiles_reads_the_published_tree_and_proves_every_entry() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("log");
    let out = root.path().join("www");
    // 256 * 2 + 89 records: two full level-0 tiles, a partial one, a partial level-1 tile.
    write_log(&dir, 601);
    let report = publish_tiles(&dir, &VerifyOptions::default(), &out).unwrap();
    assert_eq!(report.size, 601);
    for path in [
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/89",
        "tile/1/000.p/2",
    ] {
        assert!(out.join(path).is_file(), "{path}");
    }
    assert_eq!(fs::read(out.join("tile/0/001")).unwrap().len(), 256 * 32);
    assert!(out.join("tile/entries/002.p/89").is_file());
    assert_eq!(report.entry_bundles, 3);
    assert_eq!(report.hash_tiles, 4);

    let note = fs::read_to_string(out.join("checkpoint")).unwrap();
    let body = &note[..note.find("\n\n").unwrap() + 1];
    let checkpoint = Checkpoint::from_bytes(body.as_bytes()).unwrap();
    assert_eq!(checkpoint.origin(), "example.test/tiles");
    assert_eq!(checkpoint.size(), 601);
    let size = checkpoint.size();
    let th = *checkpoint.hash();

    let published = Published { root: out.clone() };
    let reader = TileHashReader::new(size, th, &published);
    assert!(tree_hash(size, &reader).unwrap() == th);

    let mut payloads = Vec::new();
    for_each_record(&dir, |_, payload| payloads.push(payload.to_vec())).unwrap();
    let mut entries = Vec::new();
    for bundle in [
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/89",
    ] {
        entries.extend(bundle_entries(&fs::read(out.join(bundle)).unwrap()));
    }
    assert_eq!(entries, payloads);
    for (index, entry) in entries.iter().enumerate() {
        let index = index as u64;
        let proof = prove_record(size, index, &reader).unwrap();
        check_record(&proof, size, th, index, record_hash(entry)).unwrap();
    }
    // A tampered entry does not verify.
    let proof = prove_record(size, 7, &reader).unwrap();
    assert!(check_record(&proof, size, th, 7, record_hash(b"forged")).is_err());
    // A hash tile that lies about the tree does not authenticate against the checkpoint.
    let mut tile = fs::read(out.join("tile/1/000.p/2")).unwrap();
    tile[0] ^= 1;
    fs::write(out.join("tile/1/000.p/2"), tile).unwrap();
    let tampered = TileHashReader::new(size, th, &published);
    assert!(prove_record(size, 300, &tampered).is_err());
}

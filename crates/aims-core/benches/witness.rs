//! The witness cosigning round trip on loopback: a log signs a checkpoint one record larger
//! than the last, asks a witness (HTTP on 127.0.0.1) with a consistency proof, and checks the
//! cosignature; beside it, the same `add-checkpoint` decision called in process, so the
//! difference is the HTTP cost. Both include the witness's durable state write (fsync).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failures abort it

use std::sync::Arc;
use std::time::Duration;

use aims_core::audit::checkpoint::Checkpoint;
use aims_core::audit::keys::NoteSigner;
use aims_core::audit::merkle::{leaf_hash, Accumulator, MerkleTree};
use aims_core::audit::witness::{
    CosignerKey, Witness, WitnessClient, WitnessEndpoint, WitnessServer,
};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};

const ORIGIN: &str = "bench.example/log";

struct Log {
    signer: NoteSigner,
    tree: MerkleTree,
}

impl Log {
    fn grow(&mut self) -> aims_core::audit::checkpoint::SignedCheckpoint {
        let n = self.tree.len();
        self.tree.push(leaf_hash(&n.to_be_bytes()));
        Checkpoint {
            origin: ORIGIN.into(),
            size: self.tree.len(),
            root: self.tree.root(),
        }
        .sign(&self.signer)
    }
}

fn open_witness(state: &std::path::Path, log: &NoteSigner) -> (Witness, CosignerKey) {
    let key = CosignerKey::from_seed("w.bench", [7; 32]).unwrap();
    let witness = Witness::open(
        CosignerKey::from_seed("w.bench", [7; 32]).unwrap(),
        [(ORIGIN.to_string(), log.verifier())],
        state,
    )
    .unwrap();
    (witness, key)
}

fn new_log() -> Log {
    let mut log = Log {
        signer: NoteSigner::from_seed("bench-log", [1; 32]).unwrap(),
        tree: MerkleTree::new(),
    };
    for _ in 0..1000 {
        log.grow();
    }
    log
}

fn bench_witness(c: &mut Criterion) {
    let mut group = c.benchmark_group("witness");
    group.measurement_time(Duration::from_secs(10));

    let dir = tempfile::tempdir().unwrap();
    let mut log = new_log();
    let (witness, _) = open_witness(&dir.path().join("in-process"), &log.signer);
    let mut cosigned = 0u64;
    group.bench_function("add_checkpoint_in_process", |b| {
        b.iter(|| {
            let signed = log.grow();
            let size = signed.checkpoint.size;
            let mut body = format!("old {cosigned}\n");
            if cosigned > 0 {
                for hash in log.tree.consistency_proof(cosigned, size).unwrap() {
                    body.push_str(&BASE64.encode(hash));
                    body.push('\n');
                }
            }
            body.push('\n');
            body.push_str(&signed.note);
            let answer = witness.add_checkpoint(body.as_bytes());
            assert_eq!(answer.status, 200, "{}", answer.body);
            cosigned = size;
        });
    });

    let mut log = new_log();
    let (witness, key) = open_witness(&dir.path().join("http"), &log.signer);
    let server = WitnessServer::start(Arc::new(witness), "127.0.0.1:0", "").unwrap();
    let client = WitnessClient::new(
        vec![WitnessEndpoint {
            url: server.url(),
            key: key.verifier(),
        }],
        Duration::from_secs(5),
    );
    group.bench_function("cosign_round_trip_loopback", |b| {
        b.iter(|| {
            let signed = log.grow();
            let size = signed.checkpoint.size;
            let tree = &log.tree;
            let prove = |old| tree.consistency_proof(old, size).map_err(|e| e.to_string());
            let outcome = client.cosign(&signed, &prove);
            assert_eq!(outcome.cosigned.len(), 1, "{:?}", outcome.failures);
        });
    });
    group.finish();
}

criterion_group!(benches, bench_witness);
criterion_main!(benches);

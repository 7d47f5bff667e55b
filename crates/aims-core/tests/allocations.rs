//! Allocations per guarded call, counted (not timed): the record path's cost is dominated by
//! allocation, so a change that adds some shows up here as a number.
#![allow(clippy::unwrap_used)]
// A counting global allocator is the one way to count allocations; it only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use aims_core::guard::{Guard, ToolCall};
use aims_core::policy::{Format, Policy};
use serde_json::json;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let out = f();
    (out, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

#[test]
fn allocations_per_call() {
    let policy = Policy::from_text(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../bench/python/policy.yaml"
        ))
        .unwrap(),
        Format::Yaml,
        "policy.yaml",
    )
    .unwrap();
    let guard = Guard::builder(policy).build();
    let call = ToolCall::new("cs-agent", "lookup_order", json!({"order_id": "A-1234"}));
    for _ in 0..10 {
        guard.check(&call);
    }
    let (decision, check) = counted(|| guard.check(&call));
    let (_, drop_decision) = counted(|| drop(decision));
    let decision = guard.check(&call);
    let (_, outcome) = counted(|| {
        guard.record_outcome(
            &call,
            &decision,
            &aims_core::guard::ToolOutcome::ok(std::time::Duration::from_micros(3)),
        )
    });
    let result = json!({"order_id": "A-1234", "status": "shipped"});
    let (_, post) = counted(|| guard.check_result(&call, &result));
    let scanner = aims_core::pii::Scanner::default();
    let mut args = call.args.clone();
    let (_, clone) = counted(|| call.args.clone());
    let (_, mask) =
        counted(|| scanner.mask_json(&mut args, &aims_core::pii::MaskPolicy::default()));
    let hasher = aims_core::canonical::KeyedHasher::new(b"k");
    let (_, hash) = counted(|| hasher.hash(&call.args));
    let policy = guard.policy();
    let (_, eval) = counted(|| policy.evaluate_call(&call));
    println!("clone {clone} mask {mask} hash {hash} eval {eval}");
    println!("check {check}, drop {drop_decision}, outcome {outcome}, post {post}");
}

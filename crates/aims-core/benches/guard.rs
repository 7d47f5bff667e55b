//! Guard evaluation latency with 1, 10, 100 and 1000 rules of a realistic mix (exact and glob
//! tool patterns, numeric, regex, set and context conditions), side by side with the
//! `cedar-policy` crate deciding an equivalent policy set; and `Guard::check` / `Guard::run` end
//! to end, recording to a real audit log (durability `none`, so the figure is the guard's own
//! cost and not the disk's).
//!
//! Equivalence: each aims rule becomes one Cedar policy with the same scope and condition
//! (deny and require_approval as `forbid`, allow and warn as `permit`; tool globs as `like` on
//! the tool name; regexes as the `like` pattern they stand for). Both engines decide the same
//! prepared input (a parsed call for aims, a built `Request` for Cedar), and the bench checks
//! that both let the same calls proceed before it measures.
//!
//! Evaluation is reported twice: criterion's wall time, and the calling thread's CPU time
//! (`aims-cpu`), which a loaded machine distorts far less.
//!
//! Run: `cargo bench --workspace --bench guard` (results in BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: setup failures should stop it

use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{AuditLog, Durability, LogOptions};
use aims_core::guard::{Guard, ToolCall};
use aims_core::policy::{Format, Policy};
use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use serde_json::{json, Value};
use support::cpu_timed;

mod support;

const SIZES: [usize; 4] = [1, 10, 100, 1000];

/// One rule of the mix, in both languages.
struct Rule {
    aims: Value,
    cedar: String,
}

/// Rule `i` of a policy of `n` rules. About eight rules name each tool; one in ten is a glob.
fn rule(i: usize, n: usize) -> Rule {
    let tools = n.div_ceil(8).max(1);
    let tool = format!("tool_{}", i % tools);
    let id = format!("r{i}");
    let action = format!("action == Action::\"{tool}\"");
    let threshold = 100 + i;
    let (aims, cedar) = match i % 10 {
        0..=3 => (
            json!({"id": id, "match": {"tool": tool, "args": {"/amount": {"gt": threshold}}}, "effect": "deny"}),
            format!("forbid(principal, {action}, resource) when {{ context.args.amount > {threshold} }};"),
        ),
        4 | 5 => (
            json!({"id": id, "match": {"tool": tool, "args": {"/note": {"matches": format!("^secret-{i}-")}}}, "effect": "deny"}),
            format!("forbid(principal, {action}, resource) when {{ context.args.note like \"secret-{i}-*\" }};"),
        ),
        6 => (
            json!({"id": id, "match": {"tool": format!("svc{i}_*")}, "effect": "deny"}),
            format!("forbid(principal, action, resource) when {{ context.tool like \"svc{i}_*\" }};"),
        ),
        7 => (
            json!({"id": id, "match": {"tool": tool, "context": {"/roles": {"contains": "intern"}}}, "effect": "require_approval", "checkpoint": "cp"}),
            format!("forbid(principal, {action}, resource) when {{ context.roles.contains(\"intern\") }};"),
        ),
        8 => (
            json!({"id": id, "match": {"agent": "cs-*", "tool": tool, "args": {"/currency": {"in": ["EUR", "USD", "GBP"]}}}, "effect": "warn"}),
            format!("permit(principal, {action}, resource) when {{ [\"EUR\", \"USD\", \"GBP\"].contains(context.args.currency) }};"),
        ),
        _ => (
            json!({"id": id, "match": {"tool": tool}, "effect": "allow"}),
            format!("permit(principal, {action}, resource);"),
        ),
    };
    Rule { aims, cedar }
}

struct Engines {
    policy: Policy,
    cedar: PolicySet,
}

fn engines(n: usize) -> Engines {
    let rules: Vec<Rule> = (0..n).map(|i| rule(i, n)).collect();
    let doc = json!({"default": "deny", "rules": rules.iter().map(|r| r.aims.clone()).collect::<Vec<_>>()});
    let policy = Policy::from_text(&doc.to_string(), Format::Json, "bench.json").unwrap();
    let cedar_text: Vec<&str> = rules.iter().map(|r| r.cedar.as_str()).collect();
    let cedar = PolicySet::from_str(&cedar_text.join("\n")).unwrap();
    Engines { policy, cedar }
}

fn call(amount: u64) -> ToolCall {
    let mut call = ToolCall::new(
        "cs-agent",
        "tool_0",
        json!({"order_id": "o-1", "amount": amount, "currency": "EUR", "note": "ord-1234"}),
    );
    call.context = json!({"roles": ["agent"]});
    call
}

fn cedar_request(call: &ToolCall) -> Request {
    let context = Context::from_json_value(
        json!({"tool": call.tool, "args": call.args, "roles": call.context["roles"]}),
        None,
    )
    .unwrap();
    Request::new(
        EntityUid::from_str(&format!("Agent::\"{}\"", call.agent_id)).unwrap(),
        EntityUid::from_str(&format!("Action::\"{}\"", call.tool)).unwrap(),
        EntityUid::from_str("Tool::\"t\"").unwrap(),
        context,
        None,
    )
    .unwrap()
}

/// Both engines must let the same calls proceed, or the comparison means nothing.
fn assert_equivalent(engines: &Engines, n: usize) {
    let authorizer = Authorizer::new();
    let entities = Entities::empty();
    for amount in [5, 150, 1_000_000] {
        let call = call(amount);
        let aims = engines.policy.evaluate_call(&call).verdict.may_proceed();
        let cedar = authorizer
            .is_authorized(&cedar_request(&call), &engines.cedar, &entities)
            .decision()
            == Decision::Allow;
        assert_eq!(aims, cedar, "{n} rules, amount {amount}: engines disagree");
    }
}

fn evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("guard_eval");
    for n in SIZES {
        let engines = engines(n);
        assert_equivalent(&engines, n);
        let call = call(50);
        group.bench_with_input(BenchmarkId::new("aims", n), &n, |b, _| {
            b.iter(|| black_box(engines.policy.evaluate_call(black_box(&call))))
        });
        group.bench_with_input(BenchmarkId::new("aims-cpu", n), &n, |b, _| {
            b.iter_custom(|iters| {
                cpu_timed(iters, |_| engines.policy.evaluate_call(black_box(&call)))
            })
        });
        let request = cedar_request(&call);
        let authorizer = Authorizer::new();
        let entities = Entities::empty();
        group.bench_with_input(BenchmarkId::new("cedar", n), &n, |b, _| {
            b.iter(|| {
                black_box(authorizer.is_authorized(black_box(&request), &engines.cedar, &entities))
            })
        });
        group.bench_with_input(BenchmarkId::new("cedar-cpu", n), &n, |b, _| {
            b.iter_custom(|iters| {
                cpu_timed(iters, |_| {
                    authorizer.is_authorized(black_box(&request), &engines.cedar, &entities)
                })
            })
        });
    }
    group.finish();
}

fn full_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("guard_full");
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed("aims-bench", [42; 32]).unwrap();
    let log = AuditLog::open(
        dir.path(),
        LogOptions::new(signer).durability(Durability::None),
    )
    .unwrap();
    let guard = Guard::builder(engines(100).policy)
        .sink(Arc::new(log))
        .build();
    let in_memory = Guard::builder(engines(100).policy).build();
    let call = call(50);
    group.bench_function("check_100_rules_memory (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |_| in_memory.check(black_box(&call))))
    });
    group.bench_function("check_100_rules_log (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |_| guard.check(black_box(&call))))
    });
    group.bench_function("run_100_rules_log (cpu)", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |_| {
                guard.run(black_box(&call), |args| {
                    Ok::<_, String>(json!({"ok": args["order_id"]}))
                })
            })
        })
    });
    group.finish();
}

criterion_group!(benches, evaluation, full_path);
criterion_main!(benches);

//! Fuzzing on stable Rust, for a bounded time: random and mutated inputs to the policy parser,
//! call evaluation, the PII text scanner and the PII JSON scanner, including inputs large enough
//! to reach the size, nesting and alias limits. Each target runs for `AIMS_FUZZ_SECONDS`
//! (default 2) and checks properties that must hold for every input: no panic, errors located
//! as `FILE:LINE:COL`, refusals only ever deny, findings on character boundaries.
//! `scripts/fuzz-smoke` runs them longer in release mode; the same targets exist for
//! libFuzzer under `fuzz/` (nightly).
#![allow(clippy::unwrap_used)] // a test: a failure should be loud

use std::time::{Duration, Instant};

use aims_core::guard::{parse_call, Guard, ToolCall, Verdict};
use aims_core::pii::{MaskPolicy, Scanner};
use aims_core::policy::{Format, Policy};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::Value;

const EXAMPLE_POLICY: &str = include_str!("../../../examples/policy.yaml");

/// Draws inputs from `strategy` and checks each until the time is up.
fn fuzz<S: Strategy>(strategy: S, mut check: impl FnMut(S::Value)) {
    let seconds: u64 = std::env::var("AIMS_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runner = TestRunner::deterministic();
    let mut runs = 0u64;
    while runs < 10 || Instant::now() < deadline {
        let input = strategy.new_tree(&mut runner).unwrap().current();
        check(input);
        runs += 1;
    }
}

/// Text that stresses YAML: the example policy with random edits, or a hostile shape.
fn policy_text() -> impl Strategy<Value = String> {
    let edit = (
        0..EXAMPLE_POLICY.len(),
        prop::sample::select(vec![
            "[", "]", "{", "}", ": ", "&a ", "*a", "- ", "\n", "\n  ", "\"", "'", "!!", "|", "#",
            ", ", ".nan", "1e400", "\u{feff}", "\t", "\u{ff53}",
        ]),
    );
    let mutated = prop::collection::vec(edit, 1..8).prop_map(|edits| {
        let mut text = EXAMPLE_POLICY.to_owned();
        for (at, insert) in edits {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, insert);
        }
        text
    });
    let hostile = (1usize..200_000, 0usize..4).prop_map(|(size, shape)| match shape {
        0 => format!("rules: {}{}", "[".repeat(size), "]".repeat(size)),
        1 => (0..size.min(600))
            .map(|depth| format!("{}- \n", "  ".repeat(depth)))
            .collect(),
        2 => {
            let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
            for level in 1..(size % 12).max(2) {
                let items = vec![format!("*a{}", level - 1); 10].join(", ");
                text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
            }
            text + "rules: []\n"
        }
        _ => format!(
            "rules:\n{}",
            "  - {id: r, match: {}, effect: deny}\n".repeat(size % 500)
        ),
    });
    prop_oneof![4 => mutated, 1 => hostile]
}

/// JSON values of every kind, keys and strings with case, look-alikes and PII-like digits.
fn json_value() -> impl Strategy<Value = Value> {
    let text = "[a-zA-Z0-9 @.+/_\u{ff10}-\u{ff19}\u{200b}\u{a0}-]{0,24}";
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text.prop_map(Value::String),
        Just(Value::String("4111 1111 1111 1111".into())),
        Just(Value::String("gb82west12345698765432".into())),
    ];
    leaf.prop_recursive(8, 256, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(text, inner, 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn tool_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "shell",
            "Shell",
            "issue_refund",
            "lookup_order",
            "send_email"
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_./\u{ff53}\u{200b}-]{0,12}",
        (1usize..300_000).prop_map(|size| "t".repeat(size)),
    ]
}

fn location_prefix(err: &str, file: &str) -> bool {
    let Some(rest) = err
        .strip_prefix(file)
        .and_then(|rest| rest.strip_prefix(':'))
    else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let line = parts.next().unwrap_or("").parse::<usize>().is_ok();
    let column = parts.next().unwrap_or("").parse::<usize>().is_ok();
    line && column
}

#[test]
fn the_policy_parser_loads_or_locates_its_error() {
    fuzz(policy_text(), |text| {
        if let Err(err) = Policy::from_text(&text, Format::Yaml, "fuzz.yaml") {
            let err = err.to_string();
            assert!(location_prefix(&err, "fuzz.yaml"), "{err}");
        }
    });
    fuzz(json_value(), |value| {
        let text = serde_json::to_string(&value).unwrap();
        if let Err(err) = Policy::from_text(&text, Format::Json, "fuzz.json") {
            assert!(location_prefix(&err.to_string(), "fuzz.json"), "{err}");
        }
    });
}

#[test]
fn call_evaluation_decides_every_call_and_refusals_deny() {
    let policy = Policy::from_text(EXAMPLE_POLICY, Format::Yaml, "policy.yaml").unwrap();
    let guard = Guard::builder(policy).build();
    let input_codes = [
        "tool_name_invalid",
        "name_too_long",
        "input_too_large",
        "input_too_deep",
        "ambiguous_keys",
    ];
    let big = (0usize..3).prop_map(|kind| match kind {
        0 => Value::String("x".repeat(2 << 20)),
        1 => (0..100).fold(Value::Null, |inner, _| Value::Array(vec![inner])),
        _ => Value::Null,
    });
    fuzz(
        (tool_name(), json_value(), json_value(), big),
        |(tool, args, context, big)| {
            let mut call =
                ToolCall::new("cs-agent", tool, serde_json::json!({"a": args, "big": big}));
            call.context = context;
            let decision = guard.check(&call);
            let refused = decision
                .reasons
                .iter()
                .any(|reason| input_codes.contains(&reason.code.as_str()));
            if refused {
                assert_eq!(decision.verdict, Verdict::Deny);
                assert!(decision.rule_ids.is_empty());
            }
            // The same call as JSON text reads back strictly, or is refused with a reason.
            let text = serde_json::to_string(&call).unwrap();
            let _ = parse_call(&text);
        },
    );
    assert!(guard.prometheus().len() < 1 << 20);
}

#[test]
fn the_pii_text_scanner_finds_on_character_boundaries() {
    let scanner = Scanner::default();
    let text = prop_oneof![
        "[0-9 .\u{a0}\u{ff10}-\u{ff19}a-zA-Z@:=/+-]{0,200}",
        (1usize..100_000).prop_map(|size| "4111 ".repeat(size)),
    ];
    fuzz(text, |text| {
        for finding in scanner.scan(&text) {
            assert!(finding.start < finding.end && finding.end <= text.len());
            assert!(text.is_char_boundary(finding.start) && text.is_char_boundary(finding.end));
        }
        let _ = scanner.mask(&text, &MaskPolicy::default());
    });
}

#[test]
fn the_pii_json_scanner_masks_any_value() {
    let scanner = Scanner::default();
    fuzz(json_value(), |mut value| {
        let _ = scanner.scan_json(&value);
        let _ = scanner.mask_json(&mut value, &MaskPolicy::default());
    });
}

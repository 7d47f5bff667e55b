//! Property tests: no input makes the guard panic, and no malformed input escapes as allow.
#![allow(clippy::unwrap_used)] // a test: setup failures should fail it loudly

use std::path::Path;
use std::sync::OnceLock;

use aims_core::guard::{Guard, ToolCall, Verdict};
use aims_core::policy::{as_number, Format, Policy};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn example_policy_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policy.yaml");
        std::fs::read_to_string(path).unwrap()
    })
}

fn guard() -> &'static Guard {
    static GUARD: OnceLock<Guard> = OnceLock::new();
    GUARD.get_or_init(|| {
        let policy = Policy::from_text(example_policy_text(), Format::Yaml, "policy.yaml").unwrap();
        Guard::builder(policy).build()
    })
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,24}".prop_map(Value::String),
        "-?[0-9]{1,4}(\\.[0-9]{1,2})?".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn tool_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("issue_refund".to_owned()),
        Just("send_email".to_owned()),
        Just("lookup_order".to_owned()),
        Just("shell".to_owned()),
        ".{0,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_call_makes_evaluation_fail(
        agent in ".{0,12}",
        tool in tool_name(),
        args in any_json(),
        context in any_json(),
        result in any_json(),
    ) {
        let mut call = ToolCall::new(agent, tool, args);
        call.context = context;
        for decision in [guard().check(&call), guard().check_result(&call, &result)] {
            let codes: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_str()).collect();
            prop_assert!(!codes.contains(&"internal_error"), "{codes:?}");
            prop_assert!(!decision.reasons.is_empty());
        }
    }

    #[test]
    fn a_refund_proceeds_only_with_a_readable_amount_of_at_most_100(
        amount in any_json(),
        extra in any_json(),
        agent in "[a-z]{1,8}",
    ) {
        let call = ToolCall::new(
            agent,
            "issue_refund",
            json!({"order_id": "o-1", "amount": amount, "currency": "EUR", "extra": extra}),
        );
        let decision = guard().check(&call);
        if decision.may_proceed() {
            let readable = as_number(&call.args["amount"]);
            prop_assert!(
                readable.is_some_and(|n| (0.0..=100.0).contains(&n)),
                "allowed a refund of {}", call.args["amount"]
            );
        }
    }

    #[test]
    fn unknown_tools_are_denied(tool in ".{0,24}", args in any_json()) {
        prop_assume!(!["lookup_order", "search_kb", "issue_refund", "send_email"].contains(&tool.as_str()));
        let decision = guard().check(&ToolCall::new("cs-agent", tool, args));
        prop_assert_eq!(decision.verdict, Verdict::Deny);
    }

    #[test]
    fn external_mail_never_goes_out_unmasked(to in ".{0,30}", body in ".{0,40}") {
        prop_assume!(!to.to_lowercase().ends_with("@example.com"));
        let call = ToolCall::new("cs-agent", "send_email", json!({"to": to, "subject": "s", "body": body}));
        let decision = guard().check(&call);
        prop_assert!(matches!(decision.verdict, Verdict::Redact | Verdict::Deny), "{:?}", decision.verdict);
    }

    #[test]
    fn any_policy_text_loads_or_fails_with_a_location(text in ".{0,200}") {
        if let Err(err) = Policy::from_text(&text, Format::Yaml, "p.yaml") {
            prop_assert!(err.to_string().starts_with("p.yaml:"), "{err}");
        }
    }

    #[test]
    fn mutated_example_policies_load_or_fail_with_a_location(
        position in 0usize..10_000,
        cut in 0usize..20,
        insert in ".{0,6}",
    ) {
        let text = example_policy_text();
        let mut at = position % text.len();
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + cut).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mutated = format!("{}{insert}{}", &text[..at], &text[end..]);
        if let Err(err) = Policy::from_text(&mutated, Format::Yaml, "p.yaml") {
            let message = err.to_string();
            let location = message.split(": ").next().unwrap();
            let parts: Vec<&str> = location.split(':').collect();
            prop_assert_eq!(parts.len(), 3, "{}", message);
            prop_assert!(parts[1].parse::<usize>().is_ok() && parts[2].parse::<usize>().is_ok(), "{}", message);
        }
    }
}

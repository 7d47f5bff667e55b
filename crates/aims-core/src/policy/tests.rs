use serde_json::json;

use super::*;

fn policy(yaml: &str) -> Policy {
    Policy::from_text(yaml, Format::Yaml, "test.yaml").unwrap()
}

fn load_error(yaml: &str) -> String {
    Policy::from_text(yaml, Format::Yaml, "bad.yaml")
        .unwrap_err()
        .to_string()
}

fn verdict(policy: &Policy, tool: &str, args: Value) -> Verdict {
    policy
        .evaluate_call(&ToolCall::new("cs-agent", tool, args))
        .verdict
}

const REFUNDS: &str = r#"
default: deny
rules:
  - id: refund-cap
    match:
      tool: issue_refund
      args:
        /amount: {gt: 500}
    effect: deny
    controls: [A.9.2]
  - id: refund-approval
    match:
      tool: issue_refund
      args:
        /amount: {gt: 100}
    effect: require_approval
    checkpoint: refund-approval
  - id: refund-allow
    match: {tool: issue_refund}
    effect: allow
  - id: warn-any-db
    match: {tool: "db_*"}
    effect: warn
"#;

#[test]
fn combining_takes_the_strongest_effect_and_falls_back_to_the_default() {
    let policy = policy(REFUNDS);
    assert_eq!(
        verdict(&policy, "issue_refund", json!({"amount": 50})),
        Verdict::Allow
    );
    assert_eq!(
        verdict(&policy, "issue_refund", json!({"amount": 150})),
        Verdict::RequireApproval
    );
    assert_eq!(
        verdict(&policy, "issue_refund", json!({"amount": 900})),
        Verdict::Deny
    );
    assert_eq!(verdict(&policy, "db_query", json!({})), Verdict::Warn);
    assert_eq!(verdict(&policy, "shell", json!({})), Verdict::Deny);
    let evaluation =
        policy.evaluate_call(&ToolCall::new("a", "issue_refund", json!({"amount": 900})));
    let ids: Vec<&str> = evaluation
        .matches
        .iter()
        .map(|m| policy.rules()[m.rule].id())
        .collect();
    assert_eq!(ids, ["refund-cap", "refund-approval", "refund-allow"]);
}

#[test]
fn unreadable_inputs_apply_restricting_rules_and_not_allowing_ones() {
    let policy = policy(REFUNDS);
    // A missing or non-numeric amount cannot be compared: the cap applies, the allow does not
    // need it.
    assert_eq!(verdict(&policy, "issue_refund", json!({})), Verdict::Deny);
    assert_eq!(
        verdict(&policy, "issue_refund", json!({"amount": "lots"})),
        Verdict::Deny
    );
    assert_eq!(
        verdict(&policy, "issue_refund", json!({"amount": "600"})),
        Verdict::Deny
    );
    let evaluation = policy.evaluate_call(&ToolCall::new("a", "issue_refund", json!({})));
    assert!(!evaluation.matches[0].certain);

    let allow_only = policy_with_allow_condition();
    assert_eq!(verdict(&allow_only, "t", json!({"n": "x"})), Verdict::Deny);
    assert_eq!(verdict(&allow_only, "t", json!({"n": 1})), Verdict::Allow);
}

fn policy_with_allow_condition() -> Policy {
    policy("rules:\n  - id: small\n    match: {tool: t, args: {/n: {lt: 10}}}\n    effect: allow\n")
}

#[test]
fn agents_tools_and_context_scope_rules() {
    let policy = policy(
        r#"
default: allow
rules:
  - id: no-interns
    match:
      agent: ["intern-*", ops-bot]
      tool: "{shell,bash}"
      context:
        /user/roles: {contains: intern}
    effect: deny
"#,
    );
    let call = |agent: &str, tool: &str, roles: Value| {
        let mut call = ToolCall::new(agent, tool, json!({}));
        call.context = json!({"user": {"roles": roles}});
        policy.evaluate_call(&call).verdict
    };
    assert_eq!(call("intern-7", "bash", json!(["intern"])), Verdict::Deny);
    assert_eq!(
        call("ops-bot", "shell", json!(["intern", "x"])),
        Verdict::Deny
    );
    assert_eq!(call("cs-agent", "shell", json!(["intern"])), Verdict::Allow);
    assert_eq!(call("intern-7", "zsh", json!(["intern"])), Verdict::Allow);
    assert_eq!(call("intern-7", "bash", json!(["admin"])), Verdict::Allow);
}

#[test]
fn result_rules_run_only_on_results_and_default_to_allow() {
    let policy = policy(
        r#"
rules:
  - id: read
    match: {tool: lookup_order}
    effect: allow
  - id: no-secrets-out
    phase: post
    match:
      tool: "*"
      result:
        /note: {matches: "(?i)password"}
    effect: deny
  - id: mask-emails
    phase: post
    match: {tool: lookup_order}
    effect: redact
    redact: {pointers: [/email], entities: [EMAIL_ADDRESS]}
"#,
    );
    let call = ToolCall::new("a", "lookup_order", json!({}));
    assert_eq!(policy.evaluate_call(&call).verdict, Verdict::Allow);
    assert_eq!(
        policy
            .evaluate_result(&call, &json!({"note": "ok"}))
            .verdict,
        Verdict::Redact
    );
    assert_eq!(
        policy
            .evaluate_result(&call, &json!({"note": "Password: x"}))
            .verdict,
        Verdict::Deny
    );
    let other = ToolCall::new("a", "search_kb", json!({}));
    assert_eq!(
        policy.evaluate_result(&other, &json!({})).verdict,
        Verdict::Deny
    );
    assert_eq!(
        policy
            .evaluate_result(&other, &json!({"note": "fine"}))
            .verdict,
        Verdict::Allow
    );
}

#[test]
fn version_is_the_hash_of_the_canonical_document() {
    let yaml = policy("default: deny\nrules: []\n");
    let json = Policy::from_text(
        r#"{"rules": [], "default": "deny"}"#,
        Format::Json,
        "p.json",
    )
    .unwrap();
    assert_eq!(yaml.version(), json.version());
    assert_eq!(
        yaml.version(),
        crate::canonical::sha256_hex(&json!({"default": "deny", "rules": []}))
    );
    assert_ne!(
        yaml.version(),
        policy("default: allow\nrules: []\n").version()
    );
}

#[test]
fn explain_lists_every_rule_and_why() {
    let policy = policy(REFUNDS);
    let explanation = policy.explain(
        &ToolCall::new("a", "issue_refund", json!({"amount": 150})),
        None,
    );
    assert_eq!(explanation.verdict, Verdict::RequireApproval);
    let outcomes: Vec<(&str, &str)> = explanation
        .rules
        .iter()
        .map(|r| (r.id.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("refund-cap", "conditions_false"),
            ("refund-approval", "matched"),
            ("refund-allow", "matched"),
            ("warn-any-db", "tool_mismatch"),
        ]
    );
    assert_eq!(
        explanation.rules[0].conditions[0].condition,
        "args/amount gt 500"
    );
    assert_eq!(explanation.rules[0].conditions[0].outcome, "false");
    let text = serde_json::to_string(&explanation).unwrap();
    assert!(
        !text.contains("150"),
        "explanations must not echo input values: {text}"
    );
}

#[test]
fn silent_mistakes_are_rejected_at_their_line_and_column() {
    let cases = [
        ("rules:\n  - id: a\n    match:\n      args:\n        /amount: {gt: 500}\n        /amount: {gt: 100000}\n    effect: deny\n", "bad.yaml:5:9: rules[0].match.args: duplicate pointer `/amount`"),
        ("rules:\n  - id: a\n    match:\n      args:\n        /amount: {gt: .nan}\n    effect: deny\n", "bad.yaml:5:23: rules[0].match.args./amount.gt: invalid bound NaN: expected a finite number"),
    ];
    for (yaml, expected) in cases {
        let err = load_error(yaml);
        assert!(
            err.starts_with(expected),
            "expected: {expected}\n     got: {err}"
        );
    }
}

#[test]
fn hostile_yaml_fails_fast_at_its_position() {
    let mut bomb = String::from("x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..9 {
        let items = vec![format!("*a{}", level - 1); 10].join(", ");
        bomb.push_str(&format!("x{level}: &a{level} [{items}]\n"));
    }
    bomb.push_str("rules: []\n");
    let err = load_error(&bomb);
    assert!(err.starts_with("bad.yaml:5:"), "{err}");
    assert!(
        err.contains("aliases expand to more than 100000 nodes"),
        "{err}"
    );
    // About 200 KB of nesting, in flow and in block style.
    let deep = format!("rules: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        load_error(&deep),
        "bad.yaml:1:263: recursion limit exceeded"
    );
    let block: String = (0..600)
        .map(|depth| format!("{}- \n", " ".repeat(depth * 2)))
        .collect();
    let err = load_error(&format!("rules:\n{block}"));
    assert!(err.starts_with("bad.yaml:"), "{err}");
    assert!(err.ends_with("nesting deeper than 64 levels"), "{err}");
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_policy() {
    let policy = Policy::from_text("\u{feff}rules: []\n", Format::Yaml, "bom.yaml").unwrap();
    assert!(policy.rules().is_empty());
}

#[test]
fn error_messages_mask_the_pii_they_quote() {
    let err = load_error(
        "rules:\n  - id: a\n    match: {tool: issue_refund}\n    effect: 4111 1111 1111 1111\n",
    );
    assert!(!err.contains("4111 1111 1111 1111"), "{err}");
    assert!(err.contains("<CREDIT_CARD>"), "{err}");
}

#[test]
fn malformed_policies_are_rejected_with_file_line_and_column() {
    let cases: [(&str, &str); 15] = [
        ("rules:\n  - id: a\n    match: {}\n    effect: redact\n    redact: {entities: [EMAIL]}\n", "bad.yaml:5:25: rules[0].redact.entities[0]: unknown PII entity `EMAIL`"),
        ("rules:\n  - id: a\n    match: {}\n    efect: deny\n", "bad.yaml:4:5: rules[0]: unknown field `efect`"),
        ("rules:\n  - id: a\n    match: {}\n    effect: block\n", "bad.yaml:4:13: rules[0].effect: unknown variant `block`"),
        ("rules:\n  - id: a\n    match: {tool: 5}\n    effect: deny\n", "bad.yaml:3:19: rules[0].match.tool: invalid type: integer `5`"),
        ("rules:\n  - id: a\n    match:\n      args:\n        /x: {matches: '(oops'}\n    effect: deny\n", "bad.yaml:5:23: rules[0].match.args./x.matches: invalid regex `(oops`: unclosed group"),
        ("rules:\n  - id: a\n    match: {tool: ['ok', 'x[']}\n    effect: deny\n", "bad.yaml:3:26: rules[0].match.tool[1]: invalid glob `x[`"),
        ("rules:\n  - id: a\n    match: {}\n    effect: deny\n    controls: [A.6.2.8, A.11.2]\n", "bad.yaml:5:25: rules[0].controls[1]: unknown Annex A control id `A.11.2`"),
        ("rules:\n  - id: a\n    match: {}\n    effect: deny\n  - id: a\n    match: {}\n    effect: allow\n", "bad.yaml:5:5: rules[1]: duplicate rule id `a`"),
        ("rules:\n  - id: a\n    match: {}\n    effect: require_approval\n", "bad.yaml:2:5: rules[0]: rule `a`: effect require_approval needs a `checkpoint`"),
        ("rules:\n  - id: a\n    match: {}\n    effect: redact\n", "bad.yaml:2:5: rules[0]: rule `a`: effect redact needs `redact`"),
        ("rules:\n  - id: a\n    match: {args: {amount: {gt: 1}}}\n    effect: deny\n", "bad.yaml:3:20: rules[0].match.args: invalid JSON pointer `amount`"),
        ("rules:\n  - id: a\n    match: {result: {/x: {exists: true}}}\n    effect: deny\n", "bad.yaml:2:5: rules[0]: rule `a`: `match.result` conditions need `phase: post`"),
        ("default: redact\nrules: []\n", "bad.yaml:1:10: default: unknown variant `redact`, expected one of `allow`, `warn`, `deny`"),
        ("rules:\n  - id: a\n    match: {}\n    effect: deny\n    rate_limit: {max: 1, window: 1h}\n", "bad.yaml:2:5: rules[0]: rule `a`: `rate_limit` and `budget` are for rules that let calls proceed"),
        ("rules:\n  - id: a\n    match: {}\n    effect: allow\n    budget: {sum: /amount, max: 10, window: 1y}\n", "bad.yaml:5:45: rules[0].budget.window: invalid window `1y`"),
    ];
    let mismatches: Vec<String> = cases
        .iter()
        .map(|(yaml, expected)| (load_error(yaml), expected))
        .filter(|(err, expected)| !err.starts_with(**expected))
        .map(|(err, expected)| format!("\nexpected: {expected}\n     got: {err}"))
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join(""));
}

#[test]
fn syntax_errors_and_json_errors_carry_locations() {
    let err = load_error("rules:\n  - id: a\n    match: {tool: [x\n    effect: deny\n");
    assert!(err.starts_with("bad.yaml:4:"), "{err}");
    let err = Policy::from_text(
        "{\"rules\": [\n  {\"id\": \"a\", \"match\": {}, \"effect\": \"nope\"}\n]}",
        Format::Json,
        "p.json",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("p.json:2:"), "{err}");
    assert!(err.contains("unknown variant `nope`"), "{err}");
    let err = Policy::from_file("/nonexistent/policy.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/nonexistent/policy.yaml: cannot read policy"),
        "{err}"
    );
}

#[test]
fn the_schema_describes_rules_and_every_operator() {
    let schema = policy_schema();
    let schema = schema.as_value();
    let rule = &schema["$defs"]["Rule"];
    assert_eq!(rule["required"], json!(["id", "match", "effect"]));
    assert_eq!(rule["additionalProperties"], json!(false));
    let operators = schema["$defs"]["Operators"]["properties"]
        .as_object()
        .unwrap();
    let names: Vec<&str> = operators.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "equals", "in", "not_in", "matches", "gt", "gte", "lt", "lte", "exists", "contains",
            "length", "not"
        ]
    );
    assert_eq!(
        schema["$defs"]["ControlId"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        38
    );
}

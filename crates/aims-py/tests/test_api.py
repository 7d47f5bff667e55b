"""Every public API besides the decorator: Guard, Decision, Scanner, AuditLog, register,
exceptions."""

import json
import shutil

import pytest

import aims

from conftest import POLICY, REGISTER, events


def test_exceptions_share_one_base():
    for cls in (aims.PolicyDenied, aims.ApprovalRequired, aims.PolicyError, aims.AuditError):
        assert issubclass(cls, aims.AimsError)


def test_bad_policy_text_raises_policy_error_with_line_and_column():
    text = "default: deny\nrules:\n  - id: r\n    match: {tool: t}\n    effect: explode\n"
    with pytest.raises(aims.PolicyError) as raised:
        aims.Guard(policy_text=text)
    err = raised.value
    assert (err.file, err.line, err.column) == ("<inline>", 5, 13)
    assert "explode" in str(err)


def test_unreadable_policy_file_raises_policy_error(tmp_path):
    with pytest.raises(aims.PolicyError) as raised:
        aims.Guard(tmp_path / "missing.yaml")
    assert raised.value.file.endswith("missing.yaml") and raised.value.line is None


def test_bad_configuration_raises_aims_error():
    with pytest.raises(aims.AimsError):
        aims.Guard()
    with pytest.raises(aims.AimsError, match="sometimes"):
        aims.Guard(POLICY, audit_dir="/tmp/unused-aims-dir", durability="sometimes")


def test_check_returns_a_decision(memory_guard):
    decision = memory_guard.check("issue_refund", {"order_id": "o1", "amount": 150, "currency": "EUR"})
    assert decision.verdict == "require_approval"
    assert decision.phase == "pre" and not decision.may_proceed and not decision.shadow
    assert decision.checkpoint == "refund-approval"
    assert decision.rule_ids == ["refund-approval", "refund-rate-limit", "refund-budget"]
    assert "A.9.2" in decision.controls
    assert decision.policy_version == memory_guard.policy_version and len(decision.policy_version) == 64
    assert decision.reasons[0]["rule_id"] == "refund-approval"
    assert decision.tool == "issue_refund" and decision.agent == "cs-agent"
    as_dict = decision.to_dict()
    assert as_dict["verdict"] == "require_approval" and as_dict["decision_id"] == decision.decision_id
    assert "require_approval" in repr(decision)


def test_check_passes_context_and_ids(tmp_path):
    guard = aims.Guard(
        policy_text="default: deny\nrules:\n  - id: admins\n    match: {tool: t, context: {/role: {equals: admin}}}\n    effect: allow\n",
        audit_dir=tmp_path / "log",
    )
    assert guard.check("t", {}, context={"role": "admin"}, conversation="c1", call_id="k1", ai_system="cs").may_proceed
    assert not guard.check("t", {}, context={"role": "user"}).may_proceed
    guard.flush()
    first = events(tmp_path / "log", "decision")[0]
    assert (first["gen_ai.conversation.id"], first["gen_ai.tool.call.id"], first["ai_system_id"]) == ("c1", "k1", "cs")


def test_by_hand_flow_check_outcome_result(memory_guard):
    decision = memory_guard.check("lookup_order", {"order_id": "o1"})
    assert decision.may_proceed
    memory_guard.record_outcome(decision, 120)
    post = memory_guard.check_result(decision, {"card": "4111111111111111"})
    assert post.phase == "post" and post.verdict == "redact" and post.redacts
    assert memory_guard.apply_redactions(post, {"card": "4111111111111111"}) == {"card": "<CREDIT_CARD>"}


def test_explain_records_nothing(memory_guard):
    explanation = memory_guard.explain("issue_refund", {"amount": 900})
    assert explanation["verdict"] == "deny"
    matched = [rule["id"] for rule in explanation["rules"] if rule["matched"]]
    assert matched[0] == "refund-cap"
    assert memory_guard.metrics()["decisions"] == []


def test_metrics_and_prometheus(memory_guard):
    memory_guard.check("search_kb", {"query": "x"})
    memory_guard.check("shell", {"cmd": "ls"})
    counts = {(d["tool"], d["verdict"]): d["count"] for d in memory_guard.metrics()["decisions"]}
    assert counts == {("search_kb", "allow"): 1, ("shell", "deny"): 1}
    assert "shell" in memory_guard.prometheus()


def test_reload_swaps_the_policy(memory_guard):
    before = memory_guard.policy_version
    memory_guard.reload(policy_text="default: allow\nrules: []\n")
    assert memory_guard.policy_version != before
    assert memory_guard.check("shell", {}).may_proceed
    with pytest.raises(aims.PolicyError):
        memory_guard.reload(policy_text="rules: [")
    assert memory_guard.check("shell", {}).may_proceed


def test_scanner_scan_uses_string_indices():
    scanner = aims.Scanner()
    text = "Grüße an jane.doe@example.com, Karte 4111 1111 1111 1111"
    findings = scanner.scan(text)
    assert [f["entity"] for f in findings] == ["EMAIL_ADDRESS", "CREDIT_CARD"]
    email, card = findings
    assert text[email["start"]:email["end"]] == "jane.doe@example.com"
    assert text[card["start"]:card["end"]] == "4111 1111 1111 1111" and card["validated"]


def test_scanner_mask_operators():
    scanner = aims.Scanner()
    text = "card 4111 1111 1111 1111, mail a@b.org"
    assert scanner.mask(text) == "card <CREDIT_CARD>, mail <EMAIL_ADDRESS>"
    assert scanner.mask(text, "keep_last4", entities=["CREDIT_CARD"]) == "card **** **** **** 1111, mail a@b.org"
    assert scanner.mask(text, "remove") == "card , mail "
    hashed = scanner.mask("a@b.org", "hash", hash_key=b"k" * 16)
    assert hashed.startswith("<EMAIL_ADDRESS:") and hashed == scanner.mask("a@b.org", "hash", hash_key=b"k" * 16)
    with pytest.raises(aims.AimsError):
        scanner.mask(text, "hash")
    with pytest.raises(aims.AimsError, match="unknown PII entity"):
        aims.Scanner(entities=["EMAIL"])


def test_scanner_restricted_entities_and_deny_list():
    scanner = aims.Scanner(entities=["EMAIL_ADDRESS"], deny_list=["Project Falcon"])
    found = scanner.scan("mail a@b.org about project falcon, card 4111111111111111")
    assert [f["entity"] for f in found] == ["EMAIL_ADDRESS", "DENY_LIST"]
    assert "CREDIT_CARD" in aims.Scanner.entities()


def test_scanner_scan_json_and_mask_json():
    scanner = aims.Scanner()
    value = {"customer": {"email": "ö a@b.org", "cards": [4111111111111111]}, "bob@x.org": 1}
    found = {(f["pointer"], f["entity"], f["in_key"]) for f in scanner.scan_json(value)}
    assert found == {
        ("/customer/email", "EMAIL_ADDRESS", False),
        ("/customer/cards/0", "CREDIT_CARD", False),
        ("/bob@x.org", "EMAIL_ADDRESS", True),
    }
    email = next(f for f in scanner.scan_json(value) if f["pointer"] == "/customer/email")
    assert value["customer"]["email"][email["start"]:email["end"]] == "a@b.org"
    masked, masked_findings = scanner.mask_json(value)
    assert masked["customer"] == {"email": "ö <EMAIL_ADDRESS>", "cards": ["<CREDIT_CARD>"]}
    assert len(masked_findings) == 3


def test_audit_log_open_verify_records_prove(tmp_path):
    key = tmp_path / "signing.key"
    public_key = aims.AuditLog.generate_key(key)
    log = aims.AuditLog.open(tmp_path / "log", key, durability="strict")
    assert len(log) == 0 and log.public_key == public_key
    guard = aims.Guard(POLICY, audit_dir=tmp_path / "guarded", signing_key=key)
    for query in ("a", "b", "c"):
        guard.check("search_kb", {"query": query})
    guard.flush()
    old = aims.AuditLog.records(tmp_path / "guarded")
    assert [r["index"] for r in old] == list(range(len(old)))
    report = aims.AuditLog.verify(tmp_path / "guarded", public_key=public_key)
    assert report["records"] == len(old) and report["signed_size"] == len(old) and not report["key_from_log"]
    proof = aims.AuditLog.prove(tmp_path / "guarded", 1)
    aims.AuditLog.verify_proof(proof, public_key)
    assert guard.prove(1) == proof
    # The recipient of a proof detects a changed record.
    forged = dict(proof, record=proof["record"].replace("search_kb", "issue_refund"))
    with pytest.raises(aims.AuditError):
        aims.AuditLog.verify_proof(forged, public_key)
    # A consistency proof from an earlier checkpoint.
    checkpoint = log.checkpoint()
    assert aims.AuditLog.verify(log.dir, public_key=public_key)["origin"] == checkpoint.splitlines()[0]
    first_note = (tmp_path / "guarded" / "checkpoint").read_text()
    guard.check("search_kb", {"query": "d"})
    guard.flush()
    consistency = aims.AuditLog.prove_consistency(tmp_path / "guarded", first_note)
    aims.AuditLog.verify_proof(consistency, public_key)
    assert aims.AuditLog.verify(tmp_path / "guarded", checkpoint=first_note)["external_size"] == len(old)


def test_tampered_log_fails_verification_with_the_record_index(tmp_path):
    guard = aims.Guard(POLICY, audit_dir=tmp_path / "log")
    for query in ("a", "b", "c", "d"):
        guard.check("search_kb", {"query": query})
    guard.flush()
    del guard
    tampered = tmp_path / "tampered"
    shutil.copytree(tmp_path / "log", tampered)
    index = next(r["index"] for r in aims.AuditLog.records(tampered) if r["event"]["args"] == {"query": "c"})
    records = (tampered / "records").read_bytes()
    at = records.index(b'"query":"c"')
    (tampered / "records").write_bytes(records[:at] + b'"query":"x"' + records[at + 11:])
    with pytest.raises(aims.AuditError) as raised:
        aims.AuditLog.verify(tampered)
    assert raised.value.index == index


def test_register_load_and_validate(tmp_path):
    register = aims.load_register(REGISTER)
    assert any(system["id"] == "cs-assistant" for system in register["systems"])
    assert [f for f in aims.validate_register(REGISTER) if f["severity"] == "error"] == []
    broken = tmp_path / "register"
    shutil.copytree(REGISTER, broken)
    (broken / "risks.yaml").write_text("risks:\n  - id: [not, a, string]\n")
    findings = aims.validate_register(broken)
    problem = next(f for f in findings if f["severity"] == "error")
    assert problem["file"].endswith("risks.yaml") and problem["line"] >= 1 and problem["column"] >= 1
    with pytest.raises(aims.AimsError):
        aims.load_register(broken)
    with pytest.raises(aims.AimsError):
        aims.validate_register(tmp_path / "nowhere")


def test_json_schema_by_type_name():
    schema = aims.json_schema("ai_system")
    assert schema["$schema"].startswith("https://json-schema.org/draft/2020-12")
    assert "intended_purpose" in schema["properties"]
    committed = (REGISTER.parent.parent / "schemas" / "incident.schema.json").read_text()
    assert aims.json_schema("incident") == json.loads(committed)
    with pytest.raises(aims.AimsError, match="register"):
        aims.json_schema("nope")

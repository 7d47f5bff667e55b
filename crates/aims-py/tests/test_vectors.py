"""The shared conformance vectors (tests/vectors/, format in its README) decide identically
from Python: same verdicts, rules, reasons, controls, checkpoints, redactions."""

import json
import os

import pytest

import aims
from aims.testing import PolicyTester

from conftest import VECTORS

FILES = sorted(VECTORS.glob("*.json"))


def test_vectors_exist():
    assert FILES, f"no conformance vector in {VECTORS}"


def observed(decision: aims.Decision, field: str):
    if field == "verdict":
        return decision.verdict
    if field == "rule_ids":
        return decision.rule_ids
    if field == "reason_codes":
        return [reason["code"] for reason in decision.reasons]
    if field == "controls":
        return decision.controls
    if field == "checkpoint":
        return decision.checkpoint
    if field == "may_proceed":
        return decision.may_proceed
    if field == "redactions":
        return [
            {"rule_id": r["rule_id"], "pointers": r.get("pointers", []), "entities": r.get("entities", [])}
            for r in decision.redactions
        ]
    raise AssertionError(f"unknown expectation `{field}` in a vector")


def decision_files():
    return [path for path in FILES if "steps" in json.loads(path.read_text())]


def invalid_cases():
    cases = []
    for path in FILES:
        vector = json.loads(path.read_text())
        cases += [pytest.param(case, id=f"{path.stem}:{case['name']}") for case in vector.get("cases", [])]
    return cases


@pytest.mark.parametrize("path", decision_files(), ids=lambda p: p.stem)
def test_decision_vector(path):
    vector = json.loads(path.read_text())
    tester = PolicyTester(json.dumps(vector["policy"]), format="json", name=f"{path.stem}.json")
    failures = []
    for step in vector["steps"]:
        if "at" in step:
            tester.set_time(step["at"])
        if "result" in step:
            decision = tester.check_result(step["call"], step["result"])
        else:
            decision = tester.check(step["call"])
        for field, expected in step["expect"].items():
            got = observed(decision, field)
            if got != expected:
                failures.append(f"{step['name']}: {field}: expected {expected!r}, got {got!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("case", invalid_cases())
def test_invalid_policy_vector(case, tmp_path, monkeypatch):
    name = f"policy.{case['format']}"
    (tmp_path / name).write_text(case["text"])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(aims.PolicyError) as raised:
        aims.Guard(name)
    err = raised.value
    expected = case["error"]
    assert (err.file, err.line, err.column) == (name, expected["line"], expected["column"])
    assert str(err).startswith(f"{name}:{expected['line']}:{expected['column']}: ")
    assert expected["contains"] in str(err)
    # The same text through the tester (in memory, no file) fails at the same place.
    with pytest.raises(aims.PolicyError) as again:
        PolicyTester(case["text"], format=case["format"], name=name)
    assert (again.value.line, again.value.column) == (expected["line"], expected["column"])
    assert os.path.basename(again.value.file) == name

"""The guarded-call scenarios of ``tests/scenarios/`` (format in its README), run through the
Python API exactly as the Rust runner runs them through the core: a drift between the two is a
failing scenario."""

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import aims

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.json"))


def test_the_scenario_directory_is_not_empty() -> None:
    assert SCENARIOS, "no scenario in tests/scenarios"


class Host:
    def __init__(self, scenario: Dict[str, Any], scratch: Path) -> None:
        self.scenario = scenario
        self.scratch = scratch
        self.requests: Dict[str, str] = {}
        self.guard = self.open()

    def open(self) -> aims.Guard:
        return aims.Guard(
            policy_text=json.dumps(self.scenario["policy"]),
            audit_dir=self.scratch / "log",
            durability="none",
            oversight_store=self.scratch / "oversight.db" if self.scenario.get("oversight") else None,
            register_dir=ROOT / self.scenario["register"] if "register" in self.scenario else None,
        )

    def step(self, step: Dict[str, Any]) -> None:
        name = step.get("name", "?")
        expect = step.get("expect", {})
        if "call" in step:
            self.call(name, step)
        elif "vote" in step:
            vote = step["vote"]
            request = self.requests[vote["request"]]
            approvals = self.guard.approvals
            cast = approvals.approve if vote.get("approve", True) else approvals.reject
            try:
                answer = cast(request, vote["by"], vote["role"])
            except aims.AimsError as err:
                check(name, expect, "error", type(err).__name__)
            else:
                check(name, expect, "status", answer["status"])
                check(name, expect, "error", None)
        elif "reload" in step:
            try:
                self.guard.reload(policy_text=json.dumps(step["reload"]))
            except aims.AimsError as err:
                check(name, expect, "error", type(err).__name__)
            else:
                check(name, expect, "error", None)
        elif step.get("restart"):
            self.guard.flush()
            # The log has one writer: the old guard lets go of it before the new one opens it.
            del self.guard
            self.guard = self.open()
        else:
            raise AssertionError(f"{name}: unknown step {step}")

    def call(self, name: str, step: Dict[str, Any]) -> None:
        call = step["call"]
        expect = step.get("expect", {})
        run = step.get("run", {})
        try:
            guarded = self.guard.admit(
                call["tool"],
                call.get("args", {}),
                agent=call["agent_id"],
                ai_system=call.get("ai_system_id"),
                conversation=call.get("conversation_id"),
                call_id=call.get("call_id"),
                context=call.get("context"),
            )
        except (aims.PolicyDenied, aims.ApprovalRequired) as err:
            decision = err.decision
            check(name, expect, "admitted", False)
            check(name, expect, "error", type(err).__name__)
            check(name, expect, "verdict", decision.verdict)
            check(name, expect, "reason_codes", [reason["code"] for reason in decision.reasons])
            if isinstance(err, aims.ApprovalRequired):
                check(name, expect, "status", err.status)
                assert err.request_id == decision.approval_id, name
            self.compare_request(name, expect, decision.approval_id)
            assert decision.to_dict().get("approval_id") == decision.approval_id, name
            if "save_request" in step and decision.approval_id is not None:
                self.requests[step["save_request"]] = decision.approval_id
            return
        decision = guarded.decision
        check(name, expect, "admitted", True)
        check(name, expect, "verdict", decision.verdict)
        masked = guarded.arguments
        check(name, expect, "arguments", call.get("args", {}) if masked is None else masked)
        self.compare_request(name, expect, decision.approval_id)
        if "error" in run:
            guarded.fail(run["error"])
            return
        try:
            result = guarded.finish(run.get("result", {}))
        except aims.AimsError as err:
            check(name, expect, "error", type(err).__name__)
        else:
            check(name, expect, "result", result)

    def compare_request(self, name: str, expect: Dict[str, Any], approval_id: Optional[str]) -> None:
        check(name, expect, "has_request", approval_id is not None)
        if "request" in expect:
            assert approval_id == self.requests[expect["request"]], f"{name}: request"
        if expect.get("new_request"):
            assert approval_id is not None and approval_id not in self.requests.values(), name

    def finish(self) -> None:
        self.guard.flush()
        # Raises AuditError when the log does not verify.
        report = aims.AuditLog.verify(self.scratch / "log")
        assert report["records"] > 0, report


def check(name: str, expect: Dict[str, Any], field: str, actual: Any) -> None:
    if field in expect:
        assert actual == expect[field], f"{name}: {field}: {actual!r} != {expect[field]!r}"


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_scenario(path: Path, tmp_path: Path) -> None:
    scenario = json.loads(path.read_text())
    host = Host(scenario, tmp_path)
    steps: List[Dict[str, Any]] = scenario["steps"]
    for step in steps:
        host.step(step)
    host.finish()

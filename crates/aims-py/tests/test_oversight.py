"""Approvals and incidents through the guard's oversight store: requests opened by
require_approval, approve/reject/status/wait, execution of the approved call, the decorator
waiting for an approval (also without blocking the event loop), incidents."""

import asyncio
import threading

import pytest

import aims

from conftest import events

POLICY = """
default: deny
rules:
  - id: big-refund
    match: {tool: refund, args: {/amount: {gt: 100}}}
    effect: require_approval
    checkpoint: refunds
  - id: refunds
    match: {tool: refund}
    effect: allow
  - id: no-shell
    match: {tool: shell}
    effect: deny
    severity: critical
checkpoints:
  - id: refunds
    ai_system_id: cs-assistant
    trigger: {policy_rules: [big-refund]}
    approver_roles: [lead]
    required_approvals: 1
    timeout_seconds: 600
    on_timeout: deny
incidents:
  - id: critical-deny
    when: {deny_by_severity: {min_severity: critical}}
    severity: high
"""


@pytest.fixture
def guard(tmp_path):
    return aims.Guard(
        policy_text=POLICY, audit_dir=tmp_path / "log", oversight_store=tmp_path / "oversight.db", agent="cs-agent"
    )


def test_without_a_store_there_are_no_approvals(memory_guard):
    with pytest.raises(aims.AimsError, match="oversight"):
        memory_guard.approvals


def test_require_approval_opens_a_request_and_approval_clears_the_call(guard, tmp_path):
    ran = []

    @guard.tool
    def refund(order_id, amount):
        ran.append(amount)
        return "refunded"

    with pytest.raises(aims.ApprovalRequired) as raised:
        refund("o1", 250)
    request_id = raised.value.request_id
    assert request_id and raised.value.status == "pending" and ran == []
    assert guard.approvals.status(request_id)["status"] == "pending"
    assert [r["id"] for r in guard.approvals.pending()] == [request_id]
    with pytest.raises(aims.AimsError, match="role"):
        guard.approvals.approve(request_id, "mallory", "intern")
    assert guard.approvals.approve(request_id, "lena", "lead", "ok")["status"] == "approved"
    cleared = guard.approvals.execute(raised.value.decision)
    assert cleared.phase == "pre" and cleared.decision_id != raised.value.decision.decision_id
    with pytest.raises(aims.AimsError):
        guard.approvals.execute(raised.value.decision)  # once only
    guard.flush()
    steps = [e["step"] for e in events(tmp_path / "log", "approval")]
    assert steps == ["requested", "approved", "executed"]


def test_rejection_is_reported(guard):
    decision = guard.check("refund", {"order_id": "o1", "amount": 300})
    assert decision.verdict == "require_approval" and decision.approval_id
    assert guard.approvals.reject(decision.approval_id, "lena", "lead")["status"] == "rejected"
    assert guard.approvals.wait(decision.approval_id, 0.1)["status"] == "rejected"


def test_decorator_waits_for_the_approval(guard):
    @guard.tool(wait=30)
    def refund(order_id, amount):
        return f"refunded {amount}"

    def approver():
        while not guard.approvals.pending():
            pass
        guard.approvals.approve(guard.approvals.pending()[0]["id"], "lena", "lead")

    helper = threading.Thread(target=approver)
    helper.start()
    assert refund("o1", 250) == "refunded 250"
    helper.join()


def test_async_decorator_waits_without_blocking_the_event_loop(guard):
    @guard.tool(wait=30)
    async def refund(order_id, amount):
        return f"refunded {amount}"

    async def approve_when_asked():
        ticks = 0
        while not guard.approvals.pending():
            ticks += 1
            await asyncio.sleep(0.01)
        guard.approvals.approve(guard.approvals.pending()[0]["id"], "lena", "lead")
        return ticks

    async def main():
        return await asyncio.gather(refund("o1", 250), approve_when_asked())

    # Were the event loop blocked by the wait, the approver task could not run and the wait
    # would end unapproved.
    result, _ = asyncio.run(main())
    assert result == "refunded 250"


def test_decorator_reports_a_wait_that_ends_unapproved(guard):
    @guard.tool(wait=0.2)
    def refund(order_id, amount):
        raise AssertionError("must not run")

    with pytest.raises(aims.ApprovalRequired) as raised:
        refund("o1", 250)
    assert raised.value.status == "pending"


def test_incidents_open_and_update(guard):
    assert not guard.check("shell", {"cmd": "ls"}).may_proceed
    (incident,) = guard.incidents.list()
    assert (incident["status"], incident["severity"]) == ("open", "high")
    same = guard.incidents.get(incident["id"])
    assert same["id"] == incident["id"]
    updated = guard.incidents.update(incident["id"], "lena", status="investigating", note="looking at it")
    assert updated["status"] == "investigating"
    assert [i["id"] for i in guard.incidents.list("investigating")] == [incident["id"]]
    with pytest.raises(aims.AimsError):
        guard.incidents.update(incident["id"], "lena", status="no-such-status")

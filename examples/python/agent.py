"""A small customer-service agent whose tools are guarded by aims.

The "model" is a script of the tool calls an LLM would make for a few customer messages, so
the example runs offline and deterministically. Each tool is a plain Python function under
``@guard.tool``; the policy is ``examples/policy.yaml``; every decision and outcome lands in
a signed audit log, verified at the end.

    python examples/python/agent.py [AUDIT_DIR]
"""

import asyncio
import pathlib
import sys
import tempfile

import aims

HERE = pathlib.Path(__file__).resolve().parent
POLICY = HERE.parent / "policy.yaml"

ORDERS = {
    "A-1001": {"status": "shipped", "total": 59.90, "card": "4111 1111 1111 1111"},
    "A-1002": {"status": "delivered", "total": 240.00, "card": "5500 0000 0000 0004"},
}


def build_tools(guard: aims.Guard):
    """The agent's tools, each guarded."""

    @guard.tool
    def lookup_order(order_id: str) -> dict:
        """Look up an order by id."""
        return {"order_id": order_id, **ORDERS[order_id]}

    @guard.tool
    async def search_kb(query: str) -> str:
        """Search the knowledge base."""
        await asyncio.sleep(0)
        return f"Returns are accepted within 30 days ({query}). Escalations: ops key sk-live0123456789abcdefghij"

    @guard.tool
    def issue_refund(order_id: str, amount: float, currency: str = "EUR", reason: str = "") -> str:
        """Refund part or all of an order."""
        return f"refunded {amount:.2f} {currency} on {order_id}"

    @guard.tool
    def send_email(to: str, subject: str, body: str) -> str:
        """Send an e-mail to a customer."""
        return f"sent to {to}: {body}"

    return lookup_order, search_kb, issue_refund, send_email


def run(audit_dir: pathlib.Path) -> int:
    guard = aims.Guard(POLICY, audit_dir=audit_dir, agent="cs-agent")
    lookup_order, search_kb, issue_refund, send_email = build_tools(guard)

    def step(label, call):
        try:
            outcome = call()
            if asyncio.iscoroutine(outcome):
                outcome = asyncio.run(outcome)
            print(f"{label}: ok: {outcome}")
        except aims.ApprovalRequired as err:
            print(f"{label}: approval required at {err.decision.checkpoint}")
        except aims.PolicyDenied as err:
            print(f"{label}: denied ({', '.join(err.decision.rule_ids)})")

    step("lookup", lambda: lookup_order("A-1001"))
    step("kb", lambda: search_kb("return policy"))
    step("small refund", lambda: issue_refund("A-1001", 20.0, reason="late delivery"))
    step("large refund", lambda: issue_refund("A-1002", 240.0, reason="damaged"))
    step("huge refund", lambda: issue_refund("A-1002", 900.0, reason="goodwill"))
    step(
        "email",
        lambda: send_email("jane@customer.example.org", "Your refund", "Refunded to card 4111 1111 1111 1111."),
    )
    step("leaky email", lambda: send_email("jane@customer.example.org", "Login", "your password: hunter22"))
    step("shell (checked by hand)", lambda: guard.check("shell", {"cmd": "rm -rf /"}).verdict)

    guard.flush()
    report = aims.AuditLog.verify(audit_dir)
    print(f"audit log: {report['records']} records, verified, signed size {report['signed_size']}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(run(pathlib.Path(sys.argv[1])))
    with tempfile.TemporaryDirectory() as scratch:
        sys.exit(run(pathlib.Path(scratch) / "audit"))

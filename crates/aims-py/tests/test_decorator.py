"""``@guard.tool``: argument binding, verdicts onto exceptions, redaction, outcomes,
post-call checks, metadata, and stacking with framework-shaped decorators."""

import asyncio
import dataclasses
import decimal
import functools
import inspect

import pytest

import aims

from conftest import events

REFUND_POLICY = """
default: deny
rules:
  - id: big
    match: {tool: refund, args: {/amount: {gt: 100}}}
    effect: deny
    reason: too big
  - id: ok
    match: {tool: [refund, greet, kw_only, varargs, method_tool]}
    effect: allow
  - id: mail-redact
    match: {tool: mail}
    effect: redact
    redact: {entities: [EMAIL_ADDRESS], pointers: [/secret]}
  - id: approve
    match: {tool: wire}
    effect: require_approval
    checkpoint: finance
  - id: allow-leaky
    match: {tool: [leaky, secret_result, failing]}
    effect: allow
  - id: leak-redact
    phase: post
    match: {tool: leaky}
    effect: redact
    redact: {entities: [CREDIT_CARD]}
  - id: secret-deny
    phase: post
    match: {tool: secret_result, result: {/token: {exists: true}}}
    effect: deny
    reason: results with tokens are withheld
"""


@pytest.fixture
def guard(log_dir):
    return aims.Guard(policy_text=REFUND_POLICY, audit_dir=log_dir, agent="tester")


def pre_args(log_dir, tool):
    return [e["args"] for e in events(log_dir, "decision") if e["gen_ai.tool.name"] == tool and e["phase"] == "pre"]


def test_positional_keyword_and_default_arguments_are_bound_by_name(guard, log_dir):
    @guard.tool
    def refund(order_id, amount, currency="EUR"):
        return (order_id, amount, currency)

    assert refund("o1", 5) == ("o1", 5, "EUR")
    assert refund(amount=7, order_id="o2", currency="USD") == ("o2", 7, "USD")
    guard.flush()
    assert pre_args(log_dir, "refund") == [
        {"order_id": "o1", "amount": 5, "currency": "EUR"},
        {"order_id": "o2", "amount": 7, "currency": "USD"},
    ]


def test_deny_raises_before_the_body_runs(guard):
    ran = []

    @guard.tool
    def refund(order_id, amount):
        ran.append(order_id)

    with pytest.raises(aims.PolicyDenied) as raised:
        refund("o1", amount=500)
    assert ran == []
    decision = raised.value.decision
    assert (decision.verdict, decision.rule_ids, decision.phase) == ("deny", ["big", "ok"], "pre")
    assert "too big" in str(raised.value)


def test_keyword_only_and_varargs(guard, log_dir):
    @guard.tool
    def kw_only(a, *, b, c=3):
        return a + b + c

    @guard.tool
    def varargs(first, *rest, **options):
        return first, rest, options

    assert kw_only(1, b=2) == 6
    assert varargs(1, 2, 3, mode="x") == (1, (2, 3), {"mode": "x"})
    guard.flush()
    assert pre_args(log_dir, "kw_only") == [{"a": 1, "b": 2, "c": 3}]
    assert pre_args(log_dir, "varargs") == [{"first": 1, "rest": [2, 3], "mode": "x"}]


def test_wrong_arguments_raise_type_error_before_any_decision(guard, log_dir):
    @guard.tool
    def refund(order_id, amount):
        return amount

    with pytest.raises(TypeError):
        refund("o1")
    with pytest.raises(TypeError):
        refund("o1", 5, amount=5)
    with pytest.raises(TypeError):
        refund("o1", 5, bogus=1)
    guard.flush()
    assert pre_args(log_dir, "refund") == []


def test_methods_leave_self_out(guard, log_dir):
    class Tools:
        factor = 10

        @guard.tool(name="method_tool")
        def compute(self, value):
            return value * self.factor

    assert Tools().compute(4) == 40
    guard.flush()
    assert pre_args(log_dir, "method_tool") == [{"value": 4}]


def test_non_json_arguments_are_converted(guard, log_dir):
    @dataclasses.dataclass
    class Order:
        id: str

    @guard.tool
    def refund(order, amount):
        return order.id

    assert refund(Order("o9"), decimal.Decimal("99.50")) == "o9"
    with pytest.raises(aims.PolicyDenied):
        refund(Order("o9"), decimal.Decimal("100.50"))
    guard.flush()
    assert pre_args(log_dir, "refund")[0] == {"order": {"id": "o9"}, "amount": 99.5}


def test_require_approval_raises_approval_required(guard):
    @guard.tool
    def wire(amount):
        raise AssertionError("must not run")

    with pytest.raises(aims.ApprovalRequired) as raised:
        wire(10)
    assert raised.value.decision.checkpoint == "finance"
    assert raised.value.decision.verdict == "require_approval"


def test_redact_passes_masked_arguments(guard, log_dir):
    seen = {}

    @guard.tool
    def mail(to, body, secret="s3cr3t"):
        seen.update(to=to, body=body, secret=secret)
        return "sent"

    assert mail("bob@mail.org", body="write to carol@mail.org please") == "sent"
    assert seen == {"to": "<EMAIL_ADDRESS>", "body": "write to <EMAIL_ADDRESS> please", "secret": "[REDACTED]"}
    guard.flush()
    # The log holds the masked arguments only.
    assert "bob@mail.org" not in str(aims.AuditLog.records(log_dir))


def test_outcome_and_duration_are_recorded(guard, log_dir):
    @guard.tool
    def refund(order_id, amount):
        import time

        time.sleep(0.02)
        return "ok"

    @guard.tool
    def failing(email):
        raise ValueError(f"no customer {email}")

    refund("o1", 1)
    with pytest.raises(ValueError):
        failing("dave@mail.org")
    guard.flush()
    ok, failed = events(log_dir, "outcome")
    decisions = {e["decision_id"]: e for e in events(log_dir, "decision")}
    assert ok["status"] == "ok" and ok["duration_us"] >= 20_000
    assert decisions[ok["decision_id"]]["gen_ai.tool.name"] == "refund"
    assert failed["status"] == "error"
    assert failed["error"] == "ValueError: no customer <EMAIL_ADDRESS>"


def test_results_pass_the_post_call_check(guard):
    @guard.tool
    def leaky():
        return {"card": "4111 1111 1111 1111", "note": "fine"}

    @guard.tool
    def secret_result():
        return {"token": "t"}

    assert leaky() == {"card": "<CREDIT_CARD>", "note": "fine"}
    with pytest.raises(aims.PolicyDenied) as raised:
        secret_result()
    assert raised.value.decision.phase == "post"
    assert raised.value.decision.rule_ids == ["secret-deny"]


def test_async_tools(guard, log_dir):
    @guard.tool
    async def refund(order_id, amount):
        await asyncio.sleep(0)
        return amount * 2

    @guard.tool
    async def leaky():
        return "card 4111 1111 1111 1111"

    async def main():
        assert await refund("o1", 21) == 42
        with pytest.raises(aims.PolicyDenied):
            await refund("o1", 1000)
        assert await leaky() == "card <CREDIT_CARD>"

    assert inspect.iscoroutinefunction(refund)
    asyncio.run(main())
    guard.flush()
    assert [e["status"] for e in events(log_dir, "outcome")] == ["ok", "ok"]


def test_async_tool_failure_is_recorded(guard, log_dir):
    @guard.tool
    async def failing(email):
        raise KeyError("boom")

    with pytest.raises(KeyError):
        asyncio.run(failing("x"))
    guard.flush()
    assert events(log_dir, "outcome")[0]["status"] == "error"


def test_shadow_mode_records_but_does_not_enforce(log_dir):
    guard = aims.Guard(policy_text=REFUND_POLICY, audit_dir=log_dir, shadow=True)

    @guard.tool
    def refund(order_id, amount):
        return "ran"

    assert refund("o1", 1000) == "ran"
    guard.flush()
    decision = events(log_dir, "decision")[0]
    assert (decision["verdict"], decision["enforced"]) == ("deny", False)


def test_wrapper_keeps_name_doc_wrapped_and_signature(guard):
    def refund(order_id: str, amount: float, currency: str = "EUR") -> dict:
        """Issue a refund."""
        return {}

    wrapped = guard.tool(refund)
    assert wrapped.__name__ == "refund"
    assert wrapped.__doc__ == "Issue a refund."
    assert wrapped.__wrapped__ is refund
    assert inspect.signature(wrapped) == inspect.signature(refund)


def framework_tool(fn):
    """Shaped like LangChain's ``@tool`` / the Agents SDK's ``@function_tool``: builds a JSON
    schema from the signature and docstring, and keeps the function callable."""
    signature = inspect.signature(fn)
    types = {str: "string", float: "number", int: "integer"}
    schema = {
        "name": fn.__name__,
        "description": inspect.getdoc(fn),
        "parameters": {
            name: types.get(param.annotation, "any")
            for name, param in signature.parameters.items()
        },
        "required": [n for n, p in signature.parameters.items() if p.default is inspect.Parameter.empty],
    }

    @functools.wraps(fn)
    def call(*args, **kwargs):
        return fn(*args, **kwargs)

    call.schema = schema
    return call


EXPECTED_SCHEMA = {
    "name": "refund",
    "description": "Issue a refund.",
    "parameters": {"order_id": "string", "amount": "number", "currency": "string"},
    "required": ["order_id", "amount"],
}


def test_stacking_guard_inside_a_framework_decorator(guard):
    @framework_tool
    @guard.tool
    def refund(order_id: str, amount: float, currency: str = "EUR"):
        """Issue a refund."""
        return amount

    assert refund.schema == EXPECTED_SCHEMA
    assert refund("o1", 3.5) == 3.5
    with pytest.raises(aims.PolicyDenied):
        refund("o1", 300.0)


def test_stacking_guard_outside_a_framework_decorator(guard, log_dir):
    @guard.tool
    @framework_tool
    def refund(order_id: str, amount: float, currency: str = "EUR"):
        """Issue a refund."""
        return amount

    assert refund.schema == EXPECTED_SCHEMA
    assert refund(amount=2.0, order_id="o1") == 2.0
    with pytest.raises(aims.PolicyDenied):
        refund("o1", 300.0)
    guard.flush()
    assert pre_args(log_dir, "refund")[0] == {"order_id": "o1", "amount": 2.0, "currency": "EUR"}


def test_tool_name_and_agent_options(guard, log_dir):
    @guard.tool(name="greet", agent="other-agent")
    def hello(who):
        return f"hi {who}"

    assert hello("x") == "hi x"
    guard.flush()
    decision = events(log_dir, "decision")[0]
    assert (decision["gen_ai.tool.name"], decision["gen_ai.agent.id"]) == ("greet", "other-agent")


def test_call_context_reaches_the_policy_and_the_record(log_dir):
    guard = aims.Guard(
        policy_text="default: deny\nrules:\n  - id: support-only\n    match: {tool: refund, context: {/role: {equals: support}}}\n    effect: allow\n",
        audit_dir=log_dir,
    )

    @guard.tool
    def refund(amount):
        return amount

    @guard.tool(name="refund")
    async def async_refund(amount):
        return amount

    with pytest.raises(aims.PolicyDenied):
        refund(1)
    with aims.call_context(conversation="conv-1", ai_system="cs-assistant", context={"role": "support"}):
        assert refund(2) == 2

    async def main():
        with aims.call_context(conversation="conv-2", context={"role": "support"}):
            return await asyncio.gather(*(async_refund(n) for n in range(3)))

    assert asyncio.run(main()) == [0, 1, 2]
    guard.flush()
    decisions = events(log_dir, "decision")
    assert [d["verdict"] for d in decisions] == ["deny", "allow", "allow", "allow", "allow"]
    assert decisions[1]["gen_ai.conversation.id"] == "conv-1" and decisions[1]["ai_system_id"] == "cs-assistant"
    assert {d["gen_ai.conversation.id"] for d in decisions[2:]} == {"conv-2"}

"""The guard as Python sees it: :class:`Guard` and its ``@guard.tool`` decorator.

Every decision, mask and audit record is made by the Rust core (``aims._native.Runtime``);
this module binds arguments, calls the tool, and maps verdicts onto exceptions.
"""

import asyncio
import contextlib
import contextvars
import functools
import inspect
import json
import os
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional, TypeVar, Union, overload

from . import _native
from ._binding import Binder

F = TypeVar("F", bound=Callable[..., Any])
PathLike = Union[str, "os.PathLike[str]"]



class CallScope(NamedTuple):
    """What :func:`call_context` sets for the guarded calls made inside it."""

    conversation: Optional[str]
    ai_system: Optional[str]
    context: Optional[Dict[str, Any]]


_SCOPE: "contextvars.ContextVar[Optional[CallScope]]" = contextvars.ContextVar("aims_call_scope", default=None)


@contextlib.contextmanager
def call_context(
    *,
    conversation: Optional[str] = None,
    ai_system: Optional[str] = None,
    context: Optional[Dict[str, Any]] = None,
) -> Iterator[CallScope]:
    """Sets the conversation id, AI system and policy ``context`` (user roles, tenant,
    environment: what a policy reads under ``context``) of every ``@guard.tool`` call made
    inside the ``with`` block, in this thread or asyncio task::

        with aims.call_context(conversation=session_id, context={"role": "support"}):
            agent.run(message)
    """
    scope = CallScope(conversation, ai_system, context)
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


class Guard:
    """A fail-closed guard around an agent's tool calls.

    Give the policy as a file (``policy_path``) or as YAML/JSON text (``policy_text``).
    With ``audit_dir`` every decision and outcome goes to the durable, signed audit log in
    that directory (``durability`` ``"strict"``, ``"batched"`` (default) or ``"none"``;
    ``signing_key`` is the checkpoint key file, generated in the directory when absent);
    without it records stay in memory. ``shadow=True`` records every verdict but enforces
    none. ``oversight_store`` (a SQLite file) turns on human oversight: ``require_approval``
    opens an approval request (see :attr:`approvals`) and incident triggers fire (see
    :attr:`incidents`); ``register_dir`` (an AIMS register directory) adds the checkpoints of
    its ``oversight`` section to the policy's. ``agent`` is the agent id tools are called as unless ``@guard.tool(agent=...)``
    says otherwise.

    Raises :class:`aims.PolicyError` (with ``file``, ``line``, ``column``) for a bad policy
    and :class:`aims.AuditError` when the log cannot be opened.
    """

    def __init__(
        self,
        policy_path: Optional[PathLike] = None,
        *,
        policy_text: Optional[str] = None,
        audit_dir: Optional[PathLike] = None,
        signing_key: Optional[PathLike] = None,
        durability: Optional[str] = None,
        shadow: bool = False,
        oversight_store: Optional[PathLike] = None,
        register_dir: Optional[PathLike] = None,
        agent: str = "agent",
    ) -> None:
        config: Dict[str, Any] = {"shadow": shadow}
        for key, value in (
            ("policy_path", policy_path),
            ("policy_text", policy_text),
            ("audit_dir", audit_dir),
            ("signing_key", signing_key),
            ("durability", durability),
            ("oversight_store", oversight_store),
            ("register_dir", register_dir),
        ):
            if value is not None:
                config[key] = os.fspath(value) if key != "policy_text" else value
        self._runtime = _native.Runtime(json.dumps(config))
        self.agent = agent
        # A durable log in strict or batched mode waits for an fsync before a decision
        # returns: async tools then decide on a worker thread, so the event loop keeps
        # running and concurrent tasks share group commits.
        self._blocking_io = audit_dir is not None and durability != "none"

    # -- deciding by hand --------------------------------------------------------------

    def check(
        self,
        tool: str,
        args: Optional[Dict[str, Any]] = None,
        *,
        agent: Optional[str] = None,
        ai_system: Optional[str] = None,
        conversation: Optional[str] = None,
        call_id: Optional[str] = None,
        context: Optional[Dict[str, Any]] = None,
    ) -> "_native.Decision":
        """Decides a call before it runs and records the decision. Never raises for a deny:
        look at ``decision.may_proceed``."""
        return self._runtime.check(
            tool,
            {} if args is None else args,
            agent or self.agent,
            ai_system=ai_system,
            conversation=conversation,
            call_id=call_id,
            context=context,
        )

    def admit(
        self,
        tool: str,
        args: Optional[Dict[str, Any]] = None,
        *,
        agent: Optional[str] = None,
        ai_system: Optional[str] = None,
        conversation: Optional[str] = None,
        call_id: Optional[str] = None,
        context: Optional[Dict[str, Any]] = None,
        wait: Optional[float] = None,
    ) -> "_native.GuardedCall":
        """Admits a call under the guarded-call protocol, for code that runs tools itself:
        raises :class:`aims.PolicyDenied` or :class:`aims.ApprovalRequired` (after waiting up
        to ``wait`` seconds for the approval), else returns the :class:`aims.GuardedCall` to run
        it through: run the tool with ``call.arguments`` (when not ``None``, the masked
        arguments), then ``call.finish(result)`` (returns what the caller may see) or
        ``call.fail(error)``. An approved call retried unchanged consumes its approval once."""
        return self._runtime.admit(
            tool,
            {} if args is None else args,
            agent or self.agent,
            ai_system=ai_system,
            conversation=conversation,
            call_id=call_id,
            context=context,
            wait=wait,
        )

    def check_result(self, decision: "_native.Decision", result: Any) -> "_native.Decision":
        """Decides the result of the call ``decision`` allowed (phase ``"post"``)."""
        return self._runtime.check_result(decision, result)

    def record_outcome(
        self, decision: "_native.Decision", duration_us: int, error: Optional[str] = None
    ) -> None:
        """Records how a call ``decision`` allowed ended (``error`` is masked first)."""
        self._runtime.record_outcome(decision, duration_us, error)

    def apply_redactions(self, decision: "_native.Decision", value: Any) -> Any:
        """A copy of ``value`` (arguments or result) with what ``decision`` names masked."""
        return self._runtime.apply_redactions(decision, value)

    def explain(
        self,
        tool: str,
        args: Optional[Dict[str, Any]] = None,
        *,
        agent: Optional[str] = None,
        result: Any = None,
        context: Optional[Dict[str, Any]] = None,
    ) -> Dict[str, Any]:
        """How the policy decides a call (or its ``result``), rule by rule. Records nothing."""
        return self._runtime.explain(
            tool, {} if args is None else args, agent or self.agent, result=result, context=context
        )

    # -- operating ---------------------------------------------------------------------

    def reload(self, policy_path: Optional[PathLike] = None, *, policy_text: Optional[str] = None) -> None:
        """Swaps in a new policy atomically (recorded); the old one stays on error."""
        self._runtime.reload(
            policy_path=None if policy_path is None else os.fspath(policy_path), policy_text=policy_text
        )

    @property
    def approvals(self) -> "_native.Approvals":
        """Approval requests: ``approve``, ``reject``, ``status``, ``wait``, ``pending``,
        ``execute``. Raises :class:`aims.AimsError` without an oversight store."""
        return self._runtime.approvals

    @property
    def incidents(self) -> "_native.Incidents":
        """Incidents: ``list``, ``get``, ``update``. Raises :class:`aims.AimsError` without an
        oversight store."""
        return self._runtime.incidents

    @property
    def policy_version(self) -> str:
        """sha256 (hex) of the canonical policy in force."""
        return self._runtime.policy_version

    @property
    def audit_dir(self) -> Optional[str]:
        """The durable audit log's directory, or ``None`` for an in-memory record."""
        return self._runtime.audit_dir

    def metrics(self) -> Dict[str, Any]:
        """Decision counters and the latency histogram."""
        return self._runtime.metrics()

    def prometheus(self) -> str:
        """The metrics in the Prometheus text format."""
        return self._runtime.prometheus()

    def flush(self) -> None:
        """Makes every record durable and signs a checkpoint over them."""
        self._runtime.flush()

    def prove(self, index: int) -> Dict[str, Any]:
        """An inclusion proof of audit record ``index`` (flush first for recent records)."""
        return self._runtime.prove(index)

    def __enter__(self) -> "Guard":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.flush()

    # -- the decorator -----------------------------------------------------------------

    @overload
    def tool(self, fn: F) -> F: ...

    @overload
    def tool(
        self, fn: None = None, *, name: Optional[str] = None, agent: Optional[str] = None,
        wait: Optional[float] = None,
    ) -> Callable[[F], F]: ...

    def tool(
        self,
        fn: Optional[F] = None,
        *,
        name: Optional[str] = None,
        agent: Optional[str] = None,
        wait: Optional[float] = None,
    ) -> Union[F, Callable[[F], F]]:
        """Guards a tool function (sync or async); use as ``@guard.tool`` or
        ``@guard.tool(name=..., agent=..., wait=...)``.

        Before the body runs, the call (arguments bound by parameter name) is decided:
        ``deny`` raises :class:`aims.PolicyDenied`, ``require_approval`` raises
        :class:`aims.ApprovalRequired` (or, with ``wait`` seconds, waits for the approval;
        async tools wait without blocking the event loop), ``redact`` passes the masked
        arguments. The outcome and duration are recorded, and the result passes the policy's
        result rules (a denied result raises :class:`aims.PolicyDenied`, a redacted one comes
        back masked). The wrapper keeps ``__name__``, ``__doc__``, ``__wrapped__`` and the
        signature, so it stacks with decorators that build a schema from the function.
        """

        def decorate(fn: F) -> F:
            return _wrap(self, fn, name or _tool_name(fn), agent or self.agent, wait)

        return decorate if fn is None else decorate(fn)


def _tool_name(fn: Callable[..., Any]) -> str:
    """The tool's name: a framework tool object's ``name``, else the function's name."""
    name = getattr(fn, "name", None)
    return name if isinstance(name, str) else str(getattr(fn, "__name__", type(fn).__name__))


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _wrap(guard: Guard, fn: F, tool: str, agent: str, wait: Optional[float]) -> F:
    admit = guard._runtime.admit
    binder = Binder(fn)

    def enter(args: Any, kwargs: Any, scope: Optional[CallScope]) -> Any:
        """The admitted call (the core raises PolicyDenied or ApprovalRequired otherwise)."""
        bound = binder.bind(args, kwargs)
        if scope is None:
            return admit(tool, bound, agent, wait=wait)
        return admit(
            tool,
            bound,
            agent,
            ai_system=scope.ai_system,
            conversation=scope.conversation,
            context=scope.context,
            wait=wait,
        )

    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(inspect.unwrap(fn)):

        # Waiting for an approval blocks: async tools always wait on a worker thread.
        offload = guard._blocking_io or wait is not None

        async def in_worker(work: Callable[..., Any], *args: Any) -> Any:
            if not offload:
                return work(*args)
            return await asyncio.get_running_loop().run_in_executor(None, work, *args)

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            call = await in_worker(enter, args, kwargs, _SCOPE.get())
            masked = call.arguments
            if masked is not None:
                args, kwargs = binder.rebind(args, kwargs, masked)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                await in_worker(call.fail, _error_text(exc))
                raise
            return await in_worker(call.finish, result)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = enter(args, kwargs, _SCOPE.get())
        masked = call.arguments
        if masked is not None:
            args, kwargs = binder.rebind(args, kwargs, masked)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            call.fail(_error_text(exc))
            raise
        return call.finish(result)

    return wrapper  # type: ignore[return-value]


__all__ = ["CallScope", "Guard", "call_context"]

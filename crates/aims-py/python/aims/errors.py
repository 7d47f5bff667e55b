"""The exceptions aims raises. Every one derives from :class:`AimsError`.

The classes follow the core's one classification of errors (``aims_core::runtime::ErrorClass``):
Node and Kotlin raise the same class, under the same name, for the same failure.
"""

from typing import Any, Optional


class AimsError(Exception):
    """Base class of every error raised by aims (configuration, store, I/O)."""


class PolicyDenied(AimsError):
    """The guard denied a call (or its result); the tool did not run (or its result is
    withheld). ``decision`` is the :class:`aims.Decision` that denied it."""

    def __init__(self, decision: Any) -> None:
        self.decision = decision
        reasons = "; ".join(reason["message"] for reason in decision.reasons)
        super().__init__(f"{decision.tool}: {decision.verdict} ({decision.phase}): {reasons}")


class ApprovalRequired(AimsError):
    """The call needs a human approval first; the tool did not run. ``request_id`` names the
    approval request (``None`` when the guard has no oversight store), ``status`` is the
    request's status when it was last seen (``pending``, ``rejected``, ``expired``),
    ``decision`` is the :class:`aims.Decision`."""

    def __init__(self, decision: Any, request_id: Optional[str] = None, status: str = "pending") -> None:
        self.decision = decision
        self.request_id = request_id
        self.status = status
        checkpoint = decision.checkpoint or "an oversight checkpoint"
        where = f" (request {request_id}, {status})" if request_id else ""
        super().__init__(f"{decision.tool}: needs approval at {checkpoint}{where}")


class ApprovalError(AimsError):
    """An approval step was refused or failed: an unknown request, self-approval, a second vote
    by the same person, a role that may not vote, an expired window, a call that changed."""


class IncidentError(AimsError):
    """An incident could not be found, updated or recorded."""


class PolicyError(AimsError):
    """A policy that could not be read or is invalid. ``file`` names it (``<inline>`` for
    text), ``line`` and ``column`` (1-based) locate the problem when it has a position."""

    def __init__(
        self,
        message: str,
        file: Optional[str] = None,
        line: Optional[int] = None,
        column: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column


class AuditError(AimsError):
    """The audit log could not be opened, written or verified. For a tampered or damaged
    log, ``index`` names the first bad record when it can be named."""

    def __init__(self, message: str, index: Optional[int] = None) -> None:
        super().__init__(message)
        self.index = index

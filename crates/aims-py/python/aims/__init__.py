"""aims: ISO/IEC 42001 controls that run inside AI agents.

- :class:`Guard` and its ``@guard.tool`` decorator: a fail-closed decision before every tool
  call, recorded in a tamper-evident audit log.
- :class:`Decision`: what the guard decided, and why.
- :class:`AuditLog`: open, verify, read and prove the audit log.
- :class:`Scanner`: validated PII and secret detection and masking.
- :func:`load_register` / :func:`validate_register`: the AIMS register;
  :func:`json_schema`: the JSON Schema of a register type.

Every decision, mask and log entry is made by the Rust core (``aims._native``).
"""

from ._native import (
    Approvals,
    AuditLog,
    Decision,
    GuardedCall,
    Incidents,
    Scanner,
    __version__,
    json_schema,
    load_register,
    validate_register,
)
from .errors import (
    AimsError,
    ApprovalError,
    ApprovalRequired,
    AuditError,
    IncidentError,
    PolicyDenied,
    PolicyError,
)
from .guard import CallScope, Guard, call_context

__all__ = [
    "AimsError",
    "ApprovalError",
    "ApprovalRequired",
    "Approvals",
    "AuditError",
    "AuditLog",
    "CallScope",
    "Decision",
    "Guard",
    "GuardedCall",
    "IncidentError",
    "Incidents",
    "PolicyDenied",
    "PolicyError",
    "Scanner",
    "__version__",
    "call_context",
    "json_schema",
    "load_register",
    "validate_register",
]

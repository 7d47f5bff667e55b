"""Shared fixtures: the repository's example policy and register, and fresh guards."""

import pathlib

import pytest

import aims

REPO = pathlib.Path(__file__).resolve().parents[3]
POLICY = REPO / "examples" / "policy.yaml"
REGISTER = REPO / "examples" / "register"
VECTORS = REPO / "tests" / "vectors"


@pytest.fixture
def memory_guard() -> aims.Guard:
    """The example policy, records in memory."""
    return aims.Guard(POLICY, agent="cs-agent")


@pytest.fixture
def log_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "audit"


@pytest.fixture
def durable_guard(log_dir: pathlib.Path) -> aims.Guard:
    """The example policy with a durable audit log in a temporary directory."""
    return aims.Guard(POLICY, audit_dir=log_dir, agent="cs-agent")


def events(log_dir: pathlib.Path, kind: str):
    """The events of one kind in the log, in order."""
    return [r["event"] for r in aims.AuditLog.records(log_dir) if r["event"]["kind"] == kind]

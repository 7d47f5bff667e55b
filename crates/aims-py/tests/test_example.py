"""The example agent in examples/python/ runs, and its guard decides as the policy says."""

import subprocess
import sys

import aims

from conftest import REPO, events


def test_example_agent_runs(tmp_path):
    audit_dir = tmp_path / "audit"
    run = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "agent.py"), str(audit_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(": ", 1) for line in run.stdout.splitlines())
    assert lines["lookup"].startswith("ok: ") and "<CREDIT_CARD>" in lines["lookup"]
    assert "<API_KEY>" in lines["kb"]
    assert lines["small refund"] == "ok: refunded 20.00 EUR on A-1001"
    assert lines["large refund"] == "approval required at refund-approval"
    assert lines["huge refund"].startswith("denied (refund-cap")
    assert lines["email"].endswith("Refunded to card <CREDIT_CARD>.")
    assert "email-secrets-deny" in lines["leaky email"]
    assert lines["shell (checked by hand)"] == "ok: deny"
    assert lines["audit log"].endswith("verified, signed size 14")
    aims.AuditLog.verify(audit_dir)
    assert "4111 1111 1111 1111" not in str(aims.AuditLog.records(audit_dir))
    assert len(events(audit_dir, "outcome")) == 4

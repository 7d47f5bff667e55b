"""The docs runner itself: runs tests/docs/fixtures/sample.md and checks that the shared
directory, the illustrative marker, list-item fences and a failing block's FILE:LINE behave."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

here = Path(__file__).resolve().parent
repo = here.parent.parent

with tempfile.TemporaryDirectory() as scratch:
    done = subprocess.run(
        [sys.executable, str(here / "run_doc_blocks.py"), "--repo", str(repo),
         "--scratch", scratch, "tests/docs/fixtures/sample.md"],
        capture_output=True, text=True, timeout=120,
    )
out, err = done.stdout, done.stderr
expected_out = [
    "ok   tests/docs/fixtures/sample.md:5",
    "ok   tests/docs/fixtures/sample.md:9",
    "skip tests/docs/fixtures/sample.md:16 (illustrative)",
    "ok   tests/docs/fixtures/sample.md:26",
    "4 blocks ran, 1 illustrative, 1 failed: tests/docs/fixtures/sample.md:32",
]
problems = [f"missing from stdout: {line!r}" for line in expected_out if line not in out]
if "FAIL tests/docs/fixtures/sample.md:32: the documented commands failed, exit 1" not in err:
    problems.append("the failing block is not named with its exit status")
if "never reached" in out + err.replace("| echo never reached", ""):
    problems.append("the block went on after a failing command")
if done.returncode != 1:
    problems.append(f"exit status {done.returncode}, expected 1")
if problems:
    print("\n".join(problems) + f"\n--- stdout\n{out}--- stderr\n{err}", file=sys.stderr)
    sys.exit(1)
print("ok docs runner: shared directory, illustrative marker, list fences, FILE:LINE of a failure")

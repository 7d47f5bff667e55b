"""Added time per ``@guard.tool`` call on the allow path (issue 8).

Measures, side by side in one process, the median time per call of:

- the bare function;
- the function under a pure-Python guard of the same 10 rules (bench/python/policy.yaml),
  which records a hash-chained JSON line per decision and per outcome, buffered to a file;
- the function under ``aims.Guard(...).tool`` with the audit log in memory, durable with
  ``durability="none"``, and durable with ``durability="batched"`` (the default: each record
  acknowledged after its group's fsync), on disk and, where it exists, on tmpfs (/dev/shm),
  which separates the cost of the fsync from the cost of the work.

Each figure is the median over ``--samples`` samples of the mean time of ``--calls`` calls,
in wall time and in this thread's CPU time (which a busy machine does not inflate).

    python bench/python/bench_guard.py [--calls N] [--samples N]

Run it with aims built in release mode (``pip install ./crates/aims-py``).
"""

import argparse
import fnmatch
import hashlib
import json
import os
import pathlib
import platform
import re
import statistics
import sys
import tempfile
import time

import aims

HERE = pathlib.Path(__file__).resolve().parent
POLICY = HERE / "policy.yaml"
ORDER = "A-1234"


def lookup_order(order_id: str) -> dict:
    """The tool: a dict lookup's worth of work."""
    return {"order_id": order_id, "status": "shipped"}


# -- the peer: the same 10 rules in pure Python ------------------------------------------

STRENGTH = {"allow": 0, "warn": 1, "redact": 2, "require_approval": 3, "deny": 4}
EXTERNAL = re.compile(r"(?i)@example\.com$")
SECRETS = re.compile(r"(?i)(password\s*[:=]|api[_-]?key)")
ORDER_ID = re.compile(r"^[A-Z]-[0-9]{4}$")


def _gt(args, key, bound):
    value = args.get(key)
    return None if not isinstance(value, (int, float)) else value > bound


def _not_matches(args, key, regex):
    value = args.get(key)
    return None if not isinstance(value, str) else regex.search(value) is None


def _matches(args, key, regex):
    value = args.get(key)
    return None if not isinstance(value, str) else regex.search(value) is not None


def _longer(args, key, bound):
    value = args.get(key)
    return None if not isinstance(value, str) else len(value) > bound


# (id, tool patterns, agent pattern, condition(args) -> True/False/None, effect)
PEER_RULES = [
    ("deny-shell", ["shell", "bash", "sh", "exec", "run_command", "*_shell"], "*", None, "deny"),
    ("deny-file-delete", ["delete_file", "remove_file", "rm", "delete_*_file"], "*", None, "deny"),
    ("refund-cap", ["issue_refund"], "*", lambda a: _gt(a, "amount", 500), "deny"),
    ("refund-approval", ["issue_refund"], "*", lambda a: _gt(a, "amount", 100), "require_approval"),
    ("email-external-redact", ["send_email"], "*", lambda a: _not_matches(a, "to", EXTERNAL), "redact"),
    ("email-secrets-deny", ["send_email"], "*", lambda a: _matches(a, "body", SECRETS), "deny"),
    ("lookup-id-shape", ["lookup_order"], "*", lambda a: _not_matches(a, "order_id", ORDER_ID), "deny"),
    ("deny-night-agent", ["*"], "night-batch", None, "deny"),
    ("warn-long-query", ["search_kb"], "*", lambda a: _longer(a, "query", 200), "warn"),
    ("allow-read-tools", ["lookup_order", "search_kb"], "*", None, "allow"),
]


class PeerGuard:
    """The same rules in Python, recording hash-chained JSON lines buffered to a file."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")
        self.prev = "0" * 64
        self.pending = []
        self.counter = 0

    def record(self, event):
        line = json.dumps(event, sort_keys=True, separators=(",", ":"))
        self.prev = hashlib.sha256((self.prev + line).encode()).hexdigest()
        self.pending.append(f'{{"event":{line},"prev":"{self.prev}"}}\n')
        if len(self.pending) >= 512:
            self.file.write("".join(self.pending))
            self.pending.clear()

    def check(self, tool, agent, args):
        matched, verdict = [], None
        for rule_id, tools, agent_pattern, condition, effect in PEER_RULES:
            if not any(fnmatch.fnmatchcase(tool, pattern) for pattern in tools):
                continue
            if not fnmatch.fnmatchcase(agent, agent_pattern):
                continue
            holds = True if condition is None else condition(args)
            if holds is None:
                holds = effect != "allow"  # unknown restricts, never allows
            if holds:
                matched.append(rule_id)
                verdict = effect if verdict is None or STRENGTH[effect] > STRENGTH[verdict] else verdict
        verdict = verdict or "deny"
        self.counter += 1
        decision_id = f"{self.counter:032x}"
        self.record({"kind": "decision", "id": decision_id, "tool": tool, "agent": agent, "args": args,
                     "verdict": verdict, "rule_ids": matched})
        return decision_id, verdict

    def tool(self, fn):
        names = list(fn.__code__.co_varnames[: fn.__code__.co_argcount])

        def wrapper(*args, **kwargs):
            bound = dict(zip(names, args), **kwargs)
            decision_id, verdict = self.check(fn.__name__, "cs-agent", bound)
            if verdict not in ("allow", "warn", "redact"):
                raise PermissionError(verdict)
            started = time.perf_counter_ns()
            result = fn(*args, **kwargs)
            self.record({"kind": "outcome", "id": decision_id, "status": "ok",
                         "duration_us": (time.perf_counter_ns() - started) // 1000})
            return result

        return wrapper


# -- measuring ----------------------------------------------------------------------------


def per_call_ns(fn, calls, samples):
    """Medians over samples of the mean nanoseconds per call: (wall time, this thread's CPU
    time). CPU time leaves out time spent waiting for the CPU on a busy machine (and for an
    fsync); wall time includes both."""
    for _ in range(min(calls, 200)):  # warm up
        fn(ORDER)
    wall, cpu = [], []
    for _ in range(samples):
        started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
        for _ in range(calls):
            fn(ORDER)
        cpu.append((time.thread_time_ns() - started_cpu) / calls)
        wall.append((time.perf_counter_ns() - started) / calls)
    return statistics.median(wall), statistics.median(cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per sample (in-memory and none modes)")
    parser.add_argument("--samples", type=int, default=31)
    parser.add_argument("--fsync-calls", type=int, default=100, help="calls per sample in batched mode")
    opts = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        bare = per_call_ns(lookup_order, opts.calls, opts.samples)
        rows.append(("bare function", bare, opts.calls))

        peer = PeerGuard(scratch / "peer.jsonl")
        rows.append(("pure-Python guard, same 10 rules, hash-chained buffered log",
                     per_call_ns(peer.tool(lookup_order), opts.calls, opts.samples), opts.calls))

        configs = [
            ("aims, audit log in memory", {}, opts.calls),
            ("aims, durable log, durability=none", {"audit_dir": scratch / "none", "durability": "none"}, opts.calls),
            ("aims, durable log, durability=batched, disk", {"audit_dir": scratch / "batched"}, opts.fsync_calls),
        ]
        shm = pathlib.Path("/dev/shm")
        shm_dir = None
        if shm.is_dir():
            shm_dir = tempfile.mkdtemp(dir=shm)
            configs.append(("aims, durable log, durability=batched, tmpfs",
                            {"audit_dir": pathlib.Path(shm_dir) / "batched"}, opts.calls))
        try:
            for label, config, calls in configs:
                guard = aims.Guard(POLICY, agent="cs-agent", **config)
                rows.append((label, per_call_ns(guard.tool(lookup_order), calls, opts.samples), calls))
                if config:
                    guard.flush()
                    aims.AuditLog.verify(config["audit_dir"])
                del guard
        finally:
            if shm_dir:
                import shutil

                shutil.rmtree(shm_dir, ignore_errors=True)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"aims {aims.__version__}; {opts.samples} samples")
    print()
    print("| configuration | wall per call | added (wall) | CPU per call | added (CPU) | calls/sample |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, (wall, cpu), calls in rows:
        bare_label = label == "bare function"
        added_wall = "" if bare_label else f"{(wall - bare[0]) / 1000:.2f} us"
        added_cpu = "" if bare_label else f"{(cpu - bare[1]) / 1000:.2f} us"
        print(f"| {label} | {wall / 1000:.2f} us | {added_wall} | {cpu / 1000:.2f} us | {added_cpu} | {calls} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

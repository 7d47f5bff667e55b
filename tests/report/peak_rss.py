"""Runs a command and reports its peak resident set size (the child's own ru_maxrss, from
wait4) and wall time; with --max-growth, runs a second command too and fails when its peak
exceeds the first one's by more than the given MiB (the evidence pack's bounded memory).

Usage:
  python peak_rss.py [--label TEXT] -- CMD ARGS...
  python peak_rss.py --max-growth MIB --small DIR --large DIR -- CMD ARGS-WITH-{log}...
"""

import argparse
import os
import subprocess
import sys
import time


def measure(command):
    """(peak RSS in KiB, wall seconds, exit status) of one run of `command`."""
    started = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    return usage.ru_maxrss, time.monotonic() - started, os.waitstatus_to_exitcode(status)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="")
    parser.add_argument("--max-growth", type=float, help="MiB the large run may add")
    parser.add_argument("--small", help="substituted for {log} in the first run")
    parser.add_argument("--large", help="substituted for {log} in the second run")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        sys.exit("no command")

    if args.max_growth is None:
        rss, wall, code = measure(command)
        print(f"{args.label}: peak RSS {rss / 1024:.1f} MiB, wall {wall:.1f} s, exit {code}")
        sys.exit(code)

    runs = []
    for log in (args.small, args.large):
        rss, wall, code = measure([part.replace("{log}", log) for part in command])
        if code != 0:
            sys.exit(f"FAIL: {log}: exit {code}")
        runs.append(rss)
        print(f"  {log}: peak RSS {rss / 1024:.1f} MiB, wall {wall:.1f} s")
    growth = (runs[1] - runs[0]) / 1024
    if growth > args.max_growth:
        sys.exit(
            f"FAIL: peak RSS grew by {growth:.1f} MiB from {args.small} to {args.large} "
            f"(allowed {args.max_growth} MiB): the report holds something per record"
        )
    print(f"ok peak RSS grows {growth:+.1f} MiB from the small log to the large one (allowed {args.max_growth})")


if __name__ == "__main__":
    main()

"""`aims report` shows progress on a terminal only: run with stderr on a pseudo-terminal it
prints "N records read" counts (every 65,536 records and the final total); with stderr on a
pipe it prints none.

Usage: python progress_tty.py RECORDS TTY_LOG PIPE_LOG -- CMD ARGS-WITH-{log}...
(TTY_LOG holds at least RECORDS records and is read on a terminal; PIPE_LOG is read with
stderr piped)
"""

import os
import re
import subprocess
import sys


def stderr_of(command, on_terminal):
    if on_terminal:
        leader, follower = os.openpty()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        code = child.wait()
        text = b"".join(chunks).decode()
    else:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        code, text = done.returncode, done.stderr.decode()
    if code != 0:
        sys.exit(f"FAIL: exit {code}: {text}")
    return text


def main():
    records, tty_log, pipe_log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    command = sys.argv[5:] if sys.argv[4] == "--" else sys.argv[4:]
    shown = stderr_of([part.replace("{log}", tty_log) for part in command], on_terminal=True)
    # The log may end with records the log itself wrote on close (a checkpoint record).
    counts = [int(n) for n in re.findall(r" (\d+) records read", shown)]
    total = counts[-1] if counts and counts[-1] >= records else records
    expected = [f" {n} records read" for n in range(65536, total, 65536)] + [f" {total} records read"]
    missing = [line for line in expected if line not in shown]
    if missing or "\r" not in shown:
        sys.exit(f"FAIL: on a terminal, progress lacks {missing[:3]}: {shown!r}")
    piped = stderr_of([part.replace("{log}", pipe_log) for part in command], on_terminal=False)
    if "records read" in piped:
        sys.exit(f"FAIL: progress was printed to a pipe: {piped!r}")
    print(f"ok progress on a terminal ({len(expected)} updates up to {total} records), none on a pipe")


if __name__ == "__main__":
    main()

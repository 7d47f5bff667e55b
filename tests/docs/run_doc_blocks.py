"""Runs every fenced ```sh / ```bash block of the given Markdown files, as documented.

Each file gets a fresh scratch copy of the repository (the files git knows, modification times
kept) and its blocks run there in order, so a later block sees what an earlier one wrote, with
`bash -euo pipefail`: any failing command fails its block. A block is skipped only when the
line right before its fence is `<!-- illustrative -->` (optionally `<!-- illustrative: why -->`).
A failing block is reported as FILE:LINE of its fence with its output; the exit status is 1
when any block failed, 2 on a malformed file (an unclosed fence).

Usage: run_doc_blocks.py --repo DIR --scratch DIR [--path DIR]... [--timeout S] FILE...
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RUNNABLE = {"sh", "bash", "shell"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<info>[^`\s]*)")
ILLUSTRATIVE = re.compile(r"^\s*<!--\s*illustrative\b.*-->\s*$")


@dataclass
class Block:
    path: str
    line: int  # 1-based line of the opening fence
    language: str
    illustrative: bool
    text: str


class MalformedDoc(Exception):
    pass


def parse_blocks(path: str, source: str) -> list[Block]:
    """The fenced code blocks of one Markdown file, with their fence lines."""
    lines = source.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            closing = FENCE.match(lines[i])
            if closing and closing["fence"].startswith(fence) and not closing["info"]:
                break
            # A fence inside a list item is indented: its lines carry the same indentation.
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        else:
            raise MalformedDoc(f"{path}:{start + 1}: fence {fence} is never closed")
        previous = lines[start - 1] if start > 0 else ""
        blocks.append(
            Block(
                path=path,
                line=start + 1,
                language=opening["info"].lower(),
                illustrative=bool(ILLUSTRATIVE.match(previous)),
                text="\n".join(body) + "\n",
            )
        )
        i += 1
    return blocks


def copy_repository(repo: Path, scratch: Path) -> None:
    """The files git knows (tracked, and untracked unless ignored), modification times kept, so
    that a cargo build in the copy reuses its fingerprints from one run to the next."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo, check=True, capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = repo / name
        if not source.is_file():  # deleted in the work tree, or a submodule
            continue
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def run_block(block: Block, cwd: Path, env: dict[str, str], timeout: float) -> tuple[bool, str]:
    try:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.text],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b"") + (expired.stderr or b"")
        return False, f"timed out after {timeout:.0f}s\n" + last_lines(output.decode(errors="replace"))
    output = (done.stdout + done.stderr).decode(errors="replace")
    return done.returncode == 0, f"exit {done.returncode}\n{last_lines(output)}"


def last_lines(output: str, count: int = 40) -> str:
    lines = output.splitlines()
    cut = len(lines) - count
    return "\n".join(([f"[{cut} lines before these]"] if cut > 0 else []) + lines[-count:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="the repository to copy")
    parser.add_argument("--scratch", type=Path, required=True, help="where the copy is made")
    parser.add_argument("--path", action="append", default=[], help="prepended to PATH")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per block")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    repo = args.repo.resolve()
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(p).resolve()) for p in args.path] + [env["PATH"]])
    ran = skipped = 0
    failures: list[str] = []
    for name in args.files:
        try:
            blocks = parse_blocks(name, (repo / name).read_text(encoding="utf-8"))
        except MalformedDoc as malformed:
            print(f"FAIL {malformed}", file=sys.stderr)
            return 2
        runnable = [b for b in blocks if b.language in RUNNABLE]
        if not runnable:
            continue
        copy_repository(repo, args.scratch)
        for block in runnable:
            where = f"{block.path}:{block.line}"
            if block.illustrative:
                skipped += 1
                print(f"skip {where} (illustrative)")
                continue
            ran += 1
            passed, output = run_block(block, args.scratch, env, args.timeout)
            if passed:
                print(f"ok   {where}")
                continue
            failures.append(where)
            print(f"FAIL {where}: the documented commands failed, {output.rstrip()}", file=sys.stderr)
            print("     the block:\n" + "".join(f"     | {l}\n" for l in block.text.splitlines()),
                  file=sys.stderr)
    print(f"{ran} blocks ran, {skipped} illustrative, {len(failures)} failed"
          + (": " + " ".join(failures) if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

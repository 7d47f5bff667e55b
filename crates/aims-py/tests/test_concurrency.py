"""One guard shared by 8 threads and by 200 asyncio tasks: every call decided and recorded
exactly once, the GIL released while Rust works, and the log verifying afterwards."""

import asyncio
import threading
import time

import aims

from conftest import POLICY, events

THREADS = 8
CALLS_PER_THREAD = 25
TASKS = 200


def check_log(log_dir, calls):
    report = aims.AuditLog.verify(log_dir)
    decisions = [e for e in events(log_dir, "decision") if e["phase"] == "pre"]
    outcomes = events(log_dir, "outcome")
    assert len(decisions) == calls and len(outcomes) == calls
    assert len({e["decision_id"] for e in decisions}) == calls
    assert {o["decision_id"] for o in outcomes} == {d["decision_id"] for d in decisions}
    assert report["records"] == len(aims.AuditLog.records(log_dir))
    return decisions


def test_eight_threads_share_one_guard(tmp_path):
    guard = aims.Guard(POLICY, audit_dir=tmp_path / "log", agent="cs-agent")

    @guard.tool
    def lookup_order(order_id: str) -> dict:
        return {"order_id": order_id, "status": "shipped"}

    barrier = threading.Barrier(THREADS)
    results = {}

    def worker(n):
        barrier.wait()
        results[n] = [lookup_order(f"o-{n}-{i}")["order_id"] for i in range(CALLS_PER_THREAD)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(THREADS))
    assert all(results[n] == [f"o-{n}-{i}" for i in range(CALLS_PER_THREAD)] for n in results)
    guard.flush()
    decisions = check_log(tmp_path / "log", THREADS * CALLS_PER_THREAD)
    assert {d["args"]["order_id"] for d in decisions} == {
        f"o-{n}-{i}" for n in range(THREADS) for i in range(CALLS_PER_THREAD)
    }


def test_two_hundred_asyncio_tasks_share_one_guard(tmp_path):
    guard = aims.Guard(POLICY, audit_dir=tmp_path / "log", agent="cs-agent")
    running = 0
    peak = 0

    @guard.tool
    async def search_kb(query: str) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return f"answer to {query}"

    async def main():
        return await asyncio.gather(*(search_kb(f"q{i}") for i in range(TASKS)))

    answers = asyncio.run(main())
    assert answers == [f"answer to q{i}" for i in range(TASKS)]
    # The tools overlapped: deciding did not serialize the tasks.
    assert peak > 1
    guard.flush()
    check_log(tmp_path / "log", TASKS)


def test_the_gil_is_released_while_rust_works():
    """A Python thread that wakes every millisecond keeps ticking during one long native call.
    Were the GIL held, it could not run until the call returned."""
    stop = threading.Event()
    ticks = 0

    def tick():
        nonlocal ticks
        while not stop.is_set():
            time.sleep(0.001)
            ticks += 1

    scanner = aims.Scanner()
    text = "order 12345 shipped to the customer; " * 20_000
    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        while True:
            before, started = ticks, time.perf_counter()
            scanner.scan(text)
            elapsed, during = time.perf_counter() - started, ticks - before
            if elapsed >= 0.1:
                break
            text += text
    finally:
        stop.set()
        ticker.join()
    assert during >= 10, f"{during} ticks in {elapsed:.3f}s"

"""Added latency per proxied tools/call: the same client calls `echo` on the same
server-everything, directly and through `aims mcp proxy`, interleaved in rounds so both see the
same machine load. Prints the median per-call wall time of each and the difference.

Usage: python3 bench/gateway/mcp_latency.py AIMS_BINARY DURABILITY [ROUNDS] [CALLS_PER_ROUND]
DURABILITY is the gateway's --durability: strict, batched or none.
(needs the Python mcp package 2.3.0 and `npm ci` in tests/mcp, as scripts/test installs them).
"""

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]
SERVER = ["node", str(ROOT / "tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js")]


async def timed_calls(client, count, out):
    for i in range(count):
        started = time.perf_counter_ns()
        await client.call_tool("echo", {"message": f"hello {i}"})
        out.append(time.perf_counter_ns() - started)


async def main():
    aims, durability = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    per_round = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    with tempfile.TemporaryDirectory() as work:
        direct = StdioServerParameters(command=SERVER[0], args=SERVER[1:])
        proxied = StdioServerParameters(command=aims, args=[
            "mcp", "proxy", "--policy", str(ROOT / "tests/mcp/policy.yaml"),
            "--log", f"{work}/log", "--durability", durability, "--", *SERVER])
        async with Client(direct, mode="legacy") as a, Client(proxied, mode="legacy") as b:
            warm = []
            await timed_calls(a, 50, warm)
            await timed_calls(b, 50, warm)
            direct_ns, proxied_ns = [], []
            for _ in range(rounds):
                await timed_calls(a, per_round, direct_ns)
                await timed_calls(b, per_round, proxied_ns)
    d = statistics.median(direct_ns) / 1000
    p = statistics.median(proxied_ns) / 1000
    print(f"calls: {len(direct_ns)} direct, {len(proxied_ns)} proxied, interleaved in {rounds} rounds")
    print(f"median direct:  {d:8.1f} us")
    print(f"median proxied: {p:8.1f} us")
    print(f"added (median difference): {p - d:8.1f} us  (ratio {p / d:.2f})")


asyncio.run(main())

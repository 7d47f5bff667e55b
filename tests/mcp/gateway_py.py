"""The MCP gateway in front of real MCP servers, driven by the Python `mcp` client (2.x).

Run by crates/aims-cli/tests/mcp_gateway.rs: `python3 gateway_py.py AIMS WORKDIR`. Every check
is an assert; the process exits non-zero on the first failure. The audit log in WORKDIR/log is
verified by the Rust side afterwards.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mcp import Client, StdioServerParameters
from mcp import types

HERE = Path(__file__).resolve().parent
AIMS = sys.argv[1]
WORK = Path(sys.argv[2])
LOG = WORK / "log"
STORE = WORK / "oversight.db"
EVERYTHING = ["node", str(HERE / "node_modules/@modelcontextprotocol/server-everything/dist/index.js")]
FILESYSTEM = ["node", str(HERE / "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js")]
PYSERVER = [sys.executable, str(HERE / "server_py.py")]


def proxy(server, *extra):
    args = ["mcp", "proxy", "--policy", str(HERE / "policy.yaml"), "--log", str(LOG),
            "--oversight-store", str(STORE), *extra, "--", *server]
    return StdioServerParameters(command=AIMS, args=args)


def text(result):
    return " ".join(block.text for block in result.content if block.type == "text")


async def approve_at_client(context, params):
    assert "get-sum" in params.message and "Approval id apr_" in params.message, params.message
    return types.ElicitResult(action="accept", content={"approve": True})


async def everything(mode):
    async with Client(proxy(EVERYTHING), mode=mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "echo" in names and "get-sum" in names, names
        assert "get-env" not in names, "a tool the policy denies outright is listed"
        assert "get-tiny-image" not in names, "a tool the default denies is listed"

        result = await client.call_tool("echo", {"message": "hello"})
        assert not result.is_error and text(result) == "Echo: hello", result

        secret = os.environ["AIMS_TEST_SECRET"]
        result = await client.call_tool("get-env", {})
        assert result.is_error, result
        assert "the environment holds secrets" in text(result), text(result)
        assert secret not in text(result)

        result = await client.call_tool("echo", {"message": "my card 4111 1111 1111 1111"})
        assert not result.is_error, result
        assert text(result) == "Echo: my card <CREDIT_CARD>", text(result)

        result = await client.call_tool("get-sum", {"a": 500, "b": 1})
        assert result.is_error and "approval id apr_" in text(result), text(result)
        assert "500" not in text(result)

        progress = []

        async def on_progress(done, total, message):
            progress.append(done)

        result = await client.call_tool(
            "trigger-long-running-operation", {"duration": 1, "steps": 3}, progress_callback=on_progress)
        assert not result.is_error, result
        assert progress, "no progress notification came through the gateway"


async def approval_by_elicitation():
    params = proxy(EVERYTHING, "--approver", "alice", "--approver-role", "lead")
    async with Client(params, mode="legacy", elicitation_callback=approve_at_client) as client:
        result = await client.call_tool("get-sum", {"a": 500, "b": 1})
        assert not result.is_error, text(result)
        assert "501" in text(result), text(result)
    # The approval ran its call once: the same call asks again.
    async with Client(proxy(EVERYTHING), mode="legacy") as client:
        result = await client.call_tool("get-sum", {"a": 500, "b": 1})
        assert result.is_error and "approval id apr_" in text(result), text(result)


async def filesystem():
    root = WORK / "files"
    root.mkdir(exist_ok=True)
    (root / "contacts.txt").write_text("support: jane.doe@example.org\n")
    async with Client(proxy([*FILESYSTEM, str(root)])) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "read_text_file" in names and "write_file" not in names, names
        result = await client.call_tool("read_text_file", {"path": str(root / "contacts.txt")})
        assert not result.is_error, result
        assert "support: <EMAIL_ADDRESS>" in text(result), text(result)
        assert "jane.doe" not in json.dumps(result.model_dump(mode="json")), "raw email in the result"
        result = await client.call_tool("write_file", {"path": str(root / "x.txt"), "content": "x"})
        assert result.is_error and "the agent reads files only" in text(result), result
        assert not (root / "x.txt").exists(), "a denied write reached the server"


async def python_server():
    async with Client(proxy(PYSERVER)) as client:
        result = await client.call_tool("shout", {"text": "hi"})
        assert text(result) == "HI (written by <EMAIL_ADDRESS>)", text(result)
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(client.call_tool("crash", {}), 30)
            raise AssertionError(f"a crashed server gave a result: {result}")
        except asyncio.TimeoutError:
            raise AssertionError("a downstream crash left the client hanging")
        except Exception as err:  # the gateway's error response
            assert "downstream MCP server" in str(err), repr(err)
        assert time.monotonic() - started < 30


async def http_upstream():
    """A Streamable HTTP downstream server (--upstream URL): the same decisions."""
    port = free_port()
    server = subprocess.Popen([*EVERYTHING, "streamableHttp"], env={**os.environ, "PORT": str(port)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        await wait_for_port(port)
        args = ["mcp", "proxy", "--policy", str(HERE / "policy.yaml"), "--log", str(LOG),
                "--upstream", f"http://127.0.0.1:{port}/mcp"]
        async with Client(StdioServerParameters(command=AIMS, args=args)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert "echo" in names and "get-env" not in names, names
            result = await client.call_tool("echo", {"message": "card 4111 1111 1111 1111"})
            assert text(result) == "Echo: card <CREDIT_CARD>", text(result)
            result = await client.call_tool("get-env", {})
            assert result.is_error and "the environment holds secrets" in text(result), result
    finally:
        server.kill()
        server.wait()


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_for_port(port):
    import socket
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            await asyncio.sleep(0.2)


async def http_front():
    """The gateway serving Streamable HTTP (--listen) in front of a stdio server."""
    import signal
    port = free_port()
    gateway = subprocess.Popen([AIMS, "mcp", "proxy", "--policy", str(HERE / "policy.yaml"), "--log",
                                str(WORK / "http-log"), "--listen", f"127.0.0.1:{port}", "--", *EVERYTHING],
                               stderr=subprocess.DEVNULL)
    try:
        await wait_for_port(port)
        for mode in ("legacy", "auto"):
            async with Client(f"http://127.0.0.1:{port}/mcp", mode=mode) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                assert "echo" in names and "get-env" not in names, names
                result = await client.call_tool("echo", {"message": "card 4111 1111 1111 1111"})
                assert text(result) == "Echo: card <CREDIT_CARD>", text(result)
                result = await client.call_tool("get-env", {})
                assert result.is_error and "the environment holds secrets" in text(result), result
    finally:
        gateway.send_signal(signal.SIGINT)
        assert gateway.wait(30) == 0, "the gateway did not stop cleanly on Ctrl-C"
    verify = subprocess.run([AIMS, "audit", "verify", str(WORK / "http-log")], capture_output=True)
    assert verify.returncode == 0, verify.stdout


def raw_stdio():
    """Malformed JSON-RPC and an oversized message: dropped with bounded memory, the session
    goes on."""
    args = [AIMS, "mcp", "proxy", "--policy", str(HERE / "policy.yaml"), "--max-message-bytes",
            "1048576", "--", *PYSERVER]
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(line):
        child.stdin.write(line + b"\n")
        child.stdin.flush()

    def receive():
        return json.loads(child.stdout.readline())

    send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}}).encode())
    assert receive()["result"]["protocolVersion"] == "2025-11-25"
    send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
    send(b"{this is not json")
    send(b'{"jsonrpc":"2.0","id":2,"method":7}')
    answer = receive()
    assert answer.get("error") and answer["error"]["code"] == -32600, answer
    # 64 MiB in one line, far past the 1 MiB bound.
    chunk = b"x" * (1 << 20)
    child.stdin.write(b'{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"pad":"')
    for _ in range(64):
        child.stdin.write(chunk)
    child.stdin.write(b'"}}\n')
    child.stdin.flush()
    send(b'{"jsonrpc":"2.0","id":4,"method":"tools/list"}')
    answer = receive()
    while answer.get("id") == 3 or "id" not in answer:
        answer = receive()
    assert answer["id"] == 4 and "tools" in answer["result"], answer
    rss_kib = int(next(line.split()[1] for line in open(f"/proc/{child.pid}/status")
                       if line.startswith("VmHWM:")))
    assert rss_kib < 48 * 1024, f"peak memory {rss_kib} KiB after a 64 MiB message"
    child.stdin.close()
    assert child.wait(30) == 0


async def main():
    await everything("legacy")
    await everything("auto")
    await approval_by_elicitation()
    await filesystem()
    await python_server()
    await http_upstream()
    await http_front()
    raw_stdio()
    print("python mcp client: all gateway checks passed")


asyncio.run(main())

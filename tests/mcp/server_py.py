"""A FastMCP-style server (mcp 2.x `MCPServer`) for the gateway tests: a tool whose result
carries an email address, and a tool that kills the server mid-call."""

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("aims-test-py")


@server.tool()
def shout(text: str) -> str:
    """Returns the text in capitals, with the contact address of its author."""
    return f"{text.upper()} (written by jane.doe@example.org)"


@server.tool()
def crash() -> str:
    """Exits the server process without answering."""
    os._exit(3)


if __name__ == "__main__":
    server.run()

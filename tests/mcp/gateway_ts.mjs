// The MCP gateway in front of the reference servers, driven by the TypeScript SDK's client.
// Run by crates/aims-cli/tests/mcp_gateway.rs: `node gateway_ts.mjs AIMS WORKDIR`; exits
// non-zero on the first failed check.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const here = dirname(fileURLToPath(import.meta.url));
const [aims, work] = process.argv.slice(2);
const everything = ["node", join(here, "node_modules/@modelcontextprotocol/server-everything/dist/index.js")];
const filesystem = ["node", join(here, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js")];
const pyServer = [process.env.AIMS_MCP_PYTHON || "python3", join(here, "server_py.py")];

async function connect(server) {
  const transport = new StdioClientTransport({
    command: aims,
    args: ["mcp", "proxy", "--policy", join(here, "policy.yaml"), "--log", join(work, "log"),
      "--oversight-store", join(work, "oversight.db"), "--", ...server],
    stderr: "ignore",
  });
  const client = new Client({ name: "ts-client", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

const text = (result) => result.content.filter((c) => c.type === "text").map((c) => c.text).join(" ");

{
  const client = await connect(everything);
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes("echo") && !names.includes("get-env"), names.join(","));
  let result = await client.callTool({ name: "echo", arguments: { message: "hello" } });
  assert.equal(text(result), "Echo: hello");
  result = await client.callTool({ name: "get-env", arguments: {} });
  assert.equal(result.isError, true);
  assert.match(text(result), /the environment holds secrets/);
  assert.ok(!text(result).includes(process.env.AIMS_TEST_SECRET));
  result = await client.callTool({ name: "echo", arguments: { message: "card 4111 1111 1111 1111" } });
  assert.equal(text(result), "Echo: card <CREDIT_CARD>");
  result = await client.callTool({ name: "get-sum", arguments: { a: 700, b: 1 } });
  assert.equal(result.isError, true);
  assert.match(text(result), /approval id apr_[0-9a-f]+/);
  let progress = 0;
  result = await client.callTool(
    { name: "trigger-long-running-operation", arguments: { duration: 1, steps: 2 } },
    undefined,
    { onprogress: () => { progress += 1; } },
  );
  assert.ok(progress > 0, "no progress through the gateway");
  await client.close();
}
{
  const root = join(work, "ts-files");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "people.txt"), "owner: john.smith@example.com\n");
  const client = await connect([...filesystem, root]);
  let result = await client.callTool({ name: "read_text_file", arguments: { path: join(root, "people.txt") } });
  assert.match(text(result), /owner: <EMAIL_ADDRESS>/);
  assert.ok(!JSON.stringify(result).includes("john.smith"));
  result = await client.callTool({ name: "write_file", arguments: { path: join(root, "w.txt"), content: "x" } });
  assert.equal(result.isError, true);
  assert.ok(!existsSync(join(root, "w.txt")));
  await client.close();
}
{
  const client = await connect(pyServer);
  await assert.rejects(client.callTool({ name: "crash", arguments: {} }), /downstream MCP server/);
  await client.close();
}
console.log("typescript mcp client: all gateway checks passed");

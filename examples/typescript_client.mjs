// Run a longhaul task from the official MCP TypeScript SDK client: start, poll, fetch the result.
//
//   node examples/typescript_client.mjs http://127.0.0.1:8765/mcp          (npm install @modelcontextprotocol/sdk)
//   LONGHAUL_TOKEN=<jwt> node examples/typescript_client.mjs "$MCP_URL"    (a deployed stack)
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = process.argv[2] ?? "http://127.0.0.1:8765/mcp";
const epochs = Number(process.argv[3] ?? 3);
const token = process.env.LONGHAUL_TOKEN;
const headers = token ? { Authorization: `Bearer ${token}` } : {};

const client = new Client({ name: "longhaul-example", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
try {
  const { tools } = await client.listTools(); // also caches the output schemas the SDK checks results against
  console.log("tools:", tools.map((tool) => tool.name).join(", "));

  const started = await client.callTool({ name: "model_training", arguments: { epochs, epoch_seconds: 0.5 } });
  const taskId = started.structuredContent.task_id;
  console.log("started:", taskId);

  let status;
  do {
    await new Promise((resolve) => setTimeout(resolve, 500));
    status = (await client.callTool({ name: "get_task_status", arguments: { task_id: taskId } })).structuredContent;
    console.log(`  ${status.status.padEnd(10)} ${Math.round(status.progress * 100)}%  ${status.message}`);
  } while (status.status === "working");

  const result = await client.callTool({ name: "get_task_result", arguments: { task_id: taskId } });
  console.log("result:", JSON.stringify(result.structuredContent.result ?? result.structuredContent));
} finally {
  await client.close();
}

// The TypeScript SDK 1.x (2025-11-25 experimental tasks) against a longhaul endpoint. Prints one JSON report;
// tests/integration/test_tasks_2025_clients.py runs it and asserts on the report.
// usage: node ts_sdk_tasks.mjs URL TOKEN
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, token] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: 'longhaul-ts-tasks-test', version: '1.0.0' });
await client.connect(transport);
const report = {
  protocolVersion: transport.protocolVersion,
  capabilities: client.getServerCapabilities(),
};

const tools = (await client.listTools()).tools;
report.execution = Object.fromEntries(tools.map((t) => [t.name, t.execution?.taskSupport ?? null]));
report.isToolTask = client.isToolTask('model_training');

// A kind run to completion as a native task: taskCreated -> taskStatus... -> result. No task option: the SDK
// adds one itself because tools/list said the tool supports tasks.
report.stream = [];
for await (const message of client.experimental.tasks.callToolStream({
  name: 'model_training',
  arguments: { epochs: 2, epoch_seconds: 0.3 },
})) {
  if (message.type === 'taskCreated') report.stream.push({ type: message.type, task: message.task });
  else if (message.type === 'taskStatus') report.stream.push({ type: message.type, status: message.task.status });
  else if (message.type === 'result') report.stream.push({ type: message.type, result: message.result });
  else report.stream.push({ type: message.type, error: String(message.error) });
}
const taskId = report.stream[0]?.task?.taskId;
report.getTask = await client.experimental.tasks.getTask(taskId);

// A second one, cancelled while it works.
const started = client.experimental.tasks.callToolStream(
  { name: 'model_training', arguments: { epochs: 50, epoch_seconds: 1 } },
  undefined,
  { task: { ttl: 60000 } },
);
const first = (await started.next()).value;
await started.return(undefined);
report.cancelled = await client.experimental.tasks.cancelTask(first.task.taskId);
report.afterCancel = await client.experimental.tasks.getTask(first.task.taskId);
try {
  await client.experimental.tasks.cancelTask(first.task.taskId);
  report.cancelAgain = 'no error';
} catch (error) {
  report.cancelAgain = { code: error.code, message: error.message };
}
report.listTasks = await client.experimental.tasks.listTasks();
await client.close();
console.log(JSON.stringify(report));

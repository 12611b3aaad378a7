import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { CLI, createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { floodLog, logFileEntries, logFileOf, waitForRequestLine } from "./helpers/log-file.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// The log file: private, JSON lines, rotated by size keeping N files, and followed across rotations.

const MB = 1024 * 1024;
const KEEP = 2;
let state: TestState;
let gateway: RunningGateway;
let follower: ChildProcess | undefined;

before(async () => {
  state = await createTestState();
  await writeConfig(state, { gateway: { logs: { maxFileMb: 1, keepFiles: KEEP } } });
  gateway = await startGateway(state);
});
after(async () => {
  follower?.kill();
  await gateway.stop();
  await state.cleanup();
});

const probe = (id: string) => fetch(`${gateway.url}/healthz`, { headers: { "x-request-id": id } }).then((response) => response.text());

test("the log file is 0600 in a 0700 dir and holds the request lines as JSON", async () => {
  await probe("mode-probe");
  const line = await waitForRequestLine(state.stateDir, "mode-probe");
  assert.equal(line.path, "/healthz");
  assert.equal(typeof line.time, "string");
  assert.equal(line.level, "info");
  const file = logFileOf(state.stateDir);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
});

test("openclaw logs -f prints a line written after it started, and keeps following after a rotation", async () => {
  let output = "";
  follower = spawn(process.execPath, [CLI, "logs", "-f", "--json", "-n", "0"], { env: state.env, stdio: ["ignore", "pipe", "pipe"] });
  follower.stdout?.setEncoding("utf8").on("data", (text: string) => {
    output += text;
  });
  // Started and reading: a line written now reaches it.
  await waitUntil(
    async () => {
      await probe("follow-before");
      return output.includes('"follow-before"');
    },
    { intervalMs: 200, what: "the follower to print a new line" },
  );
  const file = logFileOf(state.stateDir);
  await floodLog(gateway.url, 1.2 * MB, GATEWAY_TOKEN);
  await waitUntil(() => existsSync(`${file}.1`), { what: "a rotation" });
  await probe("follow-after-rotation");
  await waitUntil(() => output.includes('"follow-after-rotation"'), { what: "the follower to print a line from the new file" });
  for (const line of output.trim().split("\n")) JSON.parse(line);
  follower.kill();
  follower = undefined;
});

test("the file rotates past gateway.logs.maxFileMb and only gateway.logs.keepFiles rotated files are kept", async () => {
  const file = logFileOf(state.stateDir);
  const sent = await floodLog(gateway.url, 3.5 * MB, GATEWAY_TOKEN);
  await waitUntil(() => existsSync(`${file}.${KEEP}`), { what: `gateway.log.${KEEP}` });
  await probe("after-flood");
  await waitForRequestLine(state.stateDir, "after-flood");
  assert.ok(!existsSync(`${file}.${KEEP + 1}`), "a file past keepFiles was kept");
  const files = [file, ...Array.from({ length: KEEP }, (_, index) => `${file}.${index + 1}`)];
  // Each file stops near the bound: past it by at most what was buffered or in flight while it rotated.
  for (const name of files) assert.ok(statSync(name).size < 1.1 * MB, `${name} is ${statSync(name).size} bytes`);
  for (const name of files) assert.equal(statSync(name).mode & 0o777, 0o600);
  const kept = files.flatMap((name) => logFileEntries(state.stateDir, name)).filter((entry) => entry.status === 404).length;
  assert.ok(kept < sent, `all ${sent} flood lines were kept: the oldest file was not dropped`);
});

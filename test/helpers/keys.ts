import assert from "node:assert/strict";
import { APIError } from "openai";
import { runCli, type TestState } from "./cli.js";
import { eventually } from "./wait.js";

/**
 * `openclaw keys create` through the real CLI, then wait until the running gateway has picked the
 * key up (its watcher fires), not a fixed time.
 */
export async function createLiveKey(
  state: TestState,
  gatewayUrl: string,
  name: string,
  ...flags: string[]
): Promise<{ secret: string; id: string }> {
  const result = await runCli(state, ["keys", "create", "--name", name, "--json", ...flags]);
  assert.equal(result.code, 0, result.stderr);
  const created = JSON.parse(result.stdout) as { secret: string; key: { id: string } };
  await eventually(
    () => fetch(`${gatewayUrl}/v1/models`, { headers: { authorization: `Bearer ${created.secret}` } }).then((response) => response.status),
    (status) => status !== 401,
  );
  return { secret: created.secret, id: created.key.id };
}

/** The error a call threw (the test fails when it did not throw). */
export async function refusal(call: Promise<unknown>): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  assert.fail("the call was not refused");
}

import { test as nodeTest, type TestContext, type TestOptions } from "node:test";

export { after, afterEach, before, beforeEach } from "node:test";

/**
 * Every test gets a timeout of its own, so a test that hangs fails under its own name (the
 * runner's `--test-timeout` only names the file on Node 20). A test may ask for a different one.
 */
export const TEST_TIMEOUT_MS = 60_000;

type Body = (context: TestContext) => void | Promise<void>;

export function test(name: string, optionsOrBody: TestOptions | Body, maybeBody?: Body): Promise<void> {
  const [options, body] = typeof optionsOrBody === "function" ? [{}, optionsOrBody] : [optionsOrBody, maybeBody as Body];
  return nodeTest(name, { timeout: TEST_TIMEOUT_MS, ...options }, body);
}

import assert from "node:assert/strict";
import { getAtPath, resolveConfigPath, setAtPath, unsetAtPath } from "../src/config/config-path.js";
import { test } from "./helpers/test.js";

test("dots, quotes and brackets resolve to the same keys", () => {
  const expected = ["auth", "profiles", "chutes:manual", "mode"];
  assert.deepEqual(resolveConfigPath('auth.profiles."chutes:manual".mode'), expected);
  assert.deepEqual(resolveConfigPath("auth.profiles['chutes:manual'].mode"), expected);
  assert.deepEqual(resolveConfigPath('auth.profiles["chutes:manual"].mode'), expected);
  assert.deepEqual(resolveConfigPath("auth.profiles.chutes:manual.mode"), expected);
});

test("a map key with dots runs on until a field name follows", () => {
  assert.deepEqual(resolveConfigPath("agents.defaults.models.huggingface/Qwen/Qwen2.5-7B-Instruct"), [
    "agents",
    "defaults",
    "models",
    "huggingface/Qwen/Qwen2.5-7B-Instruct",
  ]);
  assert.deepEqual(resolveConfigPath("agents.defaults.models.huggingface/Qwen/Qwen2.5-7B-Instruct:cheapest.alias"), [
    "agents",
    "defaults",
    "models",
    "huggingface/Qwen/Qwen2.5-7B-Instruct:cheapest",
    "alias",
  ]);
});

test("list indices are numbers; a name where an index belongs is refused", () => {
  assert.deepEqual(resolveConfigPath("agents.list[0].model.fallbacks.1"), ["agents", "list", 0, "model", "fallbacks", 1]);
  assert.throws(() => resolveConfigPath("agents.list.main"), /agents\.list is a list: use an index/);
});

test("env accepts any variable name, and nothing lives below a plain value", () => {
  assert.deepEqual(resolveConfigPath("env.CHUTES_API_KEY"), ["env", "CHUTES_API_KEY"]);
  assert.deepEqual(resolveConfigPath("env.vars.HF_TOKEN"), ["env", "vars", "HF_TOKEN"]);
  assert.throws(() => resolveConfigPath("gateway.port.value"), /gateway\.port holds a plain value/);
});

test("malformed paths are refused with the reason", () => {
  assert.throws(() => resolveConfigPath(""), /empty path/);
  assert.throws(() => resolveConfigPath("gateway."), /trailing dot/);
  assert.throws(() => resolveConfigPath("gateway..port"), /empty segment/);
  assert.throws(() => resolveConfigPath('auth.profiles."x'), /unterminated quote/);
  assert.throws(() => resolveConfigPath("agents.list[0"), /missing \]/);
});

test("set creates parents, get reads back, unset prunes empty parents", () => {
  const root: Record<string, unknown> = {};
  setAtPath(root, ["gateway", "auth", "rateLimit", "maxAttempts"], 5);
  assert.deepEqual(getAtPath(root, ["gateway", "auth", "rateLimit"]), { found: true, value: { maxAttempts: 5 } });
  assert.equal(unsetAtPath(root, ["gateway", "auth", "rateLimit", "maxAttempts"]), true);
  assert.deepEqual(root, {});
  assert.equal(unsetAtPath(root, ["gateway", "port"]), false);
});

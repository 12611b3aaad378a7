import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { Agent } from "undici";
import { type ExchangeSink, exchange } from "../src/providers/openai-compatible/exchange.js";
import { type FakeUpstream, startFakeUpstream } from "./helpers/fake-upstream.js";
import { after, before, test } from "./helpers/test.js";

// A sink callback that throws (a JSON.parse or Buffer.concat on a huge body) must reach the caller
// as an error and abort the request, never vanish inside undici and leave the caller waiting.

let upstream: FakeUpstream;
const agent = new Agent();

before(async () => {
  upstream = await startFakeUpstream();
});
after(async () => {
  await upstream.close();
  await agent.close();
});

const request = (path: string) => ({
  url: new URL(`${upstream.url}${path}`),
  method: "GET" as const,
  headers: {},
  body: null,
  timeoutMs: 30_000,
});

/** Resolves with the error the sink was given; fails the test if the exchange ends without one. */
function run(path: string, sink: Partial<ExchangeSink>): Promise<Error> {
  return new Promise((resolve, reject) => {
    exchange(agent, request(path), {
      onStart: () => undefined,
      onData: () => undefined,
      onEnd: () => reject(new Error("ended without an error")),
      ...sink,
      onError: resolve,
    });
  });
}

test("an exception in onEnd becomes the caller's error", { timeout: 20_000 }, async () => {
  upstream.route("GET /small", { body: { ok: true } });
  const error = await run("/small", {
    onEnd: () => {
      throw new RangeError("Invalid string length");
    },
  });
  assert.equal(error.message, "Invalid string length");
});

test("an exception in onData becomes the caller's error and aborts the upstream", { timeout: 20_000 }, async () => {
  let closed!: () => void;
  const cutOff = new Promise<void>((resolve) => {
    closed = resolve;
  });
  upstream.route("GET /endless", {
    respond: (response: ServerResponse) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.on("close", closed);
      const piece = Buffer.alloc(64 * 1024, " ");
      const pump = () => {
        while (!response.destroyed) if (!response.write(piece)) return void response.once("drain", pump);
      };
      pump();
    },
  });
  const error = await run("/endless", {
    onData: () => {
      throw new Error("too much");
    },
  });
  assert.equal(error.message, "too much");
  await cutOff;
});

test("released exactly once: onSettled runs when the exchange ends", { timeout: 20_000 }, async () => {
  upstream.route("GET /small", { body: { ok: true } });
  let settled = 0;
  await new Promise<void>((resolve, reject) => {
    exchange(
      agent,
      {
        ...request("/small"),
        onSettled: () => {
          settled++;
        },
      },
      { onStart: () => undefined, onData: () => undefined, onEnd: resolve, onError: reject },
    );
  });
  assert.equal(settled, 1);
});

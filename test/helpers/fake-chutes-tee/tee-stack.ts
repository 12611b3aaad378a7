import type { IncomingMessage, ServerResponse } from "node:http";
import { type FakeTeeFleet, startFakeTeeFleet } from "../fake-tdx/fake-fleet.js";
import { createFakeE2ee, type FakeE2ee, type FakeE2eeOptions } from "./fake-e2ee.js";
import { createFakeNras, type FakeNras } from "./fake-nras.js";
import { plainChatHandler } from "./inner-chat.js";

/** The inner model server's answer without encryption (the plain path the bench compares with). */
async function answerInClear(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const answer = await plainChatHandler({ path: "/v1/chat/completions", body: JSON.parse(Buffer.concat(parts).toString("utf8")) });
  if ("json" in answer) {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer.json));
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream" });
  for (const fragment of answer.fragments) response.write(fragment);
  response.end();
}

export const STACK_CHUTE_ID = "5e0c3f7a-1b2d-4c3e-9f8a-7b6c5d4e3f2a";
export const STACK_MODEL = "openclaw/Test-Model-TEE";

export interface FakeTeeStack {
  fleet: FakeTeeFleet;
  e2ee: FakeE2ee;
  nras: FakeNras;
  /** `https://llm.chutes.ai/v1` stand-in (`/v1/models`, and a plaintext `/v1/chat/completions` that must stay unused). */
  baseUrl: string;
  /** Calls to the plaintext chat endpoint. */
  plaintextChats: number;
  /** `models.providers.chutes` pointing the product at this stack. */
  providerConfig(extra?: Record<string, unknown>, tee?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * One fake Chutes TEE on 127.0.0.1, composed of the merged fakes: the TDX fleet (instances'
 * evidence, measurements, PCCS on its own port), the E2EE relay with real ML-KEM / ChaCha20
 * instances whose keys the quotes bind, and the NRAS stand-in, all behind one API origin.
 */
export async function startFakeTeeStack(
  options: {
    e2ee?: FakeE2eeOptions;
    instances?: number;
    /** Let the plaintext `/v1/chat/completions` answer (the inner model server's answer, in clear): for the bench's plain path. */
    plainAnswers?: boolean;
    /** Which Authorization headers the Chutes API and relay accept (default: the fleet's API key only), e.g. an IdP's access tokens. */
    authorize?: (authorization: string | undefined, path: string) => boolean;
  } = {},
): Promise<FakeTeeStack> {
  const e2ee = createFakeE2ee({ chutes: { [STACK_CHUTE_ID]: options.instances ?? 2 }, ...options.e2ee });
  e2ee.instances.forEach((instance, index) => {
    instance.instanceId = `inst-${index + 1}`;
  });
  const nras = await createFakeNras();
  const stack = { plaintextChats: 0 } as FakeTeeStack;
  const json = (response: ServerResponse, body: unknown) =>
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  const handle = (request: IncomingMessage, response: ServerResponse): boolean => {
    const path = new URL(request.url ?? "/", "http://fake").pathname;
    if (path === "/v1/models") {
      json(response, {
        object: "list",
        data: [{ id: STACK_MODEL, chute_id: STACK_CHUTE_ID, confidential_compute: true, context_length: 32768 }],
      });
      return true;
    }
    if (path === "/v1/chat/completions" && options.plainAnswers) {
      void answerInClear(request, response);
      return true;
    }
    if (path === "/v1/chat/completions") {
      stack.plaintextChats++;
      json(response, { error: { message: "the plaintext endpoint was called" } });
      return true;
    }
    if (path.startsWith("/e2e/")) {
      void e2ee.handle(request, response);
      return true;
    }
    return false;
  };
  const fleet = await startFakeTeeFleet({
    now: Date.now(),
    chute: STACK_CHUTE_ID,
    e2ePubkeys: e2ee.instances.map((instance) => instance.keys.publicKeyB64),
    delegateE2e: true,
    handle,
    ...(options.authorize ? { authorize: options.authorize } : {}),
  });
  if (options.authorize) e2ee.options.authorize = options.authorize;
  else e2ee.options.apiKey = fleet.credential;
  // The NRAS stand-in on its own little server: its handler is async, the fleet's router is not.
  const { serveFakes } = await import("./fake-e2ee.js");
  const nrasServer = await serveFakes(nras, [nras.handle]);
  Object.assign(stack, {
    fleet,
    e2ee,
    nras,
    baseUrl: `${fleet.tee.url}/v1`,
    providerConfig: (extra: Record<string, unknown> = {}, tee: Record<string, unknown> = {}) => ({
      baseUrl: `${fleet.tee.url}/v1`,
      e2ee: true,
      tee: {
        apiBaseUrl: fleet.tee.url,
        pccsUrl: fleet.pccs.url,
        trustAnchorPem: fleet.ca.root.pem,
        gpuVerifierUrl: nrasServer.origin,
        ...tee,
      },
      ...extra,
    }),
    close: async () => {
      await Promise.all([fleet.close(), nrasServer.close()]);
    },
  });
  return stack;
}

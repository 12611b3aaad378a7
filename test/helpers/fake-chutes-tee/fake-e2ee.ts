import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type InnerHandler, plainChatHandler } from "./inner-chat.js";
import { type InstanceKeys, newInstanceKeys, openRequest, sealResponse, streamSealer } from "./instance-crypto.js";

/**
 * A fake Chutes E2EE relay and its instances (chutes-api `api/e2e/router.py`, chutes
 * `entrypoint/run.py`): `GET /e2e/instances/{chute}` hands out ≤5 instances with 10 single-use
 * nonces each; `POST /e2e/invoke` consumes a nonce, really decrypts the blob with the instance's
 * ML-KEM secret key, asks the inner handler, and encrypts its answer. Every body it receives is
 * recorded so a test can show the wire carried ciphertext only.
 */
export type InstanceState = "active" | "gone" | "at-capacity";

export interface FakeInstance {
  instanceId: string;
  chuteId: string;
  keys: InstanceKeys;
  state: InstanceState;
  /** Serve this key in `/e2e/instances` instead of the instance's own (a swapped key). */
  advertisedKeyB64?: string;
}

export interface FakeE2eeOptions {
  /** chute id → number of instances (default `{ "chute-tee": 2 }`). */
  chutes?: Record<string, number>;
  inner?: InnerHandler;
  /** Non-stream answers: the instance's JSON envelope (default) or the raw blob the Python client reads. */
  responseFormat?: "envelope" | "raw";
  /** Send the vLLM template's plaintext `{"usage"}` event before each chunk that carries usage (default true). */
  plaintextUsage?: boolean;
  /** Send `{"e2e_error": ...}` after this many encrypted chunks, then end. */
  streamErrorAfter?: number;
  /** Require this bearer token (any token when unset). */
  apiKey?: string;
  /** Decides instead of `apiKey` which Authorization headers are accepted. */
  authorize?: (authorization: string | undefined, path: string) => boolean;
  nonceTtlSeconds?: number;
  now?: () => number;
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeE2ee {
  instances: FakeInstance[];
  /** Every request the relay received, bodies as bytes. */
  seen: SeenRequest[];
  /** What the inner model server was asked, decrypted (what only the enclave may see). */
  innerRequests: Array<{ path: string; body: Record<string, unknown> }>;
  options: FakeE2eeOptions;
  /** Route a request; false when the path is not the fake's. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
}

interface NonceGrant {
  instanceId: string;
  expiresAt: number;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export function createFakeE2ee(options: FakeE2eeOptions = {}): FakeE2ee {
  const now = options.now ?? (() => Date.now() / 1000);
  const instances: FakeInstance[] = [];
  for (const [chuteId, count] of Object.entries(options.chutes ?? { "chute-tee": 2 })) {
    for (let i = 0; i < count; i++)
      instances.push({ instanceId: `${chuteId}-inst-${i}`, chuteId, keys: newInstanceKeys(), state: "active" });
  }
  // Keyed by chute and token, as the relay's Redis hash `e2e_nonces:{user}:{chute}` is.
  const nonces = new Map<string, NonceGrant>();
  const fake: FakeE2ee = { instances, seen: [], innerRequests: [], options, handle };

  function authorized(request: IncomingMessage, response: ServerResponse): boolean {
    const auth = request.headers.authorization;
    const refused = options.authorize
      ? !options.authorize(auth, new URL(request.url ?? "/", "http://fake").pathname)
      : !auth?.startsWith("Bearer ") || (options.apiKey !== undefined && auth !== `Bearer ${options.apiKey}`);
    if (refused) {
      send(response, 401, { detail: "Invalid token." });
      return false;
    }
    return true;
  }

  function listInstances(chuteId: string, response: ServerResponse): void {
    const eligible = instances.filter((instance) => instance.chuteId === chuteId);
    if (!eligible.length) {
      send(response, 404, { detail: "Chute not found" });
      return;
    }
    const ttl = options.nonceTtlSeconds ?? 60;
    const issuedAt = Math.floor(now());
    const selected = eligible.slice(0, 5).map((instance) => {
      const tokens = Array.from({ length: 10 }, () => randomBytes(24).toString("base64url"));
      for (const token of tokens) nonces.set(`${chuteId}\n${token}`, { instanceId: instance.instanceId, expiresAt: issuedAt + ttl + 15 });
      return { instance_id: instance.instanceId, e2e_pubkey: instance.advertisedKeyB64 ?? instance.keys.publicKeyB64, nonces: tokens };
    });
    send(response, 200, { instances: selected, nonce_expires_in: ttl, nonce_expires_at: issuedAt + ttl });
  }

  async function invoke(request: IncomingMessage, response: ServerResponse, blob: Buffer): Promise<void> {
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const chuteId = header("x-chute-id") ?? "";
    const instanceId = header("x-instance-id") ?? "";
    const token = header("x-e2e-nonce") ?? "";
    const stream = (header("x-e2e-stream") ?? "false").toLowerCase() === "true";
    const path = header("x-e2e-path") ?? "/";
    // Consumed only when it belongs to this very instance (NONCE_CONSUME_LUA).
    const grant = nonces.get(`${chuteId}\n${token}`);
    if (!grant || grant.instanceId !== instanceId || grant.expiresAt < now()) {
      return send(response, 403, { detail: "Invalid, expired, or already-used nonce" });
    }
    nonces.delete(`${chuteId}\n${token}`);
    const instance = instances.find((candidate) => candidate.instanceId === instanceId);
    if (!instance) return send(response, 404, { detail: "Instance not found" });
    if (instance.chuteId !== chuteId) return send(response, 400, { detail: "Instance does not belong to the specified chute" });
    if (instance.state === "gone") return send(response, 410, { detail: "Instance is no longer active" });
    if (instance.state === "at-capacity") return send(response, 429, { detail: "Instance is at maximum capacity, try again later" });
    if (!blob.length) return send(response, 400, { detail: "Empty request body" });
    let opened: ReturnType<typeof openRequest>;
    try {
      opened = openRequest(blob, instance.keys.secretKey);
    } catch (error) {
      return send(response, 400, { detail: `E2E decryption failed: ${(error as Error).message}` });
    }
    fake.innerRequests.push({ path, body: opened.body });
    const answer = await (options.inner ?? plainChatHandler)({ path, body: opened.body });
    if ("json" in answer) {
      const raw = Buffer.from(JSON.stringify(answer.json));
      const sealed = sealResponse(opened.responsePublicKey, raw);
      if (options.responseFormat === "raw") {
        response.writeHead(answer.status ?? 200, { "content-type": "application/octet-stream" });
        response.end(sealed);
        return;
      }
      const usage = (answer.json as { usage?: unknown } | null)?.usage;
      const envelope = usage ? { e2e: sealed.toString("base64"), usage } : { e2e: sealed.toString("base64") };
      response.writeHead(answer.status ?? 200, { "content-type": "application/octet-stream" });
      response.end(JSON.stringify(envelope));
      return;
    }
    if (!stream) return send(response, 500, { detail: "the inner handler streamed a non-stream request" });
    const sealer = streamSealer(opened.responsePublicKey);
    response.writeHead(200, { "content-type": "text/event-stream" });
    response.write(`data: ${JSON.stringify({ e2e_init: sealer.init })}\n\n`);
    let sent = 0;
    for (const fragment of answer.fragments) {
      if (options.streamErrorAfter !== undefined && sent >= options.streamErrorAfter) {
        response.write(`data: ${JSON.stringify({ e2e_error: "inference failed inside the enclave" })}\n\n`);
        break;
      }
      if (options.plaintextUsage !== false && fragment.includes('"usage"') && fragment.startsWith("data: ")) {
        const usage = (JSON.parse(fragment.slice(6)) as { usage?: unknown }).usage;
        if (usage) response.write(`data: ${JSON.stringify({ usage })}\n\n`);
      }
      response.write(`data: ${JSON.stringify({ e2e: sealer.chunk(fragment) })}\n\n`);
      sent++;
    }
    response.end();
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? "/", "http://fake");
    const listing = request.method === "GET" ? /^\/e2e\/instances\/([^/]+)$/.exec(url.pathname) : null;
    const invoking = request.method === "POST" && url.pathname === "/e2e/invoke";
    if (!listing && !invoking) return false;
    const body = await readBody(request);
    fake.seen.push({ method: request.method ?? "", path: url.pathname, headers: request.headers, body });
    if (!authorized(request, response)) return true;
    if (listing) listInstances(decodeURIComponent(listing[1] ?? ""), response);
    else await invoke(request, response, body);
    return true;
  }

  return fake;
}

export interface RunningFake<T> {
  fake: T;
  origin: string;
  close(): Promise<void>;
}

/** Serve route handlers (this fake's, the NRAS fake's, others') on 127.0.0.1, port 0. */
export async function serveFakes<T>(
  fake: T,
  handlers: Array<(request: IncomingMessage, response: ServerResponse) => Promise<boolean>>,
): Promise<RunningFake<T>> {
  const server = createServer((request, response) => {
    void (async () => {
      for (const handler of handlers) if (await handler(request, response)) return;
      send(response, 404, { detail: "Not Found" });
    })().catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { detail: String(error) });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    fake,
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startFakeE2ee(options: FakeE2eeOptions = {}): Promise<RunningFake<FakeE2ee>> {
  const fake = createFakeE2ee(options);
  return serveFakes(fake, [fake.handle]);
}

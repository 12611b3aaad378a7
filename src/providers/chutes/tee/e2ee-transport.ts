import { UpstreamError } from "../../../shared/errors.js";
import type { AttestationReceipt, ProviderTransport, TransportContext, TransportRequest, TransportSink } from "../../provider.js";
import type { TeeAttestor } from "./attestation/attestor.js";
import { DEFAULT_CHUTES_API_URL } from "./attestation/attestor.js";
import { fetchBounded } from "./attestation/bounded-fetch.js";
import { createChutesTeeApi } from "./attestation/chutes-tee-api.js";
import { attestationError } from "./attestation/report.js";
import { createChutesTeeAttestor, toAttestationReport } from "./chutes-attestation.js";
import { decryptResponse } from "./e2ee/decrypt-response.js";
import { encryptRequest } from "./e2ee/encrypt-request.js";
import { E2eeStreamDecryptor } from "./e2ee/stream-decryptor.js";
import { type Grant, NoncePool } from "./nonce-pool.js";

/** Nonce refused, instance gone, instance at capacity: another attested instance may take the request. */
const NEXT_INSTANCE = new Set([403, 410, 429]);
const MAX_ATTEMPTS = 6;
const CHUTE_MAP_TTL_MS = 10 * 60_000;
const MAX_ENCRYPTED_ANSWER_BYTES = 16 * 1024 * 1024;

export interface E2eeTransportOptions {
  fetch?: typeof fetch;
  now?: () => number;
}

const bearer = (headers: Record<string, string>) => /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1];

/**
 * Chat completions to Chutes end to end encrypted, only ever to an instance whose attestation
 * passed with the very key encrypted to; there is no plaintext fallback. Anything that is not a
 * chat completion goes on as plain HTTP. Answers are decrypted into the bytes the model server
 * wrote, so the shared client's parsing, stream repairs, bounds and abort apply unchanged.
 */
export function createChutesE2eeTransport(context: TransportContext, options: E2eeTransportOptions = {}): ProviderTransport {
  const now = options.now ?? Date.now;
  const apiBaseUrl = (context.config.tee?.apiBaseUrl ?? DEFAULT_CHUTES_API_URL).replace(/\/+$/, "");
  const http = { timeoutMs: 15_000, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const api = createChutesTeeApi({ apiBaseUrl, http, evidenceTimeoutMs: 60_000, maxInstancesBytes: 256 * 1024, maxEvidenceBytes: 1 });
  let credential: string | undefined;
  let attestor: TeeAttestor | undefined;
  const pools = new Map<string, NoncePool>();
  const chuteIds = new Map<string, string>();
  let chuteIdsAt = 0;
  /** The model last asked for on each chute: a verdict on the chute is recorded under that model. */
  const modelOfChute = new Map<string, string>();
  const onAttestation = context.onAttestation;

  const attest = () => {
    attestor ??= createChutesTeeAttestor(
      {
        config: context.config,
        configDir: context.configDir,
        credential: async () => {
          if (!credential) throw new Error("no Chutes credential");
          return credential;
        },
        ...(options.fetch ? { fetch: options.fetch } : {}),
        now,
      },
      onAttestation
        ? (report) => {
            const model = modelOfChute.get(report.chute);
            if (model) onAttestation(model, toAttestationReport(report));
          }
        : undefined,
    );
    return attestor;
  };

  /** `/e2e/instances/{chute_id}` wants the chute id: the model list maps names to ids (cached). */
  async function chuteOf(model: string, signal?: AbortSignal): Promise<string> {
    if (now() - chuteIdsAt > CHUTE_MAP_TTL_MS) {
      chuteIdsAt = now();
      try {
        const answer = await fetchBounded(`${context.baseUrl.replace(/\/+$/, "")}/models`, {
          ...http,
          ...(signal ? { signal } : {}),
          maxBytes: 8 * 1024 * 1024,
          secrets: credential ? [credential] : [],
          headers: credential ? { authorization: `Bearer ${credential}` } : {},
        });
        const data = (JSON.parse(answer.body.toString("utf8")) as { data?: unknown }).data;
        chuteIds.clear();
        for (const entry of Array.isArray(data) ? data : []) {
          const { id, chute_id: chuteId } = (entry ?? {}) as { id?: unknown; chute_id?: unknown };
          if (typeof id === "string" && typeof chuteId === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(chuteId))
            chuteIds.set(id, chuteId);
        }
      } catch {
        chuteIdsAt = 0; // the name still works for the evidence route; try the list again next time
      }
    }
    return chuteIds.get(model) ?? model;
  }

  function poolFor(chute: string): NoncePool {
    let pool = pools.get(chute);
    if (!pool) {
      pool = new NoncePool(
        () => api.instances(chute, credential ?? ""),
        (instanceId, key) => attest().attestedInstance(chute, instanceId, key) !== undefined,
        now,
      );
      if (pools.size >= 256) pools.delete(pools.keys().next().value!);
      pools.set(chute, pool);
    }
    return pool;
  }

  function receiptFor(chute: string, grant: Grant): AttestationReceipt | undefined {
    const instance = attest().attestedInstance(chute, grant.instanceId, grant.e2ePubkey);
    const report = attest().cached(chute);
    if (!instance?.quoteSha256 || !report) return undefined;
    return {
      instanceId: grant.instanceId,
      quoteSha256: instance.quoteSha256,
      tcbStatus: instance.tcbStatus ?? "unknown",
      verifiedAt: report.verifiedAt,
      target: chute,
    };
  }

  async function run(request: TransportRequest, sink: TransportSink, next: Parameters<ProviderTransport>[2]): Promise<void> {
    credential = bearer(request.headers) ?? credential;
    const payload = JSON.parse(typeof request.body === "string" ? request.body : "{}") as Record<string, unknown>;
    const stream = payload.stream === true;
    const model = String(payload.model ?? "");
    const chute = await chuteOf(model, request.signal);
    if (onAttestation && modelOfChute.get(chute) !== model) {
      modelOfChute.delete(chute);
      if (modelOfChute.size >= 256) modelOfChute.delete(modelOfChute.keys().next().value!);
      modelOfChute.set(chute, model);
    }
    const report = await attest().verifyChute(chute, request.signal ? { signal: request.signal } : {});
    if (!report.ok) throw attestationError(report);
    const pool = poolFor(chute);
    const skip = new Set<string>();
    const refusals: string[] = [];
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const grant = await pool.take(skip).catch((error: Error) => {
        throw new UpstreamError(`Chutes E2EE: could not get invoke nonces for ${chute}: ${error.message}`, {
          status: 503,
          code: "tee_nonces_unavailable",
          retryable: true,
        });
      });
      if (!grant) break;
      const sealed = await encryptRequest(payload, grant.e2ePubkey);
      const status = await invoke(request, sink, next, { chute, grant, stream, sealed });
      if (status === "done") return;
      refusals.push(`${grant.instanceId}: ${status}`);
      if (status === 410) pool.drop(grant.instanceId);
      if (status !== 403) skip.add(grant.instanceId);
    }
    throw new UpstreamError(
      `Chutes E2EE: no attested instance of ${chute} took the request${refusals.length ? ` (${refusals.join("; ")})` : " (none offered invoke nonces)"}`,
      { status: 503, code: "tee_no_instance", retryable: true },
    );
  }

  /** One `POST /e2e/invoke`; resolves "done" once the answer went to the sink, or the status that sends us to another instance. */
  function invoke(
    request: TransportRequest,
    sink: TransportSink,
    next: Parameters<ProviderTransport>[2],
    attempt: { chute: string; grant: Grant; stream: boolean; sealed: Awaited<ReturnType<typeof encryptRequest>> },
  ): Promise<"done" | number> {
    const { chute, grant, stream, sealed } = attempt;
    const path = new URL(request.url).pathname;
    const headers: Record<string, string> = {
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
      accept: stream ? "text/event-stream" : "application/octet-stream",
      "content-type": "application/octet-stream",
      "x-chute-id": chute,
      "x-instance-id": grant.instanceId,
      "x-e2e-nonce": grant.nonce,
      "x-e2e-stream": String(stream),
      "x-e2e-path": path,
    };
    return new Promise((resolve) => {
      let retrying = false;
      let decryptor: E2eeStreamDecryptor | undefined;
      let collected: Buffer[] | undefined;
      let size = 0;
      let passThrough = false;
      next(
        { ...request, url: new URL(`${apiBaseUrl}/e2e/invoke`), headers, body: sealed.body, onSettled: undefined },
        {
          onStart(status, received, control) {
            if (NEXT_INSTANCE.has(status)) {
              retrying = true;
              control.abort(new Error(`instance answered ${status}`));
              resolve(status);
              return;
            }
            resolve("done");
            if (status < 200 || status >= 300) {
              passThrough = true; // the relay's own error, in clear: the shared client maps it
              sink.onStart(status, received, control);
              return;
            }
            const receipt = receiptFor(chute, grant);
            if (receipt) request.onReceipt?.(receipt);
            if (stream) {
              decryptor = new E2eeStreamDecryptor(sealed.responseKey);
              sink.onStart(status, { "content-type": "text/event-stream" }, control);
            } else collected = [];
          },
          onData(chunk) {
            if (retrying) return;
            if (passThrough) return sink.onData(chunk);
            if (decryptor) {
              const text = decryptor.push(chunk);
              if (text) sink.onData(Buffer.from(text, "utf8"));
              return;
            }
            size += chunk.length;
            if (size > MAX_ENCRYPTED_ANSWER_BYTES) throw new Error(`the encrypted answer exceeds ${MAX_ENCRYPTED_ANSWER_BYTES} bytes`);
            collected?.push(chunk);
          },
          onEnd() {
            if (retrying) return;
            if (passThrough) return sink.onEnd();
            if (decryptor) {
              const tail = decryptor.end();
              if (tail) sink.onData(Buffer.from(tail, "utf8"));
              return sink.onEnd();
            }
            decryptResponse(Buffer.concat(collected ?? []), sealed.responseKey).then(
              ({ payload }) => {
                const noop = { pause() {}, resume() {}, abort() {} };
                sink.onStart(200, { "content-type": "application/json" }, noop);
                sink.onData(Buffer.from(JSON.stringify(payload), "utf8"));
                sink.onEnd();
              },
              (error: Error) => sink.onError(error),
            );
          },
          onError(error) {
            if (retrying) return;
            resolve("done");
            sink.onError(error);
          },
        },
      );
    });
  }

  return (request, sink, next) => {
    if (request.method !== "POST" || !request.url.pathname.endsWith("/chat/completions")) return next(request, sink);
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      request.onSettled?.();
    };
    const outer: TransportSink = {
      onStart: (status, headers, control) => sink.onStart(status, headers, control),
      onData: (chunk) => sink.onData(chunk),
      onEnd: () => {
        settle();
        sink.onEnd();
      },
      onError: (error) => {
        settle();
        sink.onError(error);
      },
    };
    run(request, outer, next).catch((error: unknown) => outer.onError(error instanceof Error ? error : new Error(String(error))));
  };
}

import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { buildTdxQuote, type TdxPlatform } from "./tdx-quote.js";

export interface FakeTeeInstance {
  id: string;
  /** The base64 ML-KEM public key the test chose; `/e2e/instances` serves it, the quote binds it. */
  e2ePubkey: string;
  platform: TdxPlatform;
  /** DER of the in-TD attestation server's TLS certificate. */
  certificate: Buffer;
  mrtd: Buffer;
  rtmrs: [Buffer, Buffer, Buffer, Buffer];
  gpus: number;
}

/** What a compromised or broken instance (or API) does to its evidence; set per instance, per test. */
export interface InstanceTamper {
  breakSignature?: boolean;
  /** Quote from a platform whose PCK chain ends at another root. */
  platform?: TdxPlatform;
  /** report_data[0:32] bound to another instance's e2e key. */
  bindKeyOf?: string;
  /** report_data[0:32] bound to a nonce nobody sent. */
  wrongNonce?: boolean;
  /** Evidence bound to the first nonce this fake ever received, whatever the request asks. */
  replay?: boolean;
  /** The certificate served is not the one whose SPKI the quote binds. */
  otherCertificate?: Buffer;
  /** RTMR3 of a software stack that is not in the published list. */
  unlistedRtmr3?: boolean;
  refuseGpu?: boolean;
  /** Report this many GPUs instead of the instance's own. */
  gpuCount?: number;
}

/** A route of someone else's on the same fake (the E2EE `/e2e/invoke`): return true when it answered. */
export type FakeChutesTeeHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface FakeChutesTee {
  url: string;
  instances: FakeTeeInstance[];
  tamper: Map<string, InstanceTamper>;
  /** Instance ids `/e2e/instances` lists (default: all). */
  listed: string[] | undefined;
  /** `/e2e/instances` serves each of these two instances with the other's key. */
  swapListedKeys: [string, string] | undefined;
  /** `/e2e/instances` serves these keys instead of the instances' own. */
  listedKeys: Map<string, string>;
  /** Evidence items omitted and reported in `failed_instance_ids`. */
  failedIds: string[];
  /** The measurement list `/servers/tee/measurements` serves. */
  measurements: unknown[];
  /** Answer these paths (`instances`, `evidence`, `measurements`) with a status instead. */
  statusFor: Partial<Record<"instances" | "evidence" | "measurements", number>>;
  hits: { instances: number; evidence: number; measurements: number };
  nonces: string[];
  close(): Promise<void>;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest();
const spkiHash = (certificate: Buffer) => sha256(new X509Certificate(certificate).publicKey.export({ type: "spki", format: "der" }));

/** GPU evidence as the fake hands it out: it records the nonce the GPU was asked to sign (the derived one). */
export function fakeGpuEvidence(derivedNonceHex: string, index: number, accepted: boolean) {
  const report = { gpu: index, nonce: derivedNonceHex, accepted };
  return {
    certificate: Buffer.from("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n").toString("base64"),
    evidence: Buffer.from(JSON.stringify(report)).toString("base64"),
    arch: "HOPPER",
  };
}

/**
 * The Chutes API pieces attestation needs, on 127.0.0.1: `/e2e/instances/{chute}`,
 * `/chutes/{chute}/evidence?nonce=` (a fresh quote per request, bound to the nonce received,
 * as a real instance does) and `/servers/tee/measurements`. Requests need `Bearer {credential}`.
 */
export async function startFakeChutesTee(options: {
  chute: string;
  credential: string;
  instances: FakeTeeInstance[];
  measurements: unknown[];
  handle?: FakeChutesTeeHandler;
  /** Leave `/e2e/instances` to `handle` (an E2EE relay fake that issues nonces it will check). */
  delegateE2e?: boolean;
  /** Which Authorization headers are accepted (default: `Bearer {credential}` only), e.g. an IdP's live access tokens. */
  authorize?: (authorization: string | undefined, path: string) => boolean;
}): Promise<FakeChutesTee> {
  const state: FakeChutesTee = {
    url: "",
    instances: options.instances,
    tamper: new Map(),
    listed: undefined,
    swapListedKeys: undefined,
    listedKeys: new Map(),
    failedIds: [],
    measurements: options.measurements,
    statusFor: {},
    hits: { instances: 0, evidence: 0, measurements: 0 },
    nonces: [],
    close: async () => undefined,
  };
  const json = (response: ServerResponse, status: number, body: unknown) =>
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

  function evidenceFor(instance: FakeTeeInstance, nonce: string) {
    const tamper = state.tamper.get(instance.id) ?? {};
    const boundNonce = tamper.replay ? state.nonces[0]! : tamper.wrongNonce ? randomBytes(32).toString("hex") : nonce;
    const boundKey = tamper.bindKeyOf ? state.instances.find((other) => other.id === tamper.bindKeyOf)!.e2ePubkey : instance.e2ePubkey;
    const derived = sha256(`${boundNonce}${boundKey}`);
    const rtmrs = [...instance.rtmrs] as FakeTeeInstance["rtmrs"];
    if (tamper.unlistedRtmr3) rtmrs[3] = Buffer.alloc(48, 0xee);
    const quote = buildTdxQuote(
      tamper.platform ?? instance.platform,
      { mrtd: instance.mrtd, rtmrs, reportData: Buffer.concat([derived, spkiHash(instance.certificate)]) },
      { breakSignature: tamper.breakSignature === true },
    );
    return {
      quote: quote.toString("base64"),
      gpu_evidence: Array.from({ length: tamper.gpuCount ?? instance.gpus }, (_, index) =>
        fakeGpuEvidence(derived.toString("hex"), index, !tamper.refuseGpu),
      ),
      instance_id: instance.id,
      certificate: (tamper.otherCertificate ?? instance.certificate).toString("base64"),
    };
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const chute = encodeURIComponent(options.chute).replaceAll("%2F", "/");
    if (url.pathname === "/servers/tee/measurements") {
      state.hits.measurements++;
      if (state.statusFor.measurements) return json(response, state.statusFor.measurements, { detail: "unavailable" });
      return json(response, 200, state.measurements);
    }
    const authorized = options.authorize
      ? options.authorize(request.headers.authorization, url.pathname)
      : request.headers.authorization === `Bearer ${options.credential}`;
    if (!authorized) return json(response, 401, { detail: "Invalid token." });
    if (url.pathname === `/e2e/instances/${chute}` && !options.delegateE2e) {
      state.hits.instances++;
      if (state.statusFor.instances) return json(response, state.statusFor.instances, { detail: "Too many requests" });
      const listed = state.instances.filter((instance) => !state.listed || state.listed.includes(instance.id));
      const swap = state.swapListedKeys;
      const keyOf = (id: string) => state.instances.find((instance) => instance.id === id)!.e2ePubkey;
      const instances = listed.map((instance) => ({
        instance_id: instance.id,
        e2e_pubkey:
          state.listedKeys.get(instance.id) ??
          (swap?.[0] === instance.id ? keyOf(swap[1]) : swap?.[1] === instance.id ? keyOf(swap[0]) : instance.e2ePubkey),
        nonces: Array.from({ length: 3 }, () => randomBytes(24).toString("base64url")),
      }));
      return json(response, 200, { instances, nonce_expires_in: 60, nonce_expires_at: Math.floor(Date.now() / 1000) + 60 });
    }
    if (url.pathname === `/chutes/${chute}/evidence`) {
      state.hits.evidence++;
      const nonce = url.searchParams.get("nonce") ?? "";
      if (!/^[0-9a-f]{64}$/i.test(nonce)) return json(response, 400, { detail: "Invalid nonce format" });
      state.nonces.push(nonce);
      // Quoting the request's Authorization back, as some servers do in their errors.
      if (state.statusFor.evidence)
        return json(response, state.statusFor.evidence, {
          detail: `Chute not found, or does not belong to you (${request.headers.authorization})`,
        });
      const evidence = state.instances
        .filter((instance) => !state.failedIds.includes(instance.id))
        .map((instance) => evidenceFor(instance, nonce));
      return json(response, 200, { evidence, failed_instance_ids: state.failedIds });
    }
    if (options.handle?.(request, response)) return;
    json(response, 404, { detail: "Not Found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

import { performance } from "node:perf_hooks";
import type { ModelRuntime } from "../../models/model-runtime.js";
import { UpstreamError } from "../../shared/errors.js";

export interface ProbeResult {
  provider: string;
  /** ok: the credential was accepted; refused: 401/403; unreachable: no answer; error: anything else. */
  status: "ok" | "refused" | "unreachable" | "error" | "no credential";
  /** The model the one-token chat call used. */
  model: string | null;
  /** Models `/models` listed with the credential; null when listing failed. */
  models: number | null;
  listMs: number | null;
  chatMs: number | null;
  /** What was wrong, or a remark on an accepted credential (out of credit, rate limited). */
  detail: string | null;
}

const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

/** The model a provider is probed with: the configured choices first, then the provider's own default. */
async function probeModel(runtime: ModelRuntime, providerId: string): Promise<string | undefined> {
  const candidates = [runtime.defaultModel(), ...runtime.fallbacks()].flatMap((input) => {
    if (!input) return [];
    try {
      const ref = runtime.resolveRef(input);
      return ref.provider === providerId ? [ref.modelId] : [];
    } catch {
      return [];
    }
  });
  if (candidates[0]) return candidates[0];
  const definition = runtime.provider(providerId).definition;
  const own = definition.defaultModel ? runtime.resolveRef(definition.defaultModel) : undefined;
  if (own?.provider === providerId) return own.modelId;
  const catalog = (await runtime.catalog("offline", [providerId])).providers.get(providerId);
  return catalog?.models[0]?.id;
}

function describe(error: unknown): Pick<ProbeResult, "status" | "detail"> {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof UpstreamError) || error.upstreamStatus === undefined) return { status: "unreachable", detail: message };
  const status = error.upstreamStatus;
  if (status === 401 || status === 403) return { status: "refused", detail: message };
  // These answers come after the credential was checked: it works, the account has a problem.
  if (status === 402) return { status: "ok", detail: `credential accepted, but the account is out of credit (${message})` };
  if (status === 429) return { status: "ok", detail: `credential accepted, but rate limited (${message})` };
  return { status: "error", detail: message };
}

/**
 * A live check per provider: list its models with the credential, then a one-token chat call
 * (the only call every provider authenticates: listing is public on Chutes and Hugging Face).
 * It may cost a token or two.
 */
export async function probeProviders(runtime: ModelRuntime, providerIds: string[], timeoutMs = DEFAULT_PROBE_TIMEOUT_MS) {
  return Promise.all(
    providerIds.map(async (providerId): Promise<ProbeResult> => {
      const provider = runtime.provider(providerId);
      const signal = AbortSignal.timeout(timeoutMs);
      const result: ProbeResult = {
        provider: providerId,
        status: "ok",
        model: null,
        models: null,
        listMs: null,
        chatMs: null,
        detail: null,
      };
      let apiKey: string | undefined;
      try {
        apiKey = (await runtime.freshCredential(providerId))?.secret;
      } catch (error) {
        return { ...result, ...describe(error) };
      }
      if (!apiKey && provider.definition.requiresCredential) return { ...result, status: "no credential", detail: "no credential" };

      let started = performance.now();
      const listed = await provider.discoverModels({ apiKey, signal });
      result.listMs = Math.round(performance.now() - started);
      if (listed.source === "live") result.models = listed.models.length;

      const model = await probeModel(runtime, providerId);
      if (!model) return { ...result, status: "error", detail: `no model to probe ${providerId} with` };
      result.model = `${providerId}/${model}`;
      started = performance.now();
      try {
        await provider.chat({ model, messages: [{ role: "user", content: "ping" }], max_tokens: 1, stream: false }, { apiKey, signal });
      } catch (error) {
        Object.assign(result, describe(signal.aborted ? new Error(`no answer within ${timeoutMs} ms`) : error));
      }
      result.chatMs = Math.round(performance.now() - started);
      if (result.status === "ok" && result.models === null && listed.error) {
        result.detail = [result.detail, `listing models failed: ${listed.error}`].filter(Boolean).join("; ");
      }
      return result;
    }),
  );
}

export function formatProbe(result: ProbeResult): string {
  const timing = [
    result.chatMs !== null ? `chat ${result.chatMs} ms` : "",
    result.models !== null ? `${result.models} models listed in ${result.listMs} ms` : "",
  ].filter(Boolean);
  const what = {
    ok: "credential accepted",
    refused: "credential refused",
    unreachable: "unreachable",
    error: "error",
    "no credential": "no credential",
  }[result.status];
  const head = `  ${result.provider}: ${what}${result.model ? ` (${result.model})` : ""}${timing.length ? `; ${timing.join(", ")}` : ""}`;
  return result.detail && result.detail !== what ? `${head}\n    ${result.detail}` : head;
}

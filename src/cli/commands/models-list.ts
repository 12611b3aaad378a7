import type { ProviderCatalog } from "../../models/catalog.js";
import type { ModelRuntime } from "../../models/model-runtime.js";
import type { CatalogModel } from "../../providers/provider.js";
import { InvalidRequestError } from "../../shared/errors.js";
import { readAttestationVerdicts, type StoredVerdict } from "../../store/attestation-verdicts.js";
import { loadCliContext } from "../context.js";
import { formatAge, formatPrice, formatTokens } from "../format.js";
import { printJson } from "../output.js";
import { renderTable } from "../table.js";

export interface ModelsListOptions {
  provider?: string;
  tee?: boolean;
  json?: boolean;
  refresh?: boolean;
}

/**
 * A TEE model is `declared` on the provider's word (Chutes' `confidential_compute`), `attested`
 * when its last hardware attestation passed, `refused` when it did not.
 */
export function teeStatus(model: CatalogModel, verdict: StoredVerdict | undefined) {
  if (!model.confidentialCompute) return undefined;
  if (!verdict) return { status: "declared" as const };
  return {
    status: verdict.ok ? ("attested" as const) : ("refused" as const),
    verifiedAt: new Date(verdict.verifiedAt).toISOString(),
    expiresAt: new Date(verdict.expiresAt).toISOString(),
    ...(verdict.failure ? { failure: verdict.failure } : {}),
  };
}

function catalogLines(runtime: ModelRuntime, catalog: ProviderCatalog, now: number, width: number): string[] {
  const credential = runtime.credential(catalog.provider);
  const auth = credential ? `credential: ${credential.source} ${credential.origin} (${credential.redacted})` : "no credential";
  const age = catalog.fetchedAt ? `, ${formatAge(now - catalog.fetchedAt)}${catalog.stale ? ", refreshing" : ""}` : "";
  const source = { live: "live", cached: "cached", builtin: "built-in", config: "config only" }[catalog.source];
  const tee = runtime.config.models?.providers?.[catalog.provider]?.teeOnly ? " · teeOnly" : "";
  const line = `${catalog.provider} · ${auth} · catalog: ${source}${age}${tee}`;
  return line.length <= width ? [line] : [`${catalog.provider} · ${auth}`, `  catalog: ${source}${age}${tee}`];
}

export async function runModelsList(options: ModelsListOptions): Promise<void> {
  const { runtime, paths } = await loadCliContext();
  if (options.provider && !runtime.providerIds.has(options.provider)) {
    throw new InvalidRequestError(`unknown provider ${options.provider}: known providers are ${[...runtime.providerIds].join(", ")}`, {
      param: "provider",
    });
  }
  const providerIds = options.provider ? [options.provider] : runtime.activeProviderIds();
  const loaded = await runtime.catalog(options.refresh ? "force" : "auto", providerIds);
  const defaultRef = runtime.defaultModel();
  const fallbacks = runtime.fallbacks();
  const now = Date.now();
  const verdicts = await readAttestationVerdicts(paths);
  const pick = (catalog: ProviderCatalog) => catalog.models.filter((model) => !options.tee || model.confidentialCompute === true);
  const describe = (model: CatalogModel) => {
    const ref = `${model.provider}/${model.id}`;
    return {
      ref,
      ...model,
      aliases: runtime.aliases.names.get(ref) ?? [],
      default: ref === defaultRef,
      fallback: fallbacks.includes(ref),
      credential: runtime.credential(model.provider) !== undefined,
      ...(model.confidentialCompute ? { tee: teeStatus(model, verdicts.get(ref)) } : {}),
    };
  };

  if (options.json) {
    printJson({
      models: [...loaded.providers.values()].flatMap((catalog) => pick(catalog).map(describe)),
      providers: [...loaded.providers.values()].map((catalog) => {
        const credential = runtime.credential(catalog.provider);
        return {
          provider: catalog.provider,
          source: catalog.source,
          ...(catalog.fetchedAt ? { fetchedAt: new Date(catalog.fetchedAt).toISOString(), stale: catalog.stale === true } : {}),
          ...(catalog.error ? { error: catalog.error } : {}),
          credential: credential ? { source: credential.source, origin: credential.origin, redacted: credential.redacted } : null,
        };
      }),
    });
  } else {
    const width = process.stdout.columns || 80;
    const lines: string[] = [];
    let shownTee = false;
    for (const catalog of loaded.providers.values()) {
      const rows = pick(catalog).map(describe);
      shownTee ||= rows.some((row) => row.tee !== undefined);
      lines.push(...catalogLines(runtime, catalog, now, width));
      if (rows.length === 0) {
        lines.push("  (no models)", "");
        continue;
      }
      const mark = (row: (typeof rows)[number]) => (row.default ? "*" : row.fallback ? "+" : " ");
      lines.push(
        ...renderTable(
          [
            { header: " ", values: rows.map(mark) },
            { header: "MODEL", values: rows.map((row) => row.ref) },
            { header: "CTX", values: rows.map((row) => formatTokens(row.contextWindow)), align: "right" },
            { header: "IN", values: rows.map((row) => (row.input.includes("image") ? "img" : "text")), dropOrder: 3 },
            { header: "TEE", values: rows.map((row) => row.tee?.status ?? "no") },
            {
              header: "$/1M IN/OUT",
              values: rows.map((row) => (row.cost ? `${formatPrice(row.cost.input)}/${formatPrice(row.cost.output)}` : "-")),
              dropOrder: 2,
            },
            {
              header: "NAME",
              values: rows.map((row) => (row.aliases.length ? `${row.name} (${row.aliases.join(", ")})` : row.name)),
              dropOrder: 1,
              minWidth: 10,
            },
          ],
          width,
        ),
        "",
      );
    }
    lines.push("* default model   + fallback   --json for every field");
    if (shownTee) lines.push("TEE: declared by the provider, or attested/refused by `openclaw tee verify`");
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  await loaded.refreshing;
}

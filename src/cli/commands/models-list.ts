import type { ProviderCatalog } from "../../models/catalog.js";
import type { ModelRuntime } from "../../models/model-runtime.js";
import type { CatalogModel } from "../../providers/provider.js";
import { InvalidRequestError } from "../../shared/errors.js";
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
  const { runtime } = await loadCliContext();
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
    for (const catalog of loaded.providers.values()) {
      const rows = pick(catalog).map(describe);
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
            { header: "TEE", values: rows.map((row) => (row.confidentialCompute ? "yes" : "no")) },
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
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  await loaded.refreshing;
}

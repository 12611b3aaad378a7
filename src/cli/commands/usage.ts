import { loadConfig } from "../../config/load.js";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.js";
import { openKeyStore, openStateReader } from "../../store/state-reader.js";
import { USAGE_GROUPS, type UsageGroup, type UsageRow } from "../../store/usage-ledger.js";
import { printJson } from "../output.js";
import { parseTimePoint } from "../parse-values.js";
import { renderTable } from "../table.js";

export interface UsageOptions {
  by?: string;
  since?: string;
  until?: string;
  key?: string;
  json?: boolean;
  csv?: boolean;
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
export function csvField(value: string | number | null): string {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const NONE: Record<UsageGroup, string> = {
  key: "(gateway token)",
  model: "(none)",
  agent: "(none)",
  provider: "(none)",
  day: "(none)",
};

export async function runUsage(options: UsageOptions): Promise<void> {
  const by = (options.by ?? "key") as UsageGroup;
  if (!USAGE_GROUPS.includes(by))
    throw new InvalidRequestError(`--by ${JSON.stringify(options.by)} must be one of ${USAGE_GROUPS.join(", ")}`, { param: "by" });
  if (options.json && options.csv) throw new InvalidRequestError("choose one of --json and --csv");
  const now = Date.now();
  const since = parseTimePoint(options.since ?? "7d", "--since", now);
  const until = options.until === undefined ? undefined : parseTimePoint(options.until, "--until", now);
  if (until !== undefined && until <= since) throw new InvalidRequestError("--until must be after --since", { param: "until" });
  const { config, paths } = await loadConfig();
  const { stateDir } = paths;
  const keys = await (await openKeyStore(stateDir, config)).list();
  let keyId: string | undefined;
  if (options.key !== undefined) {
    const key = keys.find((entry) => entry.id === options.key) ?? keys.find((entry) => entry.name === options.key);
    if (!key) throw new NotFoundError(`no key ${JSON.stringify(options.key)}: see openclaw keys list`);
    keyId = key.id;
  }
  let rows: UsageRow[];
  const store = await openStateReader(stateDir, config);
  try {
    rows = await store.aggregateRequests({ by, since, ...(until === undefined ? {} : { until }), ...(keyId ? { keyId } : {}) });
  } finally {
    await store.close();
  }
  const names = new Map(keys.map((key) => [key.id, key.name]));
  const label = (row: UsageRow) => (row.group === null ? NONE[by] : by === "key" ? (names.get(row.group) ?? row.group) : row.group);
  const range = { since: new Date(since).toISOString(), until: until === undefined ? null : new Date(until).toISOString() };

  if (options.json) {
    return printJson({
      by,
      ...range,
      rows: by === "key" ? rows.map((row) => ({ ...row, name: row.group === null ? null : (names.get(row.group) ?? null) })) : rows,
    });
  }
  if (options.csv) {
    const header = [
      by,
      ...(by === "key" ? ["name"] : []),
      "requests",
      "errors",
      "prompt_tokens",
      "completion_tokens",
      "cached_tokens",
      "cost_usd",
      "p50_latency_ms",
    ];
    const lines = [header.join(",")];
    for (const row of rows) {
      const fields = [
        row.group,
        ...(by === "key" ? [row.group === null ? null : (names.get(row.group) ?? null)] : []),
        row.requests,
        row.errors,
        row.promptTokens,
        row.completionTokens,
        row.cachedTokens,
        row.cost,
        row.p50LatencyMs,
      ];
      lines.push(fields.map(csvField).join(","));
    }
    process.stdout.write(`${lines.join("\r\n")}\r\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write(`No requests since ${range.since.slice(0, 16).replace("T", " ")}.\n`);
    return;
  }
  const lines = renderTable(
    [
      { header: by.toUpperCase(), values: rows.map(label) },
      { header: "REQUESTS", values: rows.map((row) => String(row.requests)), align: "right" },
      { header: "ERRORS", values: rows.map((row) => String(row.errors)), align: "right", dropOrder: 2 },
      { header: "IN", values: rows.map((row) => String(row.promptTokens)), align: "right" },
      { header: "OUT", values: rows.map((row) => String(row.completionTokens)), align: "right" },
      { header: "CACHED", values: rows.map((row) => String(row.cachedTokens)), align: "right", dropOrder: 1 },
      { header: "COST $", values: rows.map((row) => row.cost.toFixed(6)), align: "right" },
      {
        header: "P50 MS",
        values: rows.map((row) => (row.p50LatencyMs === null ? "-" : row.p50LatencyMs.toFixed(0))),
        align: "right",
        dropOrder: 0,
      },
    ],
    process.stdout.columns || 100,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

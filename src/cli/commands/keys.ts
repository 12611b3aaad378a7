import { loadConfig } from "../../config/load.js";
import { NotFoundError } from "../../shared/errors.js";
import type { KeyRecord, KeyStore } from "../../store/key-store.js";
import { openKeyStore, openStateReader } from "../../store/state-reader.js";
import { formatTokens } from "../format.js";
import { printJson } from "../output.js";
import { renderTable } from "../table.js";
import { type KeyFlags, keyPatchFromFlags, parseKeyName, scopeOf } from "./key-flags.js";
import { formatUsd, type KeyUsage, keyUsages, publicKey } from "./key-usage.js";

let loaded: ReturnType<typeof loadConfig> | undefined;
const state = () => {
  loaded ??= loadConfig();
  return loaded;
};
/** keys.json on this machine, or the shared PostgreSQL table when `gateway.state.postgres` is set. */
const keyStore = async () => {
  const { config, paths } = await state();
  return openKeyStore(paths.stateDir, config);
};
async function usagesOf(keys: KeyRecord[], now: number): Promise<Map<string, KeyUsage>> {
  const { config, paths } = await state();
  const reader = await openStateReader(paths.stateDir, config);
  try {
    return await keyUsages(reader, keys, now);
  } finally {
    await reader.close();
  }
}
const loadRuntime = async () => (await import("../context.js").then((m) => m.loadCliContext())).runtime;
const date = (ms: number | undefined) => (ms === undefined ? "-" : new Date(ms).toISOString().slice(0, 16).replace("T", " "));

async function findOrFail(store: KeyStore, idOrName: string): Promise<KeyRecord> {
  const record = await store.find(idOrName);
  if (!record) throw new NotFoundError(`no key ${JSON.stringify(idOrName)}: see openclaw keys list`);
  return record;
}

export async function runKeysCreate(flags: KeyFlags & { name: string }): Promise<void> {
  const now = Date.now();
  parseKeyName(flags.name);
  // Everything is parsed and checked before the store is touched: bad input writes nothing.
  const scope = scopeOf(await keyPatchFromFlags({ ...flags, name: undefined } as KeyFlags, loadRuntime, now));
  const { record, secret } = await (await keyStore()).create(flags.name, scope, now);
  if (flags.json) return printJson({ key: publicKey(record), secret });
  process.stderr.write(`Created key ${JSON.stringify(record.name)} (id ${record.id}). It will not be shown again: copy it now.\n`);
  process.stdout.write(`${secret}\n`);
}

const limitCell = (used: number, limit: number | undefined, format: (n: number) => string = String) =>
  limit === undefined ? "-" : `${format(used)}/${format(limit)}`;

function budgetCell(record: KeyRecord, usage: KeyUsage | undefined): string {
  if (!record.budget) return "-";
  return `${formatUsd(usage?.spentUsd ?? 0)}/${formatUsd(record.budget.usd)} ${record.budget.period}`;
}

export async function runKeysList(options: { json?: boolean }): Promise<void> {
  const now = Date.now();
  const keys = await (await keyStore()).list();
  const usages = await usagesOf(keys, now);
  if (options.json) return printJson({ keys: keys.map((key) => ({ ...publicKey(key), usage: usages.get(key.id) })) });
  if (keys.length === 0) {
    process.stdout.write("No keys yet: openclaw keys create --name <name>\n");
    return;
  }
  const usage = (key: KeyRecord) => usages.get(key.id);
  const lines = renderTable(
    [
      { header: "NAME", values: keys.map((key) => key.name) },
      { header: "ID", values: keys.map((key) => key.id) },
      { header: "STATE", values: keys.map((key) => usage(key)?.state ?? "") },
      { header: "RPM", values: keys.map((key) => limitCell(usage(key)?.lastMinute.requests ?? 0, key.rpm)), align: "right", dropOrder: 3 },
      {
        header: "TPM",
        values: keys.map((key) => limitCell(usage(key)?.lastMinute.tokens ?? 0, key.tpm, (n) => (n === 0 ? "0" : formatTokens(n)))),
        align: "right",
        dropOrder: 2,
      },
      { header: "PAR", values: keys.map((key) => String(key.maxParallel ?? "-")), align: "right", dropOrder: 1 },
      { header: "BUDGET", values: keys.map((key) => budgetCell(key, usage(key))), dropOrder: 4 },
      { header: "EXPIRES", values: keys.map((key) => date(key.expiresAt)), dropOrder: 0 },
      { header: "MODELS", values: keys.map((key) => key.models?.join(",") ?? "any"), minWidth: 10 },
    ],
    process.stdout.columns || 100,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

function describe(record: KeyRecord, usage: KeyUsage | undefined): string[] {
  return [
    `Key ${JSON.stringify(record.name)} (id ${record.id}, ${record.prefix}) — ${usage?.state ?? "active"}`,
    `  created   ${date(record.createdAt)}${record.revokedAt ? `, revoked ${date(record.revokedAt)}` : ""}`,
    `  expires   ${date(record.expiresAt)}`,
    `  models    ${record.models?.join(", ") ?? "any"}`,
    `  agents    ${record.agents?.join(", ") ?? "any"}`,
    `  rpm       ${limitCell(usage?.lastMinute.requests ?? 0, record.rpm)}   (requests in the last minute / limit)`,
    `  tpm       ${limitCell(usage?.lastMinute.tokens ?? 0, record.tpm)}`,
    `  parallel  ${record.maxParallel ?? "-"}`,
    `  budget    ${budgetCell(record, usage)}${record.budget && usage?.window.end ? ` (resets ${usage.window.end.slice(0, 16).replace("T", " ")})` : ""}`,
  ];
}

export async function runKeysShow(idOrName: string, options: { json?: boolean }): Promise<void> {
  const record = await findOrFail(await keyStore(), idOrName);
  const usage = (await usagesOf([record], Date.now())).get(record.id);
  if (options.json) return printJson({ key: { ...publicKey(record), usage } });
  process.stdout.write(`${describe(record, usage).join("\n")}\n`);
}

export async function runKeysUpdate(idOrName: string, flags: KeyFlags): Promise<void> {
  const store = await keyStore();
  const current = await findOrFail(store, idOrName);
  const patch = await keyPatchFromFlags(flags, loadRuntime, Date.now(), current);
  // By id: a rename between the lookup and the write cannot redirect the update.
  const record = await store.update(current.id, patch);
  if (flags.json) return printJson({ key: publicKey(record) });
  const usage = (await usagesOf([record], Date.now())).get(record.id);
  process.stdout.write(`${["Updated.", ...describe(record, usage)].join("\n")}\n`);
}

export async function runKeysRevoke(idOrName: string, options: { json?: boolean }): Promise<void> {
  const store = await keyStore();
  const current = await findOrFail(store, idOrName);
  const record = await store.revoke(current.id);
  if (options.json) return printJson({ key: publicKey(record) });
  const already = current.revokedAt !== undefined ? " (it already was)" : "";
  process.stdout.write(`Revoked key ${JSON.stringify(record.name)} (id ${record.id})${already}: the gateway refuses it from now on.\n`);
}

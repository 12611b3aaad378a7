import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDir, type StatePaths } from "../config/paths.js";
import { writeFileAtomic } from "../shared/atomic-file.js";

/**
 * The last attestation verdict per model ref, kept in the state dir (0600) so `models list` and
 * `models status` can tell an attested TEE model from a merely declared one without the network.
 * Display only: nothing is ever encrypted to an instance on the strength of this file.
 */
export interface StoredVerdict {
  ok: boolean;
  /** Epoch ms of the verification. */
  verifiedAt: number;
  expiresAt: number;
  /** What was attested, in the provider's terms (Chutes: the chute). */
  target: string;
  /** Instances that passed. */
  attestedInstances: number;
  /** The failed check, when not ok. */
  failure?: string;
}

interface VerdictFile {
  version: 1;
  verdicts: Record<string, StoredVerdict>;
}

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_ENTRIES = 500;
const MAX_TEXT = 500;

function verdictFile(paths: StatePaths): string {
  return path.join(paths.stateDir, "tee", "attestations.json");
}

function valid(entry: unknown): entry is StoredVerdict {
  const value = entry as StoredVerdict;
  return (
    typeof value === "object" &&
    value !== null &&
    typeof value.ok === "boolean" &&
    Number.isFinite(value.verifiedAt) &&
    Number.isFinite(value.expiresAt) &&
    typeof value.target === "string" &&
    Number.isInteger(value.attestedInstances) &&
    (value.failure === undefined || typeof value.failure === "string")
  );
}

/** Every stored verdict by model ref; a missing, oversized or unreadable file is an empty one. */
export async function readAttestationVerdicts(paths: StatePaths): Promise<Map<string, StoredVerdict>> {
  const file = verdictFile(paths);
  try {
    if ((await stat(file)).size > MAX_FILE_BYTES) return new Map();
    const parsed = JSON.parse(await readFile(file, "utf8")) as VerdictFile;
    if (parsed?.version !== 1 || typeof parsed.verdicts !== "object" || parsed.verdicts === null) return new Map();
    return new Map(Object.entries(parsed.verdicts).filter((pair): pair is [string, StoredVerdict] => valid(pair[1])));
  } catch {
    return new Map();
  }
}

/**
 * Record one verdict (read, merge, atomic write). Two writers at once may lose one update: the
 * next verification writes it again, and a lost display line costs nothing.
 */
export async function recordAttestationVerdict(paths: StatePaths, ref: string, verdict: StoredVerdict): Promise<void> {
  const verdicts = await readAttestationVerdicts(paths);
  verdicts.delete(ref);
  verdicts.set(ref, { ...verdict, ...(verdict.failure ? { failure: verdict.failure.slice(0, MAX_TEXT) } : {}) });
  while (verdicts.size > MAX_ENTRIES) verdicts.delete(verdicts.keys().next().value!);
  const file = verdictFile(paths);
  ensurePrivateDir(path.dirname(file));
  const body: VerdictFile = { version: 1, verdicts: Object.fromEntries(verdicts) };
  await writeFileAtomic(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
}

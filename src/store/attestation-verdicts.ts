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
 * Record one verdict (read, merge, atomic write). Two processes writing at once may lose one
 * update: the next verification writes it again, and a lost display line costs nothing.
 */
export async function recordAttestationVerdict(paths: StatePaths, ref: string, verdict: StoredVerdict): Promise<void> {
  await mergeVerdicts(paths, new Map([[ref, verdict]]));
}

async function mergeVerdicts(paths: StatePaths, batch: ReadonlyMap<string, StoredVerdict>): Promise<void> {
  const verdicts = await readAttestationVerdicts(paths);
  for (const [ref, verdict] of batch) {
    verdicts.delete(ref);
    verdicts.set(ref, { ...verdict, ...(verdict.failure ? { failure: verdict.failure.slice(0, MAX_TEXT) } : {}) });
  }
  while (verdicts.size > MAX_ENTRIES) verdicts.delete(verdicts.keys().next().value!);
  const file = verdictFile(paths);
  ensurePrivateDir(path.dirname(file));
  const body: VerdictFile = { version: 1, verdicts: Object.fromEntries(verdicts) };
  await writeFileAtomic(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
}

/** What a verdict is made from: a provider's attestation report, in structural terms. */
export interface VerdictSource {
  ok: boolean;
  verifiedAt: number;
  expiresAt: number;
  target: string;
  instances: ReadonlyArray<{ ok: boolean }>;
  failure?: string | undefined;
}

export function toStoredVerdict(report: VerdictSource): StoredVerdict {
  return {
    ok: report.ok,
    verifiedAt: report.verifiedAt,
    expiresAt: report.expiresAt,
    target: report.target,
    attestedInstances: report.instances.filter((instance) => instance.ok).length,
    ...(report.failure ? { failure: report.failure } : {}),
  };
}

export interface VerdictRecorder {
  /** O(1): queues the verdict; the file is written later, once for every verdict queued meanwhile. */
  record(ref: string, verdict: StoredVerdict): void;
  /** Writes what is queued now (and waits for a write in progress). */
  flush(): Promise<void>;
}

/** Verdicts arrive at most once per model per cache time; this only gathers a burst (many models at once) into one write. */
export const VERDICT_WRITE_DELAY_MS = 1_000;
const recorders = new Map<string, VerdictRecorder>();

/**
 * The gateway's (and chat's) own verdicts, written off the request path: queued, then merged into
 * the file in one atomic 0600 write per burst. One recorder per state dir, so two providers of
 * one process never race each other's read-merge-write. A failed write is reported, never thrown
 * into a request: the file is display only.
 */
export function verdictRecorder(paths: StatePaths, options: { delayMs?: number; onError?: (error: Error) => void } = {}): VerdictRecorder {
  const existing = recorders.get(paths.stateDir);
  if (existing) return existing;
  const delayMs = options.delayMs ?? VERDICT_WRITE_DELAY_MS;
  const pending = new Map<string, StoredVerdict>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  // The timer does not hold a process open; a CLI that is about to exit writes what is queued first.
  const onBeforeExit = () => void recorder.flush();

  const recorder: VerdictRecorder = {
    record(ref, verdict) {
      pending.delete(ref);
      pending.set(ref, verdict);
      while (pending.size > MAX_ENTRIES) pending.delete(pending.keys().next().value!);
      if (timer) return;
      timer = setTimeout(() => void recorder.flush(), delayMs);
      timer.unref();
      process.once("beforeExit", onBeforeExit);
    },
    flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      process.removeListener("beforeExit", onBeforeExit);
      if (pending.size === 0) return writing;
      const batch = new Map(pending);
      pending.clear();
      writing = writing.then(() => mergeVerdicts(paths, batch).catch((error: Error) => options.onError?.(error)));
      return writing;
    },
  };
  recorders.set(paths.stateDir, recorder);
  return recorder;
}

/** Write what every recorder has queued (a process about to exit: the gateway's shutdown). */
export async function flushVerdictRecorders(): Promise<void> {
  await Promise.all([...recorders.values()].map((recorder) => recorder.flush()));
}

import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDir } from "../config/paths.js";
import { ValidationMemo } from "../config/validation-memo.js";
import { withFileLock, writeFileAtomic } from "../shared/atomic-file.js";
import { ConfigError, errorCode, InvalidRequestError, NotFoundError } from "../shared/errors.js";
import { newKeyMaterial } from "./key-secret.js";
import type { CreatedKey, KeyPatch, KeyRecord, KeyScope, KeyStore } from "./key-store.js";

type KeyFile = { version: 1; keys: KeyRecord[] };

/** The schema (zod) is loaded only for a file that has to be validated (see ValidationMemo): not at gateway start. */
async function parseKeyFile(parsed: unknown, file: string): Promise<KeyFile> {
  const { KeyFileSchema } = await import("./key-file-schema.js");
  const result = KeyFileSchema.safeParse(parsed);
  if (!result.success) {
    throw new ConfigError(`the key store ${file} is malformed at ${result.error.issues[0]?.path.join(".") || "(root)"}`);
  }
  return result.data as KeyFile;
}

const SCOPE_FIELDS = ["models", "agents", "rpm", "tpm", "maxParallel", "budget", "expiresAt"] as const;

export function findKey(keys: KeyRecord[], idOrName: string): KeyRecord | undefined {
  return (
    keys.find((key) => key.id === idOrName) ??
    keys.find((key) => key.name === idOrName && key.revokedAt === undefined) ??
    keys.filter((key) => key.name === idOrName).sort((a, b) => (b.revokedAt ?? 0) - (a.revokedAt ?? 0))[0]
  );
}

function assertFreeName(keys: KeyRecord[], name: string, except?: string): void {
  if (keys.some((key) => key.name === name && key.revokedAt === undefined && key.id !== except))
    throw new InvalidRequestError(`a key named ${JSON.stringify(name)} already exists: pick another name, or revoke that key first`, {
      param: "name",
    });
}

/**
 * Keys in one JSON file under the state dir (`keys.json`, 0600), replaced atomically under the
 * same owner-aware lock as the credential store. A file rather than a table: the gateway watches
 * it and reloads the whole (small) set into memory, so it sees CLI changes without a restart and
 * verifies keys with no I/O; SQLite gives no change notification across processes.
 */
export class LocalKeyStore implements KeyStore {
  constructor(
    readonly file: string,
    private readonly memo?: ValidationMemo,
  ) {}

  static inStateDir(stateDir: string): LocalKeyStore {
    return new LocalKeyStore(path.join(stateDir, "keys.json"), ValidationMemo.forState(stateDir));
  }

  private async read(): Promise<KeyFile> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return { version: 1, keys: [] };
      throw new ConfigError(`cannot read the key store ${this.file}: ${(error as Error).message}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`the key store ${this.file} is not valid JSON; restore it from ${path.basename(this.file)}.bak`, {
        cause: error,
      });
    }
    const validate = () => parseKeyFile(parsed, this.file);
    return this.memo ? this.memo.validate("keys", parsed, validate) : validate();
  }

  /** Read-modify-write under the lock; `mutate` throwing writes nothing. */
  private async change<T>(mutate: (data: KeyFile) => T): Promise<T> {
    ensurePrivateDir(path.dirname(this.file));
    return withFileLock(this.file, async () => {
      const data = await this.read();
      const result = mutate(data);
      await writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, backup: true });
      return result;
    });
  }

  async list(): Promise<KeyRecord[]> {
    return (await this.read()).keys;
  }

  async find(idOrName: string): Promise<KeyRecord | undefined> {
    return findKey((await this.read()).keys, idOrName);
  }

  create(name: string, scope: KeyScope, now = Date.now()): Promise<CreatedKey> {
    return this.change((data) => {
      assertFreeName(data.keys, name);
      const { secret, ...material } = newKeyMaterial();
      const record: KeyRecord = { ...material, name, ...scope, createdAt: now };
      data.keys.push(record);
      return { record, secret };
    });
  }

  update(idOrName: string, patch: KeyPatch): Promise<KeyRecord> {
    return this.change((data) => {
      const record = findKey(data.keys, idOrName);
      if (!record) throw new NotFoundError(`no key ${JSON.stringify(idOrName)}: see openclaw keys list`);
      if (patch.name !== undefined) {
        assertFreeName(data.keys, patch.name, record.id);
        record.name = patch.name;
      }
      const fields = record as unknown as Record<string, unknown>;
      for (const field of SCOPE_FIELDS) {
        const value = patch[field];
        if (value === null) delete fields[field];
        else if (value !== undefined) fields[field] = value;
      }
      return record;
    });
  }

  revoke(idOrName: string, now = Date.now()): Promise<KeyRecord> {
    return this.change((data) => {
      const record = findKey(data.keys, idOrName);
      if (!record) throw new NotFoundError(`no key ${JSON.stringify(idOrName)}: see openclaw keys list`);
      record.revokedAt ??= now;
      return record;
    });
  }

  /** Watches the directory: an atomic write replaces the file, which a watch on the file itself would lose. */
  watch(onChange: () => void, delayMs = 100): () => void {
    let timer: NodeJS.Timeout | undefined;
    let watcher: FSWatcher | undefined;
    const name = path.basename(this.file);
    try {
      ensurePrivateDir(path.dirname(this.file));
      watcher = watch(path.dirname(this.file), (_event, changed) => {
        if (changed?.toString() !== name) return;
        clearTimeout(timer);
        timer = setTimeout(onChange, delayMs);
      });
      watcher.on("error", () => undefined);
    } catch {
      // No watch available: keys change only at restart.
    }
    return () => {
      clearTimeout(timer);
      watcher?.close();
    };
  }
}

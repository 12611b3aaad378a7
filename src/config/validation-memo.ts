import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { writeFileAtomic } from "../shared/atomic-file.js";
import { ensurePrivateDir } from "./paths.js";

/** Most digests kept: a few configs and credential files in turn (and the env-substituted config). */
const KEEP = 16;

let schemaVersion: string | undefined;

/**
 * What a validation depends on besides the document: the text of the schema modules (they import
 * nothing but zod) and zod's package.json (its version). Either changing forgets every digest.
 */
function currentSchemaVersion(): string {
  if (schemaVersion) return schemaVersion;
  const hash = createHash("sha256");
  const extension = path.extname(new URL(import.meta.url).pathname);
  for (const module of [`./schema${extension}`, `../auth/credential-schema${extension}`, `../store/key-file-schema${extension}`])
    hash.update(readFileSync(new URL(module, import.meta.url)));
  // zod's entry is at its package root; resolving it is half the cost of require("zod/package.json").
  hash.update(readFileSync(new URL("./package.json", import.meta.resolve("zod"))));
  schemaVersion = hash.digest("hex");
  return schemaVersion;
}

/**
 * Loading zod and building our schemas is ~40% of the gateway's start-up CPU and ~13 MB of its
 * resident memory at rest, spent confirming that files it accepted before are unchanged. This
 * keeps digests of documents the schema accepted as they were (the parsed result deep-equal to
 * the input) in `<state>/cache/validated.json` (0600); a document with a kept digest is used as
 * parsed, without loading zod. Any other document (new, edited, a changed `${VAR}` value, another
 * schema or zod version) is validated as before, with the same errors. The memo is a shortcut
 * only: when it cannot be read or written, everything is validated.
 */
export class ValidationMemo {
  private digests: Promise<string[]> | undefined;

  constructor(readonly file: string) {}

  static forState(stateDir: string): ValidationMemo {
    return new ValidationMemo(path.join(stateDir, "cache", "validated.json"));
  }

  /** What `validate` returns for `document`; not run when an equal document was accepted before. */
  async validate<T>(kind: string, document: unknown, validate: () => Promise<T>): Promise<T> {
    let digest: string;
    try {
      digest = createHash("sha256")
        .update(`${currentSchemaVersion()}\n${kind}\n${JSON.stringify(document)}`)
        .digest("hex");
    } catch {
      // Schema modules not beside this one (a bundle?): nothing can be remembered safely.
      return validate();
    }
    const known = await this.load();
    if (known.includes(digest)) return document as T;
    const result = await validate();
    if (isDeepStrictEqual(result, document)) await this.remember(digest);
    return result;
  }

  private load(): Promise<string[]> {
    this.digests ??= readFile(this.file, "utf8").then(
      (text) => {
        const parsed = JSON.parse(text) as { digests?: unknown };
        return Array.isArray(parsed.digests) ? parsed.digests.filter((entry): entry is string => typeof entry === "string") : [];
      },
      () => [],
    );
    return this.digests.catch(() => []);
  }

  private async remember(digest: string): Promise<void> {
    const digests = [digest, ...(await this.load()).filter((entry) => entry !== digest)].slice(0, KEEP);
    this.digests = Promise.resolve(digests);
    try {
      ensurePrivateDir(path.dirname(this.file));
      await writeFileAtomic(this.file, `${JSON.stringify({ digests })}\n`, { mode: 0o600 });
    } catch {
      // A read-only state dir only means the next start validates again.
    }
  }
}

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { OpenClawConfig } from "../../config/schema.js";
import { ConfigError } from "../../shared/errors.js";

const KEY_HELP = "must be 32 bytes in base64 or hex (make one with: openssl rand -base64 32)";

/**
 * The credentials key: `gateway.state.credentialsKey` (a `${VAR}` reference), else OPENCLAW_STATE_KEY.
 * Undefined when neither is set. The value never appears in an error.
 */
export function credentialsKeyOf(config: OpenClawConfig, env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const fromConfig = config.gateway?.state?.credentialsKey;
  const text = (fromConfig ?? env.OPENCLAW_STATE_KEY ?? "").trim();
  if (!text) return undefined;
  const source = fromConfig !== undefined ? "gateway.state.credentialsKey" : "OPENCLAW_STATE_KEY";
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(text) && !/^[A-Za-z0-9+/_-]{43}=?$/.test(text)))
    throw new ConfigError(`${source} ${KEY_HELP}`);
  return key;
}

/** AES-256-GCM with a fresh 96-bit nonce per row; the row's identity is authenticated data, so a sealed value cannot be moved to another row. */
export class CredentialCipher {
  constructor(private readonly key: Buffer) {}

  seal(plain: string, identity: string): { nonce: Buffer; sealed: Buffer } {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(identity));
    const sealed = Buffer.concat([cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return { nonce, sealed };
  }

  open(nonce: Buffer, sealed: Buffer, identity: string): string {
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, nonce);
      decipher.setAAD(Buffer.from(identity));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString("utf8");
    } catch (error) {
      throw new ConfigError(
        "cannot decrypt the credentials in PostgreSQL: the credentials key (gateway.state.credentialsKey / OPENCLAW_STATE_KEY) is not the one they were stored with",
        { cause: error },
      );
    }
  }
}

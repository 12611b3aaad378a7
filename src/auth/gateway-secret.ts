import { randomBytes } from "node:crypto";
import type { OpenClawConfig } from "../config/schema.js";
import { ConfigError } from "../shared/errors.js";
import type { CredentialStore } from "./credential-store.js";

export interface GatewaySecret {
  mode: "token" | "password";
  secret: string;
  /** Where it came from: `gateway.auth.token`, `OPENCLAW_GATEWAY_TOKEN`, `credential store`. */
  origin: string;
  generated: boolean;
}

const STORE_KEY = "gatewayToken";

/** The gateway's bearer secret: config → environment → the store (generated there on first run). */
export async function resolveGatewaySecret(
  config: OpenClawConfig,
  store: CredentialStore,
  env: NodeJS.ProcessEnv = process.env,
): Promise<GatewaySecret> {
  const mode = config.gateway?.auth?.mode ?? "token";
  if (mode === "password") {
    const fromConfig = config.gateway?.auth?.password?.trim();
    if (fromConfig) return { mode, secret: fromConfig, origin: "gateway.auth.password", generated: false };
    const fromEnv = env.OPENCLAW_GATEWAY_PASSWORD?.trim();
    if (fromEnv) return { mode, secret: fromEnv, origin: "OPENCLAW_GATEWAY_PASSWORD", generated: false };
    throw new ConfigError("gateway.auth.mode is password but no password is set: set OPENCLAW_GATEWAY_PASSWORD or gateway.auth.password", {
      code: "gateway_password_missing",
    });
  }
  const fromConfig = config.gateway?.auth?.token?.trim();
  if (fromConfig) return { mode, secret: fromConfig, origin: "gateway.auth.token", generated: false };
  const fromEnv = env.OPENCLAW_GATEWAY_TOKEN?.trim();
  if (fromEnv) return { mode, secret: fromEnv, origin: "OPENCLAW_GATEWAY_TOKEN", generated: false };
  const stored = (await store.read()).secrets?.[STORE_KEY];
  if (stored) return { mode, secret: stored, origin: "credential store", generated: false };
  return store.update((data) => {
    const existing = data.secrets?.[STORE_KEY];
    if (existing) return { mode, secret: existing, origin: "credential store", generated: false };
    const secret = `ocg_${randomBytes(32).toString("base64url")}`;
    data.secrets = { ...data.secrets, [STORE_KEY]: secret };
    return { mode, secret, origin: "credential store", generated: true };
  });
}

/** Read the stored token without creating one. */
export async function readStoredGatewayToken(store: CredentialStore): Promise<string | undefined> {
  return (await store.read()).secrets?.[STORE_KEY];
}

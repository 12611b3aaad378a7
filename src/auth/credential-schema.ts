import { z } from "zod";

/** The credential store's file format (see credential-store.ts); loaded only when a file has to be validated. */
/**
 * When the user stored this credential (epoch ms): without an explicit `auth.order`, the newest
 * credential for a provider is the one used. A refresh keeps it (it is the same sign-in).
 */
const storedAt = z.number().optional();
const ApiKeyCredential = z.object({ type: z.literal("api_key"), provider: z.string(), key: z.string().min(1), storedAt });
const TokenCredential = z.object({
  type: z.literal("token"),
  provider: z.string(),
  token: z.string().min(1),
  expires: z.number().optional(),
  storedAt,
});
const OAuthCredential = z.object({
  type: z.literal("oauth"),
  provider: z.string(),
  storedAt,
  access: z.string().min(1),
  refresh: z.string().optional(),
  /** Epoch milliseconds. */
  expires: z.number().optional(),
  /** How long the access token was issued for (ms): short-lived tokens are refreshed at half-life. */
  lifetimeMs: z.number().optional(),
  clientId: z.string().optional(),
  /** The confidential client's secret used at sign-in (CHUTES_CLIENT_SECRET): refreshes need it too. */
  clientSecret: z.string().optional(),
  account: z.object({ id: z.string().optional(), username: z.string().optional(), email: z.string().optional() }).optional(),
  /** Set when a refresh was refused: the user has to sign in again. */
  needsReauth: z.boolean().optional(),
});

export const CredentialSchema = z.discriminatedUnion("type", [ApiKeyCredential, TokenCredential, OAuthCredential]);
export const StoreSchema = z.object({
  version: z.literal(1),
  profiles: z.record(z.string(), CredentialSchema),
  /** Generated secrets that are not provider credentials (e.g. the gateway token). */
  secrets: z.record(z.string(), z.string()).optional(),
});

export type Credential = z.infer<typeof CredentialSchema>;
export type CredentialStoreData = z.infer<typeof StoreSchema>;

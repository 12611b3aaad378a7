/** Prices per 1M tokens, as the catalog holds them (`CatalogModel.cost`). */
export interface TokenPrices {
  input?: number;
  output?: number;
  cacheRead?: number;
}

/** The usage fields that are priced (chat, responses and embeddings all fit). */
export interface PricedUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

/**
 * USD for one call: input at the input price, except the cached part of it at the cache-read
 * price when the catalog has one (billing cache reads at the full rate overstates spend), plus
 * output. Null when the model has no price. The ledger row and the key's budget both use this
 * figure, so `usage` and the budget agree.
 */
export function usageCost(usage: PricedUsage | null | undefined, price: TokenPrices | undefined): number | null {
  if (!usage || !price || (price.input === undefined && price.output === undefined)) return null;
  const prompt = usage.prompt_tokens ?? 0;
  const reported = usage.prompt_tokens_details?.cached_tokens;
  const cached = price.cacheRead !== undefined && typeof reported === "number" ? Math.min(Math.max(0, reported), prompt) : 0;
  const input = (prompt - cached) * (price.input ?? 0) + cached * (price.cacheRead ?? 0);
  return (input + (usage.completion_tokens ?? 0) * (price.output ?? 0)) / 1_000_000;
}

/** 262144 → "262k", 1048576 → "1M". */
export function formatTokens(count: number | undefined): string {
  if (!count) return "-";
  if (count >= 1_000_000) return `${Number((count / 1_048_576).toFixed(1))}M`;
  return `${Math.round(count / 1024)}k`;
}

export function formatPrice(value: number | undefined): string {
  if (value === undefined) return "?";
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/**
 * Context sizes in decimal units, as providers publish them: 128000 → "128k", 131072 → "131k",
 * 1000000 and 1048576 → "1M", 1500000 → "1.5M" (binary units would show 128000 as "125k").
 */
export function formatTokens(count: number | undefined): string {
  if (!count) return "-";
  if (count < 1000) return String(count);
  const thousands = Math.round(count / 1000);
  if (thousands < 1000) return `${thousands}k`;
  return `${Number((count / 1_000_000).toFixed(1))}M`;
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

/** Durations in scenario files and CLI options: "90s", "10m", "1h30m", "2d", "500ms". */
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  let consumed = 0;
  for (let m = PART.exec(trimmed); m; m = PART.exec(trimmed)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = PART.lastIndex;
  }
  return consumed === trimmed.length ? total : undefined;
}

export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let left = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(left / 86_400); left -= d * 86_400;
  const h = Math.floor(left / 3600); left -= h * 3600;
  const m = Math.floor(left / 60); const s = left - m * 60;
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, s && `${s}s`].filter(Boolean);
  return sign + (parts.join('') || '0s');
}

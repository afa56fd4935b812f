/** Order statistics the benchmarks print. */

/** The middle value (the upper one of an even count), as every benchmark's rounds are summarised. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/** Nearest-rank percentile of values sorted ascending, `p` in 0..1; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

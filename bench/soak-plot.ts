/** A small SVG line chart of a soak run's samples: RSS, event-loop delay p99 and PUBACK p99 over time. */
export interface SoakSample {
  t: number;
  readingsPerSecond: number;
  ackedPerSecond: number;
  rssMb: number;
  /** the main thread's JavaScript heap in use, and memory outside it held by its objects (buffers) */
  heapUsedMb?: number;
  externalMb?: number;
  /** where RSS is (bench/soak-memory.ts): the main thread's committed JS heap, and anonymous memory outside it */
  heapCommittedMb?: number;
  youngCommittedMb?: number;
  threadsMb?: number;
  nativeMb?: number;
  fileMb?: number;
  /** the minute after a heap snapshot (a pause of seconds): left out of the flatness figures */
  afterHeapSnapshot?: boolean;
  /** taken while the heap was sampled (`--survivors-minute`): left out of the flatness figures too */
  heapSampled?: boolean;
  loopP99Ms: number;
  pubackP50Ms: number;
  pubackP99Ms: number;
  /** the same-run baseline: a bare durable broker's PUBACK p99 in the same sample (bench/soak-reference.ts) */
  referenceP99Ms?: number;
  /** the platform's part of the PUBACK wait (validated to durable), p99 from its histogram (bench/soak-commit.ts) */
  commitP99Ms?: number;
  /** what the machine's disks took (every process), MB/s */
  diskWriteMbPerSecond?: number;
}

const SERIES: Array<{ name: string; color: string; pick: (s: SoakSample) => number; unit: string }> = [
  { name: 'RSS', color: '#1f77b4', pick: (s) => s.rssMb, unit: 'MB' },
  { name: 'event-loop delay p99', color: '#d62728', pick: (s) => s.loopP99Ms, unit: 'ms' },
  { name: 'PUBACK p99', color: '#2ca02c', pick: (s) => s.pubackP99Ms, unit: 'ms' },
];

const AGAINST_REFERENCE = {
  name: 'PUBACK p99 / same-run reference p99',
  color: '#9467bd',
  pick: (s: SoakSample) => s.pubackP99Ms / Math.max(0.1, s.referenceP99Ms ?? 0),
  unit: 'x',
};

/**
 * One panel per series, each on its own scale from zero, so a slope in any of them is visible; with a same-run
 * reference in every sample, a fourth panel: the PUBACK p99 over the reference's.
 */
export function renderSoakSvg(samples: readonly SoakSample[], title: string): string {
  const panels =
    samples.length > 0 && samples.every((s) => s.referenceP99Ms !== undefined)
      ? [...SERIES, AGAINST_REFERENCE]
      : SERIES;
  const width = 720;
  const panel = 150;
  const left = 60;
  const plotWidth = width - left - 20;
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${40 + panels.length * panel}" ` +
      'font-family="sans-serif" font-size="12">',
    `<rect width="100%" height="100%" fill="white"/><text x="${left}" y="20" font-size="14">${escapeXml(title)}</text>`,
  ];
  panels.forEach((series, i) => {
    const top = 40 + i * panel;
    const height = panel - 40;
    const yMax = Math.max(1e-9, ...samples.map(series.pick)) * 1.1;
    const x = (t: number) => left + (t / tMax) * plotWidth;
    const y = (v: number) => top + height - (v / yMax) * height;
    const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(series.pick(s)).toFixed(1)}`).join(' ');
    parts.push(
      `<text x="${left}" y="${top - 6}" fill="${series.color}">${series.name} (${series.unit}), ` +
        `0..${yMax.toFixed(1)}</text>`,
      `<line x1="${left}" y1="${top + height}" x2="${left + plotWidth}" y2="${top + height}" stroke="#999"/>`,
      `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + height}" stroke="#999"/>`,
      `<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${points}"/>`,
      `<text x="${left + plotWidth}" y="${top + height + 14}" text-anchor="end">${tMax} s</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

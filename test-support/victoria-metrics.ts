import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { serverProcess } from './server-process.ts';

/**
 * A real server that accepts InfluxDB's v2 write API (`/api/v2/write`): Debian's `victoria-metrics` on
 * a free port with its data in a temporary folder. Points are read back through `/api/v1/export`.
 */
export interface VictoriaMetricsServer {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export const VICTORIA_METRICS_BINARY = '/usr/bin/victoria-metrics';

export async function startVictoriaMetrics(): Promise<VictoriaMetricsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-victoria-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = serverProcess({
    name: `victoria-metrics on ${url}`,
    binary: VICTORIA_METRICS_BINARY,
    install: 'apt-get install -y victoria-metrics',
    args: [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${join(dir, 'data')}`,
      '-retentionPeriod=100y',
      '-loggerLevel=ERROR',
    ],
    ready: async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).ok,
  });
  try {
    await server.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    stop: () => server.stop(),
    start: () => server.start(),
    dispose: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/**
 * The series matching `match` (a series selector such as `{__name__=~"air_.*"}`). Fresh samples become
 * searchable a moment after they are written, so this polls until `minSeries` are there (or 10 s pass).
 */
export async function exportSeries(url: string, match: string, minSeries = 1): Promise<ExportedSeries[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await fetch(`${url}/internal/force_flush`);
    const res = await fetch(`${url}/api/v1/export?${new URLSearchParams({ 'match[]': match })}`);
    if (!res.ok) throw new Error(`export from ${url} failed: ${res.status} ${await res.text()}`);
    const text = await res.text();
    const series = text
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as ExportedSeries);
    if (series.length >= minSeries || Date.now() > deadline) return series;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

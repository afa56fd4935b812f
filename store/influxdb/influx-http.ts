import type { InfluxConfig } from '../../config/platform-config.ts';
import { parseQueryAnswer, type StatementResult } from './influxql.ts';

/** Why a request to InfluxDB failed, so callers tell "down" from "refused" from "wrong". */
export type InfluxFailure = 'unreachable' | 'timeout' | 'auth' | 'not_found' | 'rejected' | 'server';

export class InfluxRequestError extends Error {
  constructor(
    readonly failure: InfluxFailure,
    message: string,
    readonly status?: number,
    /** the server's own words, when it answered */
    readonly reason = message,
  ) {
    super(message);
    this.name = 'InfluxRequestError';
  }
}

/** The Authorization header for the configured credentials: a token wins over a username. */
export function authHeaders(config: InfluxConfig): Record<string, string> {
  if (config.token) return { authorization: `Token ${config.token}` };
  if (config.username !== undefined) {
    const basic = Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64');
    return { authorization: `Basic ${basic}` };
  }
  return {};
}

export function failureFromStatus(status: number): InfluxFailure {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status >= 500 || status === 429) return 'server';
  return 'rejected';
}

/** InfluxDB puts its reason in a JSON body ({"error": ...}), or in the X-Influxdb-Error header. */
async function reasonOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: string; message?: string };
    if (parsed.error || parsed.message) return String(parsed.error ?? parsed.message);
  } catch {
    // not JSON
  }
  return res.headers.get('x-influxdb-error') ?? (text.slice(0, 300) || res.statusText);
}

function networkFailure(err: unknown, url: string, timeoutMs: number): InfluxRequestError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new InfluxRequestError('timeout', `InfluxDB at ${url} did not answer within ${timeoutMs} ms`);
  }
  const detail = e.cause?.code ?? e.cause?.message ?? e.message;
  return new InfluxRequestError('unreachable', `InfluxDB at ${url} is not reachable (${detail})`);
}

/** The read side of the v1 HTTP API (`/query`, `/ping`), served by 1.x and by 2.x / 3.x for compatibility. */
export class InfluxHttp {
  readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly config: InfluxConfig) {
    this.url = config.url.replace(/\/+$/, '');
    this.headers = authHeaders(config);
  }

  /** Resolves with the server's version (null when it sends none) once /ping answers; rejects otherwise. */
  async ping(): Promise<string | null> {
    const res = await this.fetch('/ping', { method: 'GET' });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok)
      throw new InfluxRequestError(
        failureFromStatus(res.status),
        `InfluxDB at ${this.url}/ping answered ${res.status}`,
        res.status,
      );
    return res.headers.get('x-influxdb-version');
  }

  /**
   * Runs InfluxQL statements in one request (POST, so CREATE / ALTER / DROP work too) with epoch ms times.
   * Statement errors come back in each result; request errors throw.
   */
  async query(statements: readonly string[], options: { db?: string } = {}): Promise<StatementResult[]> {
    if (statements.length === 0) return [];
    const params = new URLSearchParams({ epoch: 'ms', chunked: 'true', chunk_size: '10000' });
    const db = options.db ?? this.config.database;
    if (db) params.set('db', db);
    const res = await this.fetch(`/query?${params}`, {
      method: 'POST',
      body: new URLSearchParams({ q: statements.join(';\n') }),
    });
    if (!res.ok) {
      const reason = await reasonOf(res);
      throw new InfluxRequestError(
        failureFromStatus(res.status),
        `InfluxDB at ${this.url} refused the query (${res.status}): ${reason}`,
        res.status,
        reason,
      );
    }
    try {
      return parseQueryAnswer(await res.text(), statements.length);
    } catch (err) {
      throw new InfluxRequestError(
        'server',
        `InfluxDB at ${this.url} answered the query with an error: ${(err as Error).message}`,
      );
    }
  }

  /** Runs one statement and throws its error, if any. */
  async run(statement: string, options: { db?: string } = {}): Promise<StatementResult> {
    const [result] = await this.query([statement], options);
    if (result?.error) throw new InfluxRequestError('rejected', `${statement}: ${result.error}`);
    return result ?? { series: [] };
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.url}${path}`, {
        ...init,
        headers: { ...this.headers, ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
    } catch (err) {
      throw networkFailure(err, this.url, this.config.timeoutMs);
    }
  }
}

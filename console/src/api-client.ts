/**
 * Every /api call carries the credential: the session cookie (sent by the browser on its own; `token` is
 * then empty) or an API token as a Bearer header. A 401 anywhere means the session is over.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiClient {
  readonly token: string;
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  delete(path: string): Promise<void>;
  getText(path: string): Promise<string>;
  streamUrl(path: string): string;
}

export function createApiClient(token: string, onUnauthorized: () => void): ApiClient {
  async function request(path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(path, {
        ...init,
        credentials: 'same-origin',
        headers: { ...init.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, 'network', (err as Error).message);
    }
    if (res.ok) return res;
    let code = `http_${res.status}`;
    let message = res.statusText;
    try {
      const body = (await res.json()) as { code?: string; message?: string };
      if (body.code) code = body.code;
      if (body.message) message = body.message;
    } catch {
      // not JSON: keep the status text
    }
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, code, message);
  }
  return {
    token,
    async get<T>(path: string, signal?: AbortSignal) {
      const res = await request(path, { method: 'GET', signal, headers: { accept: 'application/json' } });
      return (await res.json()) as T;
    },
    async post<T>(path: string, body: unknown) {
      const res = await request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
      return (res.status === 204 ? undefined : await res.json()) as T;
    },
    async patch<T>(path: string, body: unknown) {
      const res = await request(path, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as T;
    },
    async delete(path: string) {
      await request(path, { method: 'DELETE', headers: { accept: 'application/json' } });
    },
    async getText(path: string) {
      const res = await request(path, { method: 'GET' });
      return res.text();
    },
    streamUrl(path: string) {
      const url = new URL(path, location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      if (token) url.searchParams.set('token', token); // a cookie session rides on the upgrade request itself
      return url.toString();
    },
  };
}

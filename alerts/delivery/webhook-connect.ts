import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { refusalReason } from '../../config/webhook-address-policy.ts';

/** A target whose address the policy refuses (config/webhook-address-policy.ts): not retried. */
export class WebhookRefusedError extends Error {
  readonly code = 'webhook_target_refused';
}

/**
 * dns.lookup, then the address policy on every address the name answers: the check applies to the very
 * address the socket connects to, so a name that resolved to a public address at config load and to
 * 127.0.0.1 now (DNS rebinding) is still refused. One private answer refuses the name.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      for (const a of addresses) {
        const reason = refusalReason(a.address, allowPrivate, hostname);
        if (reason) return callback(new WebhookRefusedError(reason), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

export interface WebhookConnector {
  post(
    url: string,
    init: { body: string; headers: Record<string, string>; signal: AbortSignal },
  ): Promise<{ status: number; retryAfter: string | null }>;
  close(): void;
}

/**
 * One target's connections: its own keep-alive agents with the guarded lookup (a shared agent could hand a
 * socket opened for an allow-listed target to another). Redirects are not followed: a 3xx is an answer.
 */
export function createWebhookConnector(allowPrivate: boolean): WebhookConnector {
  const lookup = guardedLookup(allowPrivate);
  const agents = {
    http: new http.Agent({ keepAlive: true, lookup }),
    https: new https.Agent({ keepAlive: true, lookup }),
  };
  return {
    post(url, init) {
      const target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      // a literal address never goes through lookup, so it is checked here
      const reason = isIP(host) ? refusalReason(host, allowPrivate) : undefined;
      if (reason) return Promise.reject(new WebhookRefusedError(reason));
      const secure = target.protocol === 'https:';
      return new Promise((resolve, reject) => {
        const request = (secure ? https : http).request(
          target,
          {
            method: 'POST',
            signal: init.signal,
            agent: secure ? agents.https : agents.http,
            headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
          },
          (response) => {
            const retryAfter = response.headers['retry-after'];
            response.resume();
            resolve({
              status: response.statusCode ?? 0,
              retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
            });
          },
        );
        request.on('error', reject);
        request.end(init.body);
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

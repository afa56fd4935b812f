import type { FastifyPluginAsync } from 'fastify';
import { ZodError } from 'zod';
import { parseFilterQuery, type AlertFilter } from '../alerts/delivery/alert-filter.ts';
import type { AlertStreamHub } from '../alerts/delivery/alert-stream-hub.ts';
import type { LiveSessionRegistry } from '../config/accounts/live-sessions.ts';
import { DomainError } from '../core/domain-error.ts';
import { allow, principalOf, type AuthGuard } from './auth.ts';

export interface AlertsStreamDeps {
  hub: AlertStreamHub;
  guard: AuthGuard;
  liveSessions?: LiveSessionRegistry;
}

type Query = Record<string, string | string[] | undefined>;

function filterOf(query: unknown): AlertFilter {
  try {
    return parseFilterQuery((query ?? {}) as Query);
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    const issue = err.issues[0];
    throw new DomainError(
      'invalid',
      'invalid_filter',
      `${issue?.path.join('.') ?? 'filter'}: ${issue?.message ?? 'invalid'}`,
    );
  }
}

/** `?since=<seq>`: the seq of the last event a reconnecting client has; absent: a snapshot as usual */
function sinceOf(query: unknown): number | undefined {
  const raw = (query as Query | undefined)?.since;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw))
    throw new DomainError('invalid', 'invalid_since', 'since: the seq of the last event received (0 or more)');
  return Number(raw);
}

/**
 * GET /api/alerts/stream (WebSocket): the live alert stream (protocol in docs/alerts-api.md). The token and
 * the filter are checked before the upgrade, so a bad one gets a plain HTTP 401/403/400 with `{ code,
 * message }` and no socket is opened.
 */
export const alertsStreamRoute =
  (deps: AlertsStreamDeps): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/api/alerts/stream',
      {
        websocket: true,
        config: allow('viewer'),
        preValidation: async (request) => {
          filterOf(request.query);
          sinceOf(request.query);
        },
        schema: {
          tags: ['alerts'],
          summary: 'Live alert stream (WebSocket): a snapshot of open alerts, then every alert event',
          description:
            'Token: ?token= (browsers) or Authorization: Bearer. Filters: kind, severity, district ' +
            '(comma-separated). since: the seq of the last event the client has; it gets the events after it ' +
            '(resume) instead of a snapshot, from any node of a cluster. ' +
            'Messages are documented in docs/alerts-api.md.',
        },
      },
      (socket, request) => {
        const principal = principalOf(request);
        const since = sinceOf(request.query);
        const id = deps.hub.attach(socket, {
          filter: filterOf(request.query),
          user: principal?.name,
          ...(since === undefined ? {} : { since }),
        });
        if (id === undefined || !principal || !deps.liveSessions) return;
        // 4401: the credential that opened this stream was revoked; the client must sign in again
        const unregister = deps.liveSessions.register({
          principal,
          channel: 'alert-stream',
          close: (reason) => socket.close(4401, reason),
        });
        socket.on('close', unregister);
      },
    );
  };

import type { FastifyPluginAsync } from 'fastify';
import { ZodError } from 'zod';
import { parseFilterQuery, type AlertFilter } from '../alerts/delivery/alert-filter.ts';
import type { AlertStreamHub } from '../alerts/delivery/alert-stream-hub.ts';
import { DomainError } from '../config/domain-error.ts';
import { principalOf, type AuthGuard } from './auth.ts';

export interface AlertsStreamDeps {
  hub: AlertStreamHub;
  guard: AuthGuard;
}

type Query = Record<string, string | string[] | undefined>;

function filterOf(query: unknown): AlertFilter {
  try {
    return parseFilterQuery((query ?? {}) as Query);
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    const issue = err.issues[0];
    throw new DomainError('invalid', 'invalid_filter', `${issue?.path.join('.') ?? 'filter'}: ${issue?.message ?? 'invalid'}`);
  }
}

/**
 * GET /api/alerts/stream (WebSocket): the live alert stream (protocol in docs/alerts-api.md). The token and
 * the filter are checked before the upgrade, so a bad one gets a plain HTTP 401/403/400 with `{ code,
 * message }` and no socket is opened.
 */
export const alertsStreamRoute = (deps: AlertsStreamDeps): FastifyPluginAsync => async (app) => {
  app.get('/api/alerts/stream', {
    websocket: true,
    preValidation: async (request) => {
      deps.guard.authenticate(request, 'operator');
      filterOf(request.query);
    },
    schema: {
      tags: ['alerts'],
      summary: 'Live alert stream (WebSocket): a snapshot of open alerts, then every alert event',
      description: 'Token: ?token= (browsers) or Authorization: Bearer. Filters: kind, severity, district (comma-separated). Messages are documented in docs/alerts-api.md.',
    },
  }, (socket, request) => {
    deps.hub.attach(socket, { filter: filterOf(request.query), user: principalOf(request)?.name });
  });
};

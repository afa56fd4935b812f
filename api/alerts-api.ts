import type { FastifyPluginAsync } from 'fastify';
import type { AlertService } from '../alerts/alert-service-api.ts';
import type { AlertDelivery } from '../alerts/delivery/alert-delivery.ts';
import type { City } from '../config/city-config.ts';
import type { Clock } from '../core/clock.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import { alertsCapRoutes } from './alerts-cap-routes.ts';
import { alertsRoutes, type AlertsRoutesDeps } from './alerts-routes.ts';
import { alertsStreamRoute } from './alerts-stream.ts';
import { webhooksRoutes } from './alerts-webhooks-routes.ts';
import type { AuthGuard } from './auth.ts';
import type { LiveSessionRegistry } from '../config/accounts/live-sessions.ts';
import { rulesRoutes } from './rules-routes.ts';
import type { AuditRecorder } from '../audit/audit-log.ts';

export interface AlertsApiDeps {
  alerts: AlertService;
  delivery: Pick<AlertDelivery, 'hub' | 'webhooks'> & Partial<Pick<AlertDelivery, 'webhookTargets'>>;
  store: TimeSeriesStore;
  city: City;
  guard: AuthGuard;
  /** live alert streams are registered here, so revoking a credential closes them */
  liveSessions?: LiveSessionRegistry;
  clock: Clock;
  readBarrier?: () => Promise<void>;
  cap: {
    sender?: string;
    contact?: string;
    windowHours?: number;
    maxEntries?: number;
    publicBaseUrl: string | (() => string);
  };
  audit?: AuditRecorder;
  workflow?: AlertsRoutesDeps['workflow'];
}

/** Every alert plugin for buildApp's `routes`: REST, rules, the WebSocket stream, CAP and webhook status. */
export function alertsApi(deps: AlertsApiDeps): FastifyPluginAsync[] {
  const { alerts, store, city, guard, clock } = deps;
  return [
    alertsStreamRoute({ hub: deps.delivery.hub, guard, liveSessions: deps.liveSessions }),
    alertsCapRoutes({ alerts, city, clock, ...deps.cap }),
    alertsRoutes({
      alerts,
      store,
      city,
      guard,
      clock,
      readBarrier: deps.readBarrier,
      audit: deps.audit,
      workflow: deps.workflow,
    }),
    rulesRoutes({ alerts, guard, audit: deps.audit }),
    webhooksRoutes({
      webhooks: deps.delivery.webhooks,
      guard,
      ...(deps.delivery.webhookTargets ? { targets: deps.delivery.webhookTargets } : {}),
      audit: deps.audit,
    }),
  ];
}

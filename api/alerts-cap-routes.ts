import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlertService } from '../alerts/alert-service-api.ts';
import { matchesFilter, SEVERITIES, splitList } from '../alerts/delivery/alert-filter.ts';
import { CANCEL_VISIBLE_MS, renderCapAtomFeed, selectPublicAlerts } from '../alerts/delivery/cap-feed.ts';
import { renderCapAlert, type CapContext } from '../alerts/delivery/cap-message.ts';
import type { City } from '../config/city-config.ts';
import type { Clock } from '../config/clock.ts';
import { DomainError } from '../config/domain-error.ts';
import { queryList } from './alerts-schemas.ts';
import { allow } from './auth.ts';
import { errorBody } from './errors.ts';

export interface AlertsCapRoutesDeps {
  alerts: AlertService;
  city: City;
  clock: Clock;
  /** CAP sender (default `ioc.<city id>`): unique to this platform, no spaces or commas */
  sender?: string;
  /**
   * public base URL for links in the feed (`public.baseUrl`, else the address the platform listens on):
   * never the request's Host header, which any caller chooses and a cache would then serve to everyone
   */
  publicBaseUrl: string | (() => string);
  /** CAP contact (`cap.contact`) */
  contact?: string;
  radiusKm?: number;
}

/** The feed's own filters, never anything else the caller put in the URL (a token, say). */
function feedQuery(query: Record<string, string | string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const key of ['kind', 'severity', 'district']) {
    const list = splitList(query[key]);
    if (list) params.set(key, list.join(','));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * The public CAP 1.2 feed for warning systems: no token, since its content is meant for the public
 * (operators' notes, who acknowledged, pending alerts and device faults never appear in it). Pollers get
 * an ETag and may send If-None-Match.
 */
export const alertsCapRoutes = (deps: AlertsCapRoutesDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const ctx: CapContext = { sender: deps.sender ?? `ioc.${deps.city.id}`, city: deps.city, radiusKm: deps.radiusKm, contact: deps.contact };
  const base = (): string => (typeof deps.publicBaseUrl === 'function' ? deps.publicBaseUrl() : deps.publicBaseUrl).replace(/\/$/, '');

  const candidates = async () => {
    const now = deps.clock.now();
    const resolved = await deps.alerts.list({ state: ['resolved'], from: now - CANCEL_VISIBLE_MS, limit: 1000 });
    return selectPublicAlerts([...deps.alerts.open(), ...resolved], now);
  };

  const sendXml = (request: FastifyRequest, reply: FastifyReply, type: string, xml: string) => {
    const etag = `"${createHash('sha256').update(xml).digest('base64url').slice(0, 27)}"`;
    reply.header('etag', etag).header('cache-control', 'public, max-age=30').type(type);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.send(xml);
  };

  api.get('/api/alerts/cap', {
    config: allow('public'),
    schema: {
      tags: ['alerts'],
      summary: 'CAP 1.2 feed (Atom) of public alerts, for public warning systems',
      description: 'One Atom entry per alert, the CAP <alert> inline and linked; alerts resolved within 24 h appear as Cancel. Filters: kind, severity, district. No token needed.',
      security: [],
      querystring: z.object({ kind: queryList, severity: queryList, district: queryList }),
      response: { 400: errorBody },
    },
  }, async (request, reply) => {
    const severity = splitList(request.query.severity);
    const unknown = severity?.find((s) => !(SEVERITIES as readonly string[]).includes(s));
    if (unknown) throw new DomainError('invalid', 'invalid_severity', `severity: unknown value "${unknown}"; use ${SEVERITIES.join(', ')}`);
    const filter = { kind: splitList(request.query.kind), severity: severity as typeof SEVERITIES[number][] | undefined, district: splitList(request.query.district) };
    const alerts = (await candidates()).filter((a) => matchesFilter(a, filter));
    const root = base();
    const xml = renderCapAtomFeed(alerts, ctx, {
      self: `${root}${request.url.split('?')[0]}${feedQuery(request.query)}`,
      alert: (id) => `${root}/api/alerts/cap/${encodeURIComponent(id)}`,
    }, deps.clock.now());
    return sendXml(request, reply, 'application/atom+xml; charset=utf-8', xml);
  });

  api.get('/api/alerts/cap/:id', {
    config: allow('public'),
    schema: {
      tags: ['alerts'],
      summary: 'One public alert as a standalone CAP 1.2 document',
      security: [],
      params: z.object({ id: z.string().min(1).max(128) }),
      response: { 404: errorBody },
    },
  }, async (request, reply) => {
    const alert = (await candidates()).find((a) => a.id === request.params.id);
    if (!alert) throw new DomainError('not_found', 'alert_not_found', `no public alert "${request.params.id}"`);
    return sendXml(request, reply, 'application/cap+xml; charset=utf-8', renderCapAlert(alert, ctx));
  });
};

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlertService } from '../alerts/alert-service-api.ts';
import { matchesFilter, SEVERITIES, splitList } from '../alerts/delivery/alert-filter.ts';
import { renderCapAtomFeed } from '../alerts/delivery/cap-feed.ts';
import { renderCapAlert, type CapContext } from '../alerts/delivery/cap-message.ts';
import type { City } from '../config/city-config.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/domain-error.ts';
import { queryList } from './alerts-schemas.ts';
import { allow } from './auth.ts';
import { errorBody } from './errors.ts';
import { createCapFeedCache, etagOf, type CapDocument } from './cap-feed-cache.ts';
import { answersNotModified } from './cap-conditional.ts';
import { pickEncoding } from './cap-encoding.ts';
import { feedQueryValidator } from './cap-feed-query.ts';
import { capHeaders } from './cap-headers.ts';

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
  /** only alerts updated within this many hours (cap.windowHours) */
  windowHours?: number;
  /** at most this many entries per page of the feed (cap.maxEntries); older ones are on the next pages */
  maxEntries?: number;
}

const MAX_REMEMBERED_URLS = 256;
/** when /api/alerts/cap/{id} gave way to /api/alerts/{id}/cap: an RFC 9745 Deprecation value (a Unix time) */
const DEPRECATED_SINCE = '@1796515200';
/** the canonical path of one alert's CAP document */
const capPathOf = (id: string) => `/api/alerts/${encodeURIComponent(id)}/cap`;

/** The feed's own filters (and page), never anything else the caller put in the URL (a token, say). */
function feedQuery(query: Record<string, string | string[] | number | undefined>, page = 1): string {
  const params = new URLSearchParams();
  for (const key of ['kind', 'severity', 'district']) {
    const list = splitList(query[key] as string | string[] | undefined);
    if (list) params.set(key, list.join(','));
  }
  if (page > 1) params.set('page', String(page));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * The public CAP 1.2 feed for warning systems: no token, since its content is meant for the public
 * (operators' notes, who acknowledged, pending alerts and device faults never appear in it). Pollers get
 * an ETag and a Last-Modified and may revalidate with If-None-Match or If-Modified-Since (304);
 * the documents are built once per change of alerts (api/cap-feed-cache.ts), bounded by a window of time
 * and a maximum count.
 */
export const alertsCapRoutes =
  (deps: AlertsCapRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const ctx: CapContext = {
      sender: deps.sender ?? `ioc.${deps.city.id}`,
      city: deps.city,
      radiusKm: deps.radiusKm,
      contact: deps.contact,
    };
    const base = (): string =>
      (typeof deps.publicBaseUrl === 'function' ? deps.publicBaseUrl() : deps.publicBaseUrl).replace(/\/$/, '');

    const cache = createCapFeedCache({
      alerts: deps.alerts,
      clock: deps.clock,
      windowMs: (deps.windowHours ?? 72) * 3_600_000,
      maxEntries: deps.maxEntries ?? 50,
    });
    app.addHook('onClose', async () => cache.close());
    /** request URL (as sent, query included) -> its document's key, for URLs that were answered 200 once */
    const selves = new Map<string, { root: string; self: string }>();

    // pollers keep their copy for a short while and then revalidate, which costs a hash comparison here
    // per request only a pick among bodies and headers made once per change: no rendering, hashing,
    // compressing or date formatting here (api/cap-encoding.ts, api/cap-headers.ts). HEAD gets the same
    // headers and no body (Fastify's HEAD route runs this handler and drops the payload).
    const sendXml = (request: FastifyRequest, reply: FastifyReply, type: string, doc: CapDocument) => {
      const coding = doc.variants ? pickEncoding(request.headers['accept-encoding']) : 'identity';
      const variant = coding === 'identity' ? doc : doc.variants![coding];
      const headers = capHeaders(doc, type, coding);
      if (answersNotModified(request.headers, { etag: variant.etag, lastModified: doc.lastModified }))
        return reply.code(304).headers(headers.notModified).send();
      return reply.headers(headers.full).send(variant.body);
    };

    api.get(
      '/api/alerts/cap',
      {
        config: allow('public'),
        validatorCompiler: feedQueryValidator, // the zod schema below documents; api/cap-feed-query.ts checks
        schema: {
          tags: ['alerts'],
          summary: 'CAP 1.2 feed (Atom) of public alerts, for public warning systems',
          description:
            'One Atom entry per alert, the CAP <alert> inline and linked; alerts resolved within 24 h appear ' +
            'as Cancel. Filters: kind, severity, district. At most cap.maxEntries entries per page, newest ' +
            'first; older ones are on the pages the feed links (RFC ' +
            '5005: first, next, previous, last). No token needed.',
          security: [],
          querystring: z.object({
            kind: queryList,
            severity: queryList,
            district: queryList,
            page: z.coerce
              .number()
              .int()
              .min(1)
              .max(10_000)
              .optional()
              .describe('older entries: the feed links its pages (RFC 5005 first, next, previous, last)'),
          }),
          response: { 400: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        // a poller repeats the same URL: once its document is built, the answer needs no parsing at all
        const root = base();
        const known = selves.get(request.url);
        const hit = known?.root === root ? cache.peek(known.self) : undefined;
        if (hit) return sendXml(request, reply, 'application/atom+xml; charset=utf-8', hit);
        const severity = splitList(request.query.severity);
        const unknown = severity?.find((s) => !(SEVERITIES as readonly string[]).includes(s));
        if (unknown)
          throw new DomainError(
            'invalid',
            'invalid_severity',
            `severity: unknown value "${unknown}"; use ${SEVERITIES.join(', ')}`,
          );
        const filter = {
          kind: splitList(request.query.kind),
          severity: severity as (typeof SEVERITIES)[number][] | undefined,
          district: splitList(request.query.district),
        };
        const page = request.query.page ?? 1;
        const pageUrl = (n: number) => `${root}/api/alerts/cap${feedQuery(request.query, n)}`;
        const self = pageUrl(page);
        const doc = await cache.document(
          self,
          (alerts, now, paging) =>
            renderCapAtomFeed(
              alerts,
              ctx,
              {
                self,
                alert: (id) => `${root}${capPathOf(id)}`,
                // an entry's atom:id never changes (RFC 4287 4.2.6): it stays on the URL the feed first gave
                entryId: (id) => `${root}/api/alerts/cap/${encodeURIComponent(id)}`,
                pages: {
                  first: pageUrl(1),
                  last: pageUrl(paging.pages),
                  ...(paging.page < paging.pages ? { next: pageUrl(paging.page + 1) } : {}),
                  ...(paging.page > 1 ? { previous: pageUrl(paging.page - 1) } : {}),
                },
              },
              now,
            ),
          { filter: (a) => matchesFilter(a, filter), page },
        );
        if (!doc) throw new DomainError('not_found', 'page_not_found', `the feed has no page ${page}`);
        if (selves.size >= MAX_REMEMBERED_URLS) selves.clear(); // callers choose URLs: bounded
        selves.set(request.url, { root, self });
        return sendXml(request, reply, 'application/atom+xml; charset=utf-8', doc);
      },
    );

    /** one public alert as a standalone CAP document */
    const capOfAlert = async (id: string, request: FastifyRequest, reply: FastifyReply) => {
      const alert = (await cache.selection()).find((a) => a.id === id);
      if (!alert) throw new DomainError('not_found', 'alert_not_found', `no public alert "${id}"`);
      // one alert renders in microseconds; only the selection it comes from needs the cache
      const body = renderCapAlert(alert, ctx);
      return sendXml(request, reply, 'application/cap+xml; charset=utf-8', {
        body,
        etag: etagOf(body),
        lastModified: Math.floor(alert.updatedAt / 1000) * 1000,
      });
    };
    const oneAlertSchema = {
      tags: ['alerts'],
      summary: 'One public alert as a standalone CAP 1.2 document',
      security: [],
      params: z.object({ id: z.string().min(1).max(128) }),
      response: { 404: errorBody },
    };

    // a sub-resource of the alert, beside /ack and /resolve: /api/alerts/cap/{id} beside /api/alerts/{id}/ack
    // was ambiguous (a path matching both templates), so that old path is now a hidden, deprecated alias
    api.get('/api/alerts/:id/cap', { config: allow('public'), schema: oneAlertSchema }, (request, reply) =>
      capOfAlert(request.params.id, request, reply),
    );
    api.get(
      '/api/alerts/cap/:id',
      { config: allow('public'), schema: { ...oneAlertSchema, hide: true } },
      async (request, reply) => {
        // RFC 9745 (deprecated since 2026-12-06) and RFC 5829: pollers that read headers learn the new address
        reply.header('deprecation', DEPRECATED_SINCE);
        reply.header('link', `<${base()}${capPathOf(request.params.id)}>; rel="successor-version"`);
        return capOfAlert(request.params.id, request, reply);
      },
    );
  };

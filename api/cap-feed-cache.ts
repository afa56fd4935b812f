import { createHash } from 'node:crypto';
import type { Alert, AlertEvent } from '../alerts/alert-model.ts';
import type { AlertService } from '../alerts/alert-service-api.ts';
import { CANCEL_VISIBLE_MS, changesPublicFeed, selectPublicAlerts } from '../alerts/delivery/cap-feed.ts';
import type { Clock } from '../core/clock.ts';
import { encodeVariants } from './cap-encoding.ts';

/**
 * The public CAP feed is polled by warning systems far more often than alerts change (the issue measured
 * 0.4-0.57 s and ~4.5 MB per request, three pollers raising device PUBACK p90 from 3 ms to 755 ms). So the
 * selection and each rendered document are built once per change of alerts (a version counter bumped by
 * every lifecycle event that can change the public feed) and served from memory until then, with a strong
 * ETag and a Last-Modified.
 * Nothing here knows HTTP: api/alerts-cap-routes.ts is the glue.
 */
export interface CapDocument {
  /** encoded once: a string body would be encoded to UTF-8 again on every request */
  readonly body: Buffer | string;
  /** strong validator: a hash of the body */
  readonly etag: string;
  /** epoch ms, whole seconds (HTTP dates have no milliseconds): when this body first appeared */
  readonly lastModified: number;
  /** the same as an HTTP date, formatted once */
  readonly lastModifiedHttp?: string;
  /** br and gzip forms with their own ETags, made once per change (api/cap-encoding.ts) */
  readonly variants?: { readonly br: CapVariant; readonly gzip: CapVariant };
}

export interface CapVariant {
  readonly body: Buffer;
  readonly etag: string;
}

/** which page of the feed a document is (1: the newest entries), of how many */
export interface CapPaging {
  readonly page: number;
  readonly pages: number;
}

export interface CapFeedCacheDeps {
  alerts: Pick<AlertService, 'bus' | 'open' | 'list'>;
  clock: Clock;
  /** only alerts updated within this window appear (cap.windowHours) */
  windowMs: number;
  /** at most this many entries per document (cap.maxEntries), newest first */
  maxEntries: number;
  /** distinct documents (filter combinations) kept; callers choose filters, so this is bounded */
  maxDocuments?: number;
}

export interface CapFeedCache {
  /** the public alerts in the window, newest first, unbounded by maxEntries (filters apply first) */
  selection(): Promise<readonly Alert[]>;
  /**
   * The document for `key`, built by `render` from the selection only when alerts changed since: page
   * `page` (default 1) of the filtered selection cut in pages of maxEntries; undefined past the last page
   * (not cached, so callers cannot fill the cache with pages that do not exist).
   */
  document(
    key: string,
    render: (alerts: readonly Alert[], now: number, paging: CapPaging) => string,
    options?: { filter?: (a: Alert) => boolean; page?: number },
  ): Promise<CapDocument | undefined>;
  /** the document for `key` if one is built and still current (a hit), else undefined; never builds */
  peek(key: string): CapDocument | undefined;
  readonly maxEntries: number;
  /** counts of documents built and served from memory, for /metrics and the benchmark */
  stats(): { builds: number; hits: number };
  close(): void;
}

interface Built<T> {
  version: number;
  expiresAt: number;
  value: T;
}

export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

export function createCapFeedCache(deps: CapFeedCacheDeps): CapFeedCache {
  const maxDocuments = deps.maxDocuments ?? 64;
  let version = 0;
  /** ids in the last selection built; undefined while none is settled (then every event counts) */
  let shown: ReadonlySet<string> | undefined;
  // only events that can change what the public sees: the others would re-render an identical feed. An
  // alert the feed shows counts whatever its new state (a rule edit may make it internal, say).
  const bump = (event: AlertEvent): void => {
    if (shown && !shown.has(event.alert.id) && !changesPublicFeed(event.alert)) return;
    version += 1;
    shown = undefined;
  };
  deps.alerts.bus.on('alert', bump);
  let selected: Built<Promise<readonly Alert[]>> | undefined;
  const documents = new Map<string, Built<CapDocument>>();
  const building = new Map<string, { version: number; value: Promise<CapDocument | undefined> }>();
  let builds = 0;
  let hits = 0;

  const fresh = (b: Built<unknown> | undefined, now: number): boolean =>
    b !== undefined && b.version === version && now < b.expiresAt;

  /** the moment the first alert of the selection leaves it with no event: out of the window, or its Cancel expires */
  const leavesAt = (alerts: readonly Alert[]): number => {
    let at = Number.POSITIVE_INFINITY;
    for (const a of alerts) {
      at = Math.min(at, a.updatedAt + deps.windowMs);
      if (a.state === 'resolved') at = Math.min(at, (a.resolvedAt ?? a.updatedAt) + CANCEL_VISIBLE_MS);
    }
    return at;
  };

  const selection = (): Promise<readonly Alert[]> => {
    const now = deps.clock.now();
    if (selected && fresh(selected, now)) return selected.value;
    const at = version;
    const from = now - Math.min(deps.windowMs, CANCEL_VISIBLE_MS);
    const value = (async () => {
      const resolved = await deps.alerts.list({ state: ['resolved'], from, limit: 1000 });
      return selectPublicAlerts([...deps.alerts.open(), ...resolved], now).filter(
        (a) => now - a.updatedAt <= deps.windowMs,
      );
    })();
    // the expiry is known once the selection is: until then concurrent callers share this one build
    const entry: Built<Promise<readonly Alert[]>> = { version: at, expiresAt: Number.POSITIVE_INFINITY, value };
    selected = entry;
    value.then(
      (alerts) => {
        entry.expiresAt = leavesAt(alerts);
        if (entry.version === version) shown = new Set(alerts.map((a) => a.id));
      },
      () => {
        if (selected === entry) selected = undefined;
      },
    );
    return value;
  };

  return {
    maxEntries: deps.maxEntries,
    selection,
    peek(key) {
      const cached = documents.get(key);
      if (!cached || !fresh(cached, deps.clock.now())) return undefined;
      hits += 1;
      return cached.value;
    },
    async document(key, render, options = {}) {
      const now = deps.clock.now();
      const cached = documents.get(key);
      if (cached && fresh(cached, now)) {
        hits += 1;
        documents.delete(key);
        documents.set(key, cached); // most recently used last
        return cached.value;
      }
      // pollers arriving while this key is being built (compression awaits the thread pool) share it
      const inFlight = building.get(key);
      if (inFlight && inFlight.version === version) return inFlight.value;
      const at = version;
      const value = (async (): Promise<CapDocument | undefined> => {
        const all = await selection();
        const matching = options.filter ? all.filter(options.filter) : all;
        const pages = Math.max(1, Math.ceil(matching.length / deps.maxEntries));
        const page = options.page ?? 1;
        if (page > pages) return undefined;
        const alerts = matching.slice((page - 1) * deps.maxEntries, page * deps.maxEntries);
        const body = render(alerts, now, { page, pages });
        const etag = etagOf(body);
        builds += 1;
        // an event that changed nothing public (a pending alert, a device fault) keeps the old date
        const lastModified = cached?.value.etag === etag ? cached.value.lastModified : Math.floor(now / 1000) * 1000;
        const bytes = Buffer.from(body, 'utf8');
        const encoded = await encodeVariants(bytes);
        const tagged = (suffix: string) => `${etag.slice(0, -1)}-${suffix}"`;
        const doc: CapDocument = {
          body: bytes,
          etag,
          lastModified,
          lastModifiedHttp: new Date(lastModified).toUTCString(),
          variants: { br: { body: encoded.br, etag: tagged('br') }, gzip: { body: encoded.gzip, etag: tagged('gz') } },
        };
        documents.delete(key);
        // any alert of the filtered selection leaving shifts this page or changes the number of pages
        documents.set(key, { version: at, expiresAt: leavesAt(matching), value: doc });
        while (documents.size > maxDocuments) documents.delete(documents.keys().next().value as string);
        return doc;
      })();
      const entry = { version: at, value };
      building.set(key, entry);
      const done = () => {
        if (building.get(key) === entry) building.delete(key);
      };
      value.then(done, done);
      return value;
    },
    stats: () => ({ builds, hits }),
    close() {
      deps.alerts.bus.off('alert', bump);
    },
  };
}

import type { FastifyRouteSchemaDef, FastifySchemaValidationError } from 'fastify/types/schema.js';

/**
 * The CAP feed's querystring (kind, severity, district: text or repeated text) checked by hand: zod took
 * about 0.3 ms per request on a route that pollers hit many times a second and whose answer is otherwise
 * a lookup. The zod schema stays on the route for the OpenAPI document; this replaces only its check.
 */
export interface FeedQuery {
  kind?: string | string[];
  severity?: string | string[];
  district?: string | string[];
  /** 1 (the newest entries) to MAX_PAGE */
  page?: number;
}

export const MAX_PAGE = 10_000;

const KEYS = ['kind', 'severity', 'district'] as const;

type Checked = { value: FeedQuery } | { error: Error & { validation: FastifySchemaValidationError[] } };

const refuse = (key: string, message: string): Checked => ({
  error: Object.assign(new Error(`querystring/${key} ${message}`), {
    validation: [{ keyword: 'type', instancePath: `/${key}`, schemaPath: '', params: {}, message }],
  }),
});

export function checkFeedQuery(data: unknown): Checked {
  const query = (data ?? {}) as Record<string, unknown>;
  const value: FeedQuery = {};
  for (const key of KEYS) {
    const v = query[key];
    if (v === undefined) continue;
    if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
      value[key] = v as string | string[];
      continue;
    }
    return refuse(key, 'expected text or repeated text');
  }
  const page = query.page;
  if (page !== undefined) {
    // digits only: "1e3", " 2", "0x10" and repeated pages are refused rather than guessed at
    if (typeof page !== 'string' || !/^[0-9]{1,5}$/.test(page) || Number(page) < 1 || Number(page) > MAX_PAGE)
      return refuse('page', `expected a whole number from 1 to ${MAX_PAGE}`);
    value.page = Number(page);
  }
  return { value };
}

/** for a route's `validatorCompiler`: the feed route has only a querystring to check */
export const feedQueryValidator = (_: FastifyRouteSchemaDef<unknown>) => checkFeedQuery;

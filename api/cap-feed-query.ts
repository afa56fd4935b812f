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
}

const KEYS = ['kind', 'severity', 'district'] as const;

type Checked = { value: FeedQuery } | { error: Error & { validation: FastifySchemaValidationError[] } };

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
    const message = 'expected text or repeated text';
    const error = Object.assign(new Error(`querystring/${key} ${message}`), {
      validation: [{ keyword: 'type', instancePath: `/${key}`, schemaPath: '', params: {}, message }],
    });
    return { error };
  }
  return { value };
}

/** for a route's `validatorCompiler`: the feed route has only a querystring to check */
export const feedQueryValidator = (_: FastifyRouteSchemaDef<unknown>) => checkFeedQuery;

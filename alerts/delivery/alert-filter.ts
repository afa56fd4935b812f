import { z } from 'zod';
import type { Alert, Severity } from '../alert-model.ts';

/** Lowest first; the order is FIWARE Alert's. */
export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const satisfies readonly Severity[];

const nonEmpty = z.string().trim().min(1);

/**
 * What a subscriber (WebSocket client, webhook target) wants to receive. Each list is "any of"; the lists
 * combine with "and"; an absent or empty list means "all".
 */
export const alertFilterSchema = z
  .object({
    kind: z.array(nonEmpty).max(50).optional(),
    severity: z.array(z.enum(SEVERITIES)).max(SEVERITIES.length).optional(),
    district: z.array(nonEmpty).max(200).optional(),
  })
  .strict();

export type AlertFilter = z.infer<typeof alertFilterSchema>;

// District names are Vietnamese; a client may send them decomposed (NFD), the config holds them composed.
const norm = (s: string): string => s.normalize('NFC');

export function matchesFilter(alert: Pick<Alert, 'kind' | 'severity' | 'district'>, filter: AlertFilter): boolean {
  if (filter.kind?.length && !filter.kind.includes(alert.kind)) return false;
  if (filter.severity?.length && !filter.severity.includes(alert.severity)) return false;
  if (filter.district?.length) {
    const district = norm(alert.district);
    if (!filter.district.some((d) => norm(d) === district)) return false;
  }
  return true;
}

/** A query-string value: repeated (`?kind=air&kind=water`) or comma-separated (`?kind=air,water`). */
export function splitList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (typeof value === 'string' ? [value] : value).flatMap((v) => v.split(','));
  const list = parts.map((p) => p.trim()).filter((p) => p.length > 0);
  return list.length ? list : undefined;
}

/** Builds a filter from query parameters; throws a ZodError naming the bad field. */
export function parseFilterQuery(query: Readonly<Record<string, string | readonly string[] | undefined>>): AlertFilter {
  return alertFilterSchema.parse({
    kind: splitList(query.kind),
    severity: splitList(query.severity),
    district: splitList(query.district),
  });
}

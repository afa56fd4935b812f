import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { AlertEvent } from '../alert-model.ts';
import { alertFilterSchema, matchesFilter } from './alert-filter.ts';

export const ALERT_EVENT_TYPES = ['pending', 'firing', 'updated', 'acknowledged', 'resolved'] as const satisfies readonly AlertEvent['type'][];

/** One receiver of alert events, from the platform config (`webhooks:`). */
export const webhookTargetSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lower-case letters, digits, "_", "-" or "." (at most 64)'),
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  /** The receiver checks X-IOC-Signature with it; never shown by the API. */
  secret: z.string().min(16, 'use a secret of at least 16 characters'),
  filter: alertFilterSchema.default({}),
  /** Which lifecycle events to send (default: all of them). */
  events: z.array(z.enum(ALERT_EVENT_TYPES)).min(1).optional(),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
}).strict();

export type WebhookTarget = z.output<typeof webhookTargetSchema>;
export type WebhookTargetInput = z.input<typeof webhookTargetSchema>;

export function targetWants(target: WebhookTarget, event: AlertEvent): boolean {
  if (target.events && !target.events.includes(event.type)) return false;
  return matchesFilter(event.alert, target.filter);
}

/** The URL without credentials or query string (either may carry a token), for logs and the status API. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`: the body carries the timestamp, so it is signed too. */
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers (and tests): constant-time comparison of X-IOC-Signature against the raw body. */
export function verifyWebhookSignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

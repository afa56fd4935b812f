import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AlertEvent } from '../alert-model.ts';
import type { WebhookTarget } from '../../config/webhook-config.ts';
import { matchesFilter } from './alert-filter.ts';

export const ALERT_EVENT_TYPES = [
  'pending',
  'firing',
  'updated',
  'acknowledged',
  'workflow',
  'resolved',
] as const satisfies readonly AlertEvent['type'][];

export { webhookTargetSchema, type WebhookTarget, type WebhookTargetInput } from '../../config/webhook-config.ts';

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

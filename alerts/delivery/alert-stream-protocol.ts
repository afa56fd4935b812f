import { z } from 'zod';
import type { Alert, AlertEvent } from '../alert-model.ts';
import { alertFilterSchema } from './alert-filter.ts';

/**
 * The alert stream protocol (docs/alerts-api.md): JSON text frames. The server sends one snapshot of the
 * open alerts that match the client's filter, then every matching event in seq order: `event` with one,
 * or `events` with several raised together (in seq order).
 */
export type ServerMessage =
  | { type: 'snapshot'; seq: number; alerts: Alert[] }
  /** instead of a snapshot when the client asked `?since=` and every event after it was still held */
  | { type: 'resume'; since: number; seq: number; events: AlertEvent[] }
  | { type: 'event'; event: AlertEvent }
  | { type: 'events'; events: AlertEvent[] }
  | { type: 'pong'; ts: number }
  | { type: 'error'; code: string; message: string };

/** The events a server message carries, in order: none, one (`event`) or several (`events`). */
export function eventsOf(message: ServerMessage): AlertEvent[] {
  if (message.type === 'event') return [message.event];
  return message.type === 'events' || message.type === 'resume' ? message.events : [];
}

/** What a client may send: change its filter (a fresh snapshot follows) or ask for an app-level pong. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), filter: alertFilterSchema }).strict(),
  z.object({ type: z.literal('ping') }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Close codes in the private range 4000-4999, beside the standard ones the hub uses. */
export const CLOSE_CODES = {
  goingAway: 1001,
  policyViolation: 1008,
  tryAgainLater: 1013,
  slowConsumer: 4008,
} as const;

/** Client messages are tiny; anything larger is not a message of this protocol. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

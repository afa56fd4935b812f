import { z } from 'zod';
import type { Rejection, RejectionCode } from '../ingest/rejection.ts';

/**
 * How HTTP ingestion answers an ingest outcome, so a client can branch on the status alone:
 * - 200 everything sent was accepted (the body still counts it: a gateway logs the number);
 * - 207 part was accepted: the body lists each refused item with the MQTT errors topic's code;
 * - 400 nothing was accepted because the request itself is unusable (topic, JSON, SenML shape);
 * - 413 the payload is over `mqtt.maxPayloadBytes`;
 * - 422 nothing was accepted: the request was well-formed but every reading (or the status, or the
 *   event) failed validation, or the sensor is unknown to the platform;
 * - 429 nothing was accepted because the device is over its message budget (`rate_limited`, as on MQTT).
 * 200 and not 204 on success: 204 carries no body, and the accepted count is what gateways log.
 */
export const rejectionOut = z.object({
  code: z.string(),
  message: z.string(),
  index: z.number().optional(),
  metric: z.string().optional(),
});

export const ingestAccepted = z.object({ accepted: z.number(), rejected: z.array(rejectionOut) });
/** nothing accepted: the API's error shape (`code`, `message`: the first refusal) plus every refusal */
export const ingestRefused = z.object({
  code: z.string(),
  message: z.string(),
  accepted: z.literal(0),
  rejected: z.array(rejectionOut),
});

/** Refusals that say the request cannot be read at all, rather than that its content is invalid. */
const UNREADABLE: ReadonlySet<RejectionCode> = new Set<RejectionCode>(['topic_invalid', 'malformed_payload']);

export type IngestAnswer =
  | { readonly status: 200 | 207; readonly body: z.infer<typeof ingestAccepted> }
  | { readonly status: 400 | 413 | 422 | 429; readonly body: z.infer<typeof ingestRefused> };

export function answerIngest(outcome: {
  readonly accepted: number;
  readonly rejected: readonly Rejection[];
}): IngestAnswer {
  const rejected = outcome.rejected.map((r) => ({ ...r }));
  if (outcome.accepted > 0)
    return { status: rejected.length ? 207 : 200, body: { accepted: outcome.accepted, rejected } };
  const first = rejected[0] ?? { code: 'no_metrics', message: 'the request holds nothing to ingest' };
  const status =
    first.code === 'payload_too_large'
      ? 413
      : first.code === 'rate_limited'
        ? 429
        : UNREADABLE.has(first.code as RejectionCode)
          ? 400
          : 422;
  return { status, body: { code: first.code, message: first.message, accepted: 0, rejected } };
}

import type { RejectionCode } from '../ingest/rejection.ts';

/**
 * The adapter seam for MQTT 5 (issue 14 item 2; docs/mqtt5.md says why it is not adopted yet).
 *
 * Aedes 1.x speaks MQTT 3.1 (protocol level 3) and 3.1.1 (4) and answers any other CONNECT with return
 * code 1, "unacceptable protocol version". The broker decides here, in `preConnect`, before Aedes does,
 * so that every such refusal is logged with its reason and counted; Aedes still writes the CONNACK, so
 * the bytes on the wire are what they were. Adopting aedes 2 means adding 5 to `ACCEPTED`, and the
 * publish gate then refusing an MQTT 5 client's publish with `mqtt5ReasonFor` instead of closing the
 * connection (see broker/README.md, "MQTT 5").
 */
export const ACCEPTED_PROTOCOL_VERSIONS: ReadonlySet<number> = new Set([3, 4]);

const NAMES: Record<number, string> = { 3: 'MQTT 3.1', 4: 'MQTT 3.1.1', 5: 'MQTT 5.0' };

/** Why a CONNECT of this protocol level is refused, or undefined when it is accepted. */
export function protocolVersionProblem(version: number): string | undefined {
  if (ACCEPTED_PROTOCOL_VERSIONS.has(version)) return undefined;
  const name = NAMES[version] ?? `protocol level ${version}`;
  if (version === 5)
    return (
      `${name} is not accepted yet (the broker speaks MQTT ` +
      '3.1.1; see docs/mqtt5.md): connect with protocol version 4'
    );
  return `${name} is not an MQTT version this broker speaks: connect with protocol version 4 (MQTT 3.1.1)`;
}

/** MQTT 5 reason codes a refused PUBLISH would be acknowledged with (PUBACK/PUBREC, MQTT 5.0 §3.4.2.1). */
export const Mqtt5Reason = {
  success: 0x00,
  noMatchingSubscribers: 0x10,
  unspecifiedError: 0x80,
  implementationSpecificError: 0x83,
  notAuthorized: 0x87,
  topicNameInvalid: 0x90,
  quotaExceeded: 0x97,
  payloadFormatInvalid: 0x99,
} as const;
export type Mqtt5ReasonCode = (typeof Mqtt5Reason)[keyof typeof Mqtt5Reason];

/**
 * The reason code for a publish refused with this rejection: what an MQTT 5 client would get in its
 * PUBACK, with the rejection's message as the reason string (3.1.1 clients keep the errors topic).
 */
export function mqtt5ReasonFor(code: RejectionCode | 'topic_shape' | 'publish_acl' | 'abusive'): Mqtt5ReasonCode {
  switch (code) {
    case 'rate_limited':
    case 'abusive':
    case 'too_many_readings':
      return Mqtt5Reason.quotaExceeded;
    case 'publish_acl':
    case 'retain_not_allowed':
    case 'unknown_sensor':
    case 'kind_mismatch':
      return Mqtt5Reason.notAuthorized;
    case 'topic_shape':
    case 'topic_invalid':
    case 'unknown_kind':
      return Mqtt5Reason.topicNameInvalid;
    default:
      // 0x95 "packet too large" is a DISCONNECT/CONNACK code: a PUBACK refusing a payload over
      // mqtt.maxPayloadBytes says 0x99 too, with the limit in its reason string
      // every other rejection is about the content of the payload (JSON, SenML, values, timestamps)
      return Mqtt5Reason.payloadFormatInvalid;
  }
}

import type { Client } from 'aedes';
import type { RejectionCode } from '../ingest/rejection.ts';

/**
 * The adapter seam for MQTT 5 (issue 14 item 2; docs/mqtt5.md says why it is not adopted yet).
 *
 * Aedes 1.x speaks MQTT 3.1 (protocol level 3) and 3.1.1 (4) and answers any other CONNECT with return
 * code 1, "unacceptable protocol version". The broker decides here, in `preConnect`, before Aedes does,
 * so that every such refusal is logged with its reason and counted; Aedes still writes the CONNACK, so
 * the bytes on the wire are what they were. The publish gate already refuses an MQTT 5 client's publish
 * with `mqtt5PublishRefusal` instead of closing the connection, so adopting an Aedes that speaks MQTT 5
 * means adding 5 to `ACCEPTED` (see docs/mqtt5.md, "The adapter seam", for what that Aedes must do).
 */
export const ACCEPTED_PROTOCOL_VERSIONS: ReadonlySet<number> = new Set([3, 4]);

const NAMES: Record<number, string> = { 3: 'MQTT 3.1', 4: 'MQTT 3.1.1', 5: 'MQTT 5.0' };

/** Why a CONNECT of this protocol level is refused, or undefined when it is accepted (undefined: unreadable). */
export function protocolVersionProblem(version: number | undefined): string | undefined {
  if (version !== undefined && ACCEPTED_PROTOCOL_VERSIONS.has(version)) return undefined;
  const name = version === undefined ? 'a protocol level' : (NAMES[version] ?? `protocol level ${version}`);
  if (version === 5)
    return (
      `${name} is not accepted yet (the broker speaks MQTT ` +
      '3.1.1; see docs/mqtt5.md): connect with protocol version 4'
    );
  return `${name} is not an MQTT version this broker speaks: connect with protocol version 4 (MQTT 3.1.1)`;
}

/** What a CONNECT refused by the MQTT parser said of its protocol, before the parser stopped reading it. */
export interface UnparsedConnect {
  /** the level byte (the bridge flag, 0x80, taken off), undefined if it could not be read */
  readonly protocolVersion: number | undefined;
  readonly protocolId: string | undefined;
}

/**
 * A CONNECT of a level other than 3, 4 and 5 never reaches `preConnect`: mqtt-packet, Aedes' parser, fails it
 * with "Invalid protocol version" and Aedes reports a connection error and closes the socket, with no CONNACK
 * (it has destroyed the socket before it tells anyone). So that such a client is refused like a level-5 one
 * (logged with the reason, counted), `create-broker.ts` asks this of every client and connection error. The
 * level is read from the packet the parser was building: the error is emitted synchronously, before the parser
 * starts another packet. The clientId and username come after that byte and were never read.
 */
export function unparsedConnect(client: Client, err: Error): UnparsedConnect | undefined {
  if (err.message !== 'Invalid protocol version') return undefined;
  const packet = (client as unknown as { _parser?: { packet?: { protocolVersion?: unknown; protocolId?: unknown } } })
    ._parser?.packet;
  const level = packet?.protocolVersion;
  const id = packet?.protocolId;
  return {
    protocolVersion: typeof level === 'number' ? level : undefined,
    protocolId: typeof id === 'string' ? id : undefined,
  };
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

/** why a publish is refused: an ingest rejection, or one of the publish gate's own refusals */
export type PublishRefusalCode = RejectionCode | 'topic_shape' | 'publish_acl' | 'abusive';

/**
 * The reason code for a publish refused with this rejection: what an MQTT 5 client would get in its
 * PUBACK, with the rejection's message as the reason string (3.1.1 clients keep the errors topic).
 */
export function mqtt5ReasonFor(code: PublishRefusalCode): Mqtt5ReasonCode {
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

/** The error `authorizePublish` calls back with to refuse one publish of an MQTT 5 client. */
export interface Mqtt5PublishRefusal extends Error {
  readonly reasonCode: Mqtt5ReasonCode;
}

/**
 * How the publish gate refuses one publish of a client with `client.version === 5`: an error carrying the
 * PUBACK (PUBREC) reason code and, as its message, the reason string. Never built on aedes 1, which refuses
 * MQTT 5 at CONNECT; an Aedes speaking MQTT 5 answers it with that acknowledgement and keeps the connection,
 * where a 3.1.1 client is disconnected or acknowledged bare (docs/mqtt5.md, "The adapter seam").
 */
export function mqtt5PublishRefusal(code: PublishRefusalCode, reason: string): Mqtt5PublishRefusal {
  return Object.assign(new Error(reason), { reasonCode: mqtt5ReasonFor(code) });
}

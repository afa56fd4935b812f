import type { Client, PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Principal } from '../config/credentials.ts';
import type { LimitsConfig } from '../config/limits-config.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import type { DialectOutcome, MqttDialects } from '../ingest/mqtt-dialects.ts';
import { isRejection, parseDeviceTopic } from '../ingest/parse-topic.ts';
import { reject, type Rejection } from '../ingest/rejection.ts';
import { DomainError } from '../core/domain-error.ts';
import { mqtt5PublishRefusal, type PublishRefusalCode } from './protocol-versions.ts';
import type { PublishRateLimiter } from './publish-rate-limiter.ts';
import type { RefusalLog } from './refusal-log.ts';
import { mayPublish, type PublishDecision } from './topic-acl.ts';
import { printableTopic, topicProblem } from './topic-shape.ts';

/**
 * Aedes' authorizePublish for every client publish: topic shape, ACL, the device's rate, then ingest.
 * Calling back with an error closes the connection (MQTT 3.1.1 cannot refuse one publish); calling back
 * with null acknowledges it and lets Aedes forward (and retain) it, unless `drop` marked it: a refused
 * device message is acknowledged, so the device does not resend it forever, but neither stored,
 * forwarded nor retained, and the device is told why on its errors topic.
 */
export interface PublishGateDeps {
  insecure: boolean;
  limits: LimitsConfig;
  ingest: IngestService;
  /** ChirpStack, Frigate...: what integration accounts publish (ingest/mqtt-dialects.ts) */
  dialects?: MqttDialects;
  principals: WeakMap<Client, Principal>;
  kindOf(sensorId: string): string | undefined;
  rate: PublishRateLimiter;
  refusals: RefusalLog;
  denied: Counter<'action'>;
  logger: Logger;
  now(): number;
  /** holds a publish over its budget: runs `then` after `ms` (the injected clock) */
  hold(ms: number, then: () => void): void;
  /** a client just disconnected as abusive: its account (and address) is refused at CONNECT for a while */
  penalize(client: Client, principal: Principal): void;
  /** marks a packet as refused: acknowledged but never published (see create-broker.ts) */
  drop(packet: PublishPacket): void;
  publishErrors(
    principal: Principal | undefined,
    topic: string,
    rejected: readonly Rejection[],
    accepted?: number,
  ): Promise<void>;
}

type Done = (error?: Error | null) => void;

/** A connection's last topic that passed the shape checks, and the ACL's decision for it (device accounts). */
interface TopicVerdict {
  readonly topic: string;
  decided: { principal: Principal; retain: boolean; kind: string | undefined; decision: PublishDecision } | undefined;
}

export function createPublishGate(
  deps: PublishGateDeps,
): (client: Client | null, packet: PublishPacket, done: Done) => void {
  const { limits, refusals, logger } = deps;
  // when each device was last told it is over its rate: once a second is enough to explain, more is a flood
  const lastToldRate = new Map<string, number>();
  /**
   * A device publishes to the same topic all day: the last topic of each connection whose shape passed, and the
   * ACL's decision for it. The decision is a function of the account, the topic, the retain flag and the
   * sensor's registered kind, so it is reused only while all four are the same (the kind is looked up each
   * time: a registry change is seen at the next publish). Integration accounts are not cached: their roots
   * change at run time.
   */
  const lastTopic = new WeakMap<Client, TopicVerdict>();

  /**
   * MQTT 5 (docs/mqtt5.md): a client of version 5 is refused one publish with a PUBACK reason code and a reason
   * string (`mqtt5PublishRefusal`), where a 3.1.1 client is disconnected (`deny`) or acknowledged bare (the rest).
   * No such client gets here while `ACCEPTED_PROTOCOL_VERSIONS` (protocol-versions.ts) lacks 5.
   */
  const refusedAck = (client: Client | null, code: PublishRefusalCode, reason: string): Error | null =>
    client?.version === 5 ? mqtt5PublishRefusal(code, reason) : null;

  const deny = (
    principal: Principal,
    client: Client,
    reason: string,
    code: 'topic_shape' | 'publish_acl' | 'abusive',
    topic: string,
    done: Done,
  ): void => {
    deps.denied.inc({ action: 'publish' });
    refusals.refuse(code, principal.name, reason, { clientId: client.id.slice(0, 64), topic: printableTopic(topic) });
    if (client.version !== 5) {
      done(new Error(reason));
      return;
    }
    // MQTT 5: this publish is refused and the connection stays, unless the client is abusive
    done(mqtt5PublishRefusal(code, reason));
    if (code === 'abusive') client.close();
  };

  const explain = (
    client: Client,
    principal: Principal,
    packet: PublishPacket,
    rejection: Rejection,
    done: Done,
  ): void => {
    deps.drop(packet);
    void deps
      .publishErrors(principal, packet.topic, [rejection])
      .finally(() => done(refusedAck(client, rejection.code, rejection.message)));
  };

  return function authorizePublish(client, packet, done) {
    const principal = client ? deps.principals.get(client) : undefined;
    if (client && !principal) return done(new Error('not authenticated'));
    if (client && principal) {
      let last = lastTopic.get(client);
      if (last?.topic !== packet.topic) {
        const shape = topicProblem(packet.topic, limits);
        if (shape) return deny(principal, client, shape, 'topic_shape', packet.topic, done);
        if (packet.topic.startsWith('$SYS'))
          return deny(principal, client, '$SYS topics are reserved for the broker', 'publish_acl', packet.topic, done);
        last = { topic: packet.topic, decided: undefined };
        lastTopic.set(client, last);
      }
      if (!deps.insecure) {
        const decision = decide(last, principal, packet);
        if (decision.action === 'deny')
          return deny(principal, client, decision.reason, 'publish_acl', packet.topic, done);
        if (principal.role === 'integration' && decision.action === 'allow')
          return integrationPublish(client, principal, packet, done);
        const verdict = deps.rate.take(principal.name, client, packet.payload.length + packet.topic.length);
        if (verdict.outcome === 'abusive') {
          deny(
            principal,
            client,
            `device ${principal.name} keeps publishing far beyond ${limits.devicePublishesPerSecond}/s ` +
              `or ${limits.deviceBytesPerSecond} bytes/s: disconnected`,
            'abusive',
            packet.topic,
            done,
          );
          return deps.penalize(client, principal);
        }
        if (verdict.outcome === 'refused') {
          refusals.refuse(
            'rate_limited',
            principal.name,
            `device ${principal.name} publishes faster than ${limits.devicePublishesPerSecond}/s ` +
              `or ${limits.deviceBytesPerSecond} bytes/s (held ${limits.rateHoldMaxMs} ms already): not stored`,
          );
          deps.drop(packet);
          const rejection = reject(
            'rate_limited',
            `more than ${limits.devicePublishesPerSecond} publishes or ${limits.deviceBytesPerSecond} bytes ` +
              'per second: publishes are acknowledged late; those that would wait ' +
              `over ${limits.rateHoldMaxMs} ms are not stored`,
          );
          const now = deps.now();
          if (now - (lastToldRate.get(principal.name) ?? -Infinity) < 1000)
            return done(refusedAck(client, rejection.code, rejection.message));
          lastToldRate.set(principal.name, now);
          return explain(client, principal, packet, rejection, done);
        }
        // held: the PUBACK waits, and Aedes reads nothing more from this connection meanwhile
        if (verdict.outcome === 'held')
          return deps.hold(verdict.ms, () => admit(client, principal, packet, decision, done));
        return admit(client, principal, packet, decision, done);
      }
    }
    ingestPublish(client, principal, packet, done);
  };

  /** mayPublish, or its decision for the same account, topic, retain flag and registered kind (see lastTopic) */
  function decide(last: TopicVerdict, principal: Principal, packet: PublishPacket): PublishDecision {
    if (principal.role !== 'device')
      return mayPublish(principal, packet.topic, packet.retain, deps.kindOf, (account) =>
        deps.dialects?.rootsOf(account),
      );
    const kind = deps.kindOf(principal.sensorId ?? principal.name);
    const d = last.decided;
    if (d && d.principal === principal && d.retain === packet.retain && d.kind === kind) return d.decision;
    const decision = mayPublish(principal, packet.topic, packet.retain, deps.kindOf);
    last.decided = { principal, retain: packet.retain, kind, decision };
    return decision;
  }

  function admit(
    client: Client,
    principal: Principal,
    packet: PublishPacket,
    decision: PublishDecision,
    done: Done,
  ): void {
    // after the rate: a device repeating a mistake fast is slowed down like any other
    if (decision.action === 'explain') {
      refusals.refuse(
        decision.rejection.code === 'retain_not_allowed' ? 'retain' : 'publish_acl',
        principal.name,
        decision.rejection.message,
        { topic: printableTopic(packet.topic) },
      );
      explain(client, principal, packet, decision.rejection, done);
      return;
    }
    ingestPublish(client, principal, packet, done);
  }

  /**
   * Another system's message under its own root: ingested if its dialect takes it, each message charged to
   * the device it is for (a chatty LoRaWAN node is refused like a chatty device, and the integration's other
   * devices are not held behind it); else only forwarded. The connection pays for its bytes either way.
   */
  function integrationPublish(client: Client, principal: Principal, packet: PublishPacket, done: Done): void {
    const bytes = packet.payload.length + packet.topic.length;
    const verdict = deps.rate.takeConnection(client, bytes);
    if (verdict.outcome === 'refused' || verdict.outcome === 'abusive') {
      const message =
        `integration ${principal.name} sends more than ${limits.connectionBytesPerSecond} bytes/s on one ` +
        `connection (held ${limits.rateHoldMaxMs} ms already): not stored`;
      refusals.refuse('rate_limited', principal.name, message, { topic: printableTopic(packet.topic) });
      deps.drop(packet);
      done(null);
      return;
    }
    const handle = () => {
      const outcome = deps.dialects?.handle(principal.name, packet.topic, packet.payload as Buffer);
      if (outcome) settle(client, principal, packet, outcome, done);
      else done(null);
    };
    if (verdict.outcome === 'held') deps.hold(verdict.ms, handle);
    else handle();
  }

  function ingestPublish(
    client: Client | null,
    principal: Principal | undefined,
    packet: PublishPacket,
    done: Done,
  ): void {
    const parsed = parseDeviceTopic(packet.topic);
    if (isRejection(parsed) || parsed.channel === 'errors') {
      // only reachable in insecure mode (or the broker's own publishes): explain, as before
      if (packet.topic.startsWith('ioc/') && !packet.topic.startsWith('ioc/alerts/')) {
        void deps.publishErrors(principal, packet.topic, [parsed as Rejection]).finally(() => done(null));
        return;
      }
      done(null);
      return;
    }
    const origin =
      client && (client as Client & { will?: unknown }).will === packet ? 'will' : client ? 'device' : 'broker';
    settle(client, principal, packet, deps.ingest.handle(packet.topic, packet.payload as Buffer, origin), done);
  }

  function acknowledge(client: Client | null, packet: PublishPacket, outcome: DialectOutcome, done: Done): void {
    // nothing of it was valid: do not forward or retain it either (a bad status must not stay retained)
    const first = outcome.rejected[0];
    if (client && outcome.accepted === 0 && first) {
      deps.drop(packet);
      done(refusedAck(client, first.code, first.message));
      return;
    }
    // partly accepted: success for MQTT 5 too, the errors topic lists the readings refused
    done(null);
  }

  /**
   * Acknowledges once the outcome is durable; tells the device what was refused; holds the ack when the disk cannot
   * take it.
   */
  function settle(
    client: Client | null,
    principal: Principal | undefined,
    packet: PublishPacket,
    pending: Promise<DialectOutcome>,
    done: Done,
  ): void {
    pending.then(
      // no async function or closure of its own per publish here: work for every reading, refused or not
      (outcome) => {
        if (!outcome.rejected.length) return acknowledge(client, packet, outcome, done);
        return deps
          .publishErrors(principal, packet.topic, outcome.rejected, outcome.accepted)
          .then(() => acknowledge(client, packet, outcome, done));
      },
      (err: Error) => {
        if (err instanceof DomainError && err.code === 'storage_unavailable') {
          // The disk cannot take it (logged once by store/storage-state.ts): no PUBACK, so the device
          // keeps it and sends it again, but the connection stays: closing it would only make every
          // device reconnect in a loop. As QoS 0, Aedes sends no acknowledgement; dropped, nobody gets it.
          deps.drop(packet);
          packet.qos = 0;
          void deps
            .publishErrors(principal, packet.topic, [reject('storage_unavailable', err.message)])
            .finally(() => done(null));
          return;
        }
        // Not durable: refuse the publish so that it is not acknowledged; the device will resend.
        logger.error(
          { err: err.message, topic: printableTopic(packet.topic) },
          'could not make a publish durable; disconnecting the client without PUBACK',
        );
        // an MQTT 5 Aedes acknowledges an error with a failure code, and the device would not resend: close first
        if (client?.version === 5) client.close();
        done(err);
      },
    );
  }
}

import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';

/**
 * Every refusal of the broker's lanes (bad clientId, topic, rate, limits) is counted in
 * `ioc_mqtt_refused_total{reason}` and logged, but at most once a minute per reason and account: a
 * client repeating the same mistake a thousand times a second must not flood the log. The next line
 * says how many were not logged.
 */
export type RefusalReason =
  | 'client_id'
  | 'topic_shape'
  | 'publish_acl'
  | 'subscribe_acl'
  | 'retain'
  | 'rate_limited'
  | 'abusive'
  | 'connections_per_account'
  | 'connections_per_address'
  | 'sessions_per_account'
  | 'queue_full'
  | 'session_expired'
  | 'penalty'
  | 'protocol_version'
  // the PROXY protocol preamble (proxy-preamble.ts): keyed by the peer's address, before any account
  | 'proxy_untrusted'
  | 'proxy_missing'
  | 'proxy_invalid'
  | 'proxy_timeout';

// a client speaking a protocol the broker does not (yet) is no misbehaviour: it is told, and logged at info
const INFO_REASONS: ReadonlySet<RefusalReason> = new Set(['protocol_version']);

/** how the refused message came: the same budget and metric serve MQTT and HTTP ingest */
export type RefusalTransport = 'mqtt' | 'http';

export interface RefusalLog {
  refuse(
    reason: RefusalReason,
    account: string,
    message: string,
    fields?: Record<string, unknown>,
    transport?: RefusalTransport,
  ): void;
  /** counts without logging, for refusals that their caller logs in its own way (once per penalty) */
  count(reason: RefusalReason): void;
}

const LOG_EVERY_MS = 60_000;
const MAX_KEYS = 10_000;

/** told of every refusal with the account it names (before the log's rate limit): device health counts them */
export type RefusalListener = (reason: RefusalReason, account: string, transport: RefusalTransport) => void;

export function createRefusalLog(
  logger: Logger,
  registry: Registry,
  clock: Clock,
  onRefusal?: RefusalListener,
): RefusalLog {
  const counter = new Counter({
    name: 'ioc_mqtt_refused_total',
    help:
      'MQTT connects, publishes, subscribes and messages refused by the broker lanes (and device HTTP ingest ' +
      'over its budget), by reason and transport',
    labelNames: ['reason', 'transport'],
    registers: [registry],
  });
  const last = new Map<string, { at: number; suppressed: number }>();
  return {
    count(reason) {
      counter.inc({ reason, transport: 'mqtt' });
    },
    refuse(reason, account, message, fields = {}, transport = 'mqtt') {
      counter.inc({ reason, transport });
      onRefusal?.(reason, account, transport);
      const key = `${reason}\u0000${transport}\u0000${account}`;
      const now = clock.now();
      const seen = last.get(key);
      if (seen && now - seen.at < LOG_EVERY_MS) {
        seen.suppressed++;
        return;
      }
      if (last.size >= MAX_KEYS) last.clear();
      last.set(key, { at: now, suppressed: 0 });
      const level = INFO_REASONS.has(reason) ? 'info' : 'warn';
      logger[level](
        {
          reason,
          transport,
          account: account.slice(0, 64),
          ...fields,
          ...(seen?.suppressed ? { suppressedSinceLastLine: seen.suppressed } : {}),
        },
        `${transport === 'http' ? 'HTTP ingest' : 'MQTT'} refused: ${message}`,
      );
    },
  };
}

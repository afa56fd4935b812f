import type { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AlertEvent } from '../alerts/alert-model.ts';
import { type ClusterKeys, partitionOf } from './partition-map.ts';

/**
 * Publishes this node's alert events to the cluster (docs/cluster.md) with one Lua script per event, so
 * that, atomically in Redis:
 * - only the node holding the partition's lease writes (a node that lost it and does not know yet is refused);
 * - a (rule, sensor) pair has one open alert: a new alert is refused while another id is open for the pair;
 * - the pair's open alert is kept in the partition's hash (what the next owner takes over), removed when resolved;
 * - the event gets the cluster's next seq and is appended to the stream as id `<seq>-0` (MAXLEN ~).
 * KEYS: lease, open hash, seq counter, stream. ARGV: node id, pair, alert id, type, event JSON, alert JSON, maxlen.
 */
const APPEND = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local current = redis.call('HGET', KEYS[2], ARGV[2])
if current then
  if cjson.decode(current).id ~= ARGV[3] then return -2 end
elseif ARGV[4] ~= 'pending' and ARGV[4] ~= 'firing' then
  return -3
end
if ARGV[4] == 'resolved' then
  redis.call('HDEL', KEYS[2], ARGV[2])
else
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[6])
end
local seq = redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], seq .. '-0', 'e', ARGV[5])
return seq`;

const REFUSALS: Record<number, string> = {
  [-1]: 'not_owner',
  [-2]: 'another_alert_open',
  [-3]: 'not_open',
};

export interface AlertStreamWriterOptions {
  readonly redis: Redis;
  readonly keys: ClusterKeys;
  readonly nodeId: string;
  readonly partitions: number;
  readonly maxLen: number;
  /** the local alerts engine's bus: the events this node raised for the partitions it owns */
  readonly bus: EventEmitter<{ alert: [AlertEvent] }>;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
  /** counts refusals by reason (/metrics) */
  readonly refused: (reason: string) => void;
}

export interface AlertStreamWriter {
  /** Resolves once every event handed over so far is in Redis (or refused). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export function startAlertStreamWriter(o: AlertStreamWriterOptions): AlertStreamWriter {
  // one connection, commands sent in the bus's order: Redis runs them in that order, so seq follows it
  let inFlight = Promise.resolve();
  const onEvent = (event: AlertEvent): void => {
    const { alert } = event;
    const p = partitionOf(alert.sensorId, o.partitions);
    const pair = `${alert.ruleId}\u0001${alert.sensorId}`;
    const sent = o.redis.eval(
      APPEND,
      4,
      o.keys.lease(p),
      o.keys.open(p),
      o.keys.seq,
      o.keys.stream,
      o.nodeId,
      pair,
      alert.id,
      event.type,
      JSON.stringify({ type: event.type, ts: event.ts, alert }),
      JSON.stringify(alert),
      String(o.maxLen),
    ) as Promise<number>;
    inFlight = sent.then(
      (result) => {
        if (result >= 0) return;
        const reason = REFUSALS[result] ?? 'unknown';
        o.refused(reason);
        o.logger.warn(
          { reason, type: event.type, alertId: alert.id, ruleId: alert.ruleId, sensorId: alert.sensorId },
          'alert event not published to the cluster',
        );
      },
      (err: unknown) => {
        o.refused('redis_error');
        o.logger.error({ err, type: event.type, alertId: alert.id }, 'alert event could not reach Redis');
      },
    );
  };
  o.bus.on('alert', onEvent);
  return {
    drain: async () => {
      let last: Promise<void> | undefined;
      while (last !== inFlight) {
        last = inFlight;
        await last;
      }
    },
    async stop() {
      o.bus.off('alert', onEvent);
      await this.drain();
    },
  };
}

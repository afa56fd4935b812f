import type { Clock } from '../core/clock.ts';
import type { Alert } from './alert-model.ts';
import type { AlertLifecycle } from './alert-lifecycle.ts';
import type { AlertScheduler } from './alert-scheduler.ts';
import { entryKey, type RuleEngine } from './rule-engine.ts';

/** Which sensors a hand-over is about (cluster mode: the sensors of one rule partition). */
export type SensorMatch = (sensorId: string) => boolean;

/**
 * Cluster mode (docs/cluster.md): the pairs of a rule partition are evaluated by the one node that holds
 * its lease. When a node takes a partition over, the pairs start from the shared state the last owner left
 * in Redis (its open alerts, when each device was last seen), as after a restart (alert-restore.ts): a
 * pending alert's `for` counts from its start, silence from the last reading. When it gives one up, it
 * forgets the pairs' alerts without an event: the alerts live on at the new owner.
 */
export interface PartitionControl {
  adopt(match: SensorMatch, open: readonly Alert[], seen: ReadonlyMap<string, number>): void;
  release(match: SensorMatch): void;
  /** Hears the open alerts of each partition taken over (escalation timers start for them). */
  onAdopted(listener: (open: readonly Alert[]) => void): void;
}

export function createPartitionControl(parts: {
  readonly engine: RuleEngine;
  readonly lifecycle: AlertLifecycle;
  readonly scheduler: AlertScheduler;
  readonly clock: Clock;
}): PartitionControl {
  const { engine, lifecycle, scheduler, clock } = parts;
  const listeners: Array<(open: readonly Alert[]) => void> = [];
  return {
    onAdopted(listener) {
      listeners.push(listener);
    },
    adopt(match, open, seen) {
      const now = clock.now();
      lifecycle.forget(match);
      const keys = engine.resetSensors(match, now, seen);
      for (const alert of open) {
        if (!match(alert.sensorId) || alert.state === 'resolved') continue;
        lifecycle.restore(alert);
        engine.restore(
          entryKey(alert.ruleId, alert.sensorId),
          {
            phase: alert.state === 'pending' ? 'pending' : 'firing',
            since: alert.startsAt,
            value: alert.value,
            threshold: alert.threshold,
          },
          now,
        );
      }
      for (const key of keys) scheduler.schedule(key);
      const adopted = open.filter((a) => match(a.sensorId) && a.state !== 'resolved');
      for (const listener of listeners) listener(adopted);
    },
    release(match) {
      lifecycle.forget(match);
      engine.resetSensors(match, clock.now(), new Map());
    },
  };
}

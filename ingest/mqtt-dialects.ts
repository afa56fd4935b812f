import type { Rejection } from './rejection.ts';

/**
 * Other systems' MQTT messages (ChirpStack uplinks, Frigate events) that the platform ingests. Each
 * dialect belongs to one integration account and lives under its own topic roots; the broker hands it
 * every publish of that account (broker/publish-gate.ts) and acknowledges once the outcome is settled,
 * so a QoS 1 uplink is acknowledged only when its readings are durable, as a device's are.
 */
export interface DialectOutcome {
  readonly accepted: number;
  readonly rejected: readonly Rejection[];
}

export interface MqttDialect {
  readonly account: string;
  /** topic roots (first levels, without the slash) the account publishes and subscribes under */
  readonly roots: readonly string[];
  /** the outcome of a message this dialect ingests; undefined for one it does not (forwarded as is) */
  handle(topic: string, payload: Buffer): Promise<DialectOutcome> | undefined;
}

export interface MqttDialects {
  rootsOf(account: string): readonly string[] | undefined;
  handle(account: string, topic: string, payload: Buffer): Promise<DialectOutcome> | undefined;
}

export function combineDialects(dialects: readonly MqttDialect[]): MqttDialects {
  const byAccount = new Map<string, MqttDialect[]>();
  for (const d of dialects) byAccount.set(d.account, [...(byAccount.get(d.account) ?? []), d]);
  const roots = new Map([...byAccount].map(([account, list]) => [account, [...new Set(list.flatMap((d) => d.roots))]]));
  return {
    rootsOf: (account) => roots.get(account),
    handle(account, topic, payload) {
      for (const d of byAccount.get(account) ?? []) {
        const outcome = d.handle(topic, payload);
        if (outcome) return outcome;
      }
      return undefined;
    },
  };
}

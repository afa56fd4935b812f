import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadCity } from '../config/city-config.ts';
import type { Principal } from '../config/credentials.ts';
import { CHANNELS } from '../ingest/parse-topic.ts';
import { mayPublish, maySubscribe } from './topic-acl.ts';

/**
 * docs/asyncapi.yaml is the device contract as the broker enforces it: a valid AsyncAPI 3 document
 * (@asyncapi/parser, no error or warning), every topic the ACL (topic-acl.ts) lets a device publish or
 * subscribe to is in it with the right direction and retain flag, it describes no device topic the ACL
 * refuses, and each kind's readings schema lists exactly the kind's metrics (config/kinds/*.yaml).
 */
const ROOT = join(import.meta.dirname, '..');
const text = readFileSync(join(ROOT, 'docs', 'asyncapi.yaml'), 'utf8');
const city = loadCity(join(ROOT, 'config', 'cities', 'hue', 'city.yaml'), join(ROOT, 'config', 'kinds'));
const kindOf = (id: string) => city.sensorsById.get(id)?.kind;

interface Operation {
  action: 'send' | 'receive';
  channel: { $ref: string };
  bindings?: { mqtt?: { retain?: boolean } };
}
interface Doc {
  channels: Record<string, { address: string }>;
  operations: Record<string, Operation>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}
const doc = parseYaml(text) as Doc;

/** The device topics the document describes: address with {sensorId} filled in, direction, retain. */
function describedTopics(
  kind: string,
  sensorId: string,
): Array<{ topic: string; action: string; retain: boolean | undefined }> {
  return Object.values(doc.operations).flatMap((op) => {
    const channel = doc.channels[op.channel.$ref.replace('#/channels/', '')]!;
    const levels = channel.address.split('/');
    if (levels[0] !== 'ioc' || levels[1] !== kind || levels[2] !== '{sensorId}') return [];
    return [
      { topic: channel.address.replace('{sensorId}', sensorId), action: op.action, retain: op.bindings?.mqtt?.retain },
    ];
  });
}

// besides the platform's channels, names a device might try (there is no command channel)
const CANDIDATES = [...CHANNELS, 'commands', 'command', 'config', 'set', 'state'];

describe('docs/asyncapi.yaml', () => {
  it('is a valid AsyncAPI 3 document', async () => {
    const { document, diagnostics } = await new Parser().parse(text);
    // severity 0 is an error, 1 a warning
    expect(
      diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`),
    ).toEqual([]);
    expect(document?.version()).toMatch(/^3\./);
    expect(document?.channels().all().length).toBeGreaterThan(0);
  });

  it('describes every topic the ACL lets a device use, in its direction, and no other device topic', () => {
    const kinds = [...city.kinds.keys()];
    expect(kinds.length).toBeGreaterThan(0);
    for (const kind of kinds) {
      const sensor = city.sensors.find((s) => s.kind === kind);
      if (!sensor) continue;
      const device: Principal = { role: 'device', name: sensor.id, sensorId: sensor.id };
      const described = describedTopics(kind, sensor.id);
      for (const channel of CANDIDATES) {
        const topic = `ioc/${kind}/${sensor.id}/${channel}`;
        const publishes = mayPublish(device, topic, false, kindOf).action === 'allow';
        const publishesRetained = mayPublish(device, topic, true, kindOf).action === 'allow';
        const subscribes = maySubscribe(device, topic, kindOf).allowed;
        const received = described.find((d) => d.topic === topic && d.action === 'receive');
        const sent = described.find((d) => d.topic === topic && d.action === 'send');
        expect(Boolean(received), `${topic}: the ACL ${publishes ? 'allows' : 'refuses'} a device publish`).toBe(
          publishes,
        );
        expect(Boolean(sent), `${topic}: the ACL ${subscribes ? 'allows' : 'refuses'} a device subscription`).toBe(
          subscribes,
        );
        if (received) expect(received.retain ?? false, `${topic}: retained publishes`).toBe(publishesRetained);
      }
      // and nothing described that is not one of the candidates (a typo in the document, say)
      for (const d of described) expect(CANDIDATES).toContain(d.topic.split('/')[3]);
    }
  });

  it('lists exactly the metrics of each kind in its readings schema', () => {
    for (const [name, kind] of city.kinds) {
      const schema = doc.components.schemas[`${name}Reading`];
      expect(schema, `${name}Reading`).toBeDefined();
      expect(
        Object.keys(schema!.properties ?? {})
          .filter((p) => p !== 'ts')
          .sort(),
      ).toEqual(Object.keys(kind.metrics).sort());
    }
  });
});

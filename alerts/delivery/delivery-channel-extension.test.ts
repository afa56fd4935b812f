import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { reading, startHarness, T0 } from '../alert-test-kit.ts';
import { startAlertDelivery } from './alert-delivery.ts';
import type { DeliveryChannel } from './delivery-channel.ts';
import { DELIVERY_CHANNELS } from './delivery-channels.ts';
import { silentLogger } from './delivery-logger.ts';

/**
 * The delivery-channel contract's promise (docs/ARCHITECTURE.md, "Add a delivery channel"): a channel is
 * one file against delivery-channel.ts and one line in the list. The file below is written to a temporary
 * folder and imports only the contract; started beside the built-in channels, it receives the real alerts
 * engine's events in order and stops with the others.
 */
const contract = JSON.stringify(pathToFileURL(join(import.meta.dirname, 'delivery-channel.ts')).href);
const FILE_CHANNEL = `
import { appendFileSync } from 'node:fs';
import { defineDeliveryChannel } from ${contract};

/** High and critical alert events, one JSON line each, for an agency that reads files. */
export const fileChannel = (file) => defineDeliveryChannel({
  name: 'file',
  start(ctx) {
    const onAlert = (event) => {
      if (event.alert.severity !== 'high' && event.alert.severity !== 'critical') return;
      appendFileSync(file, JSON.stringify({ seq: event.seq, type: event.type, rule: event.alert.ruleId }) + '\\n');
    };
    ctx.feed.bus.on('alert', onAlert);
    return { stop: async () => { ctx.feed.bus.off('alert', onAlert); } };
  },
});
`;

const rules = [
  {
    id: 'flood-3',
    type: 'threshold',
    severity: 'critical',
    category: 'naturalDisaster',
    subCategory: 'flood',
    selector: { kinds: ['water'] },
    metric: 'waterLevel',
    floodLevel: 3,
    hysteresis: 0.1,
  },
  {
    id: 'flood-1',
    type: 'threshold',
    severity: 'medium',
    category: 'naturalDisaster',
    subCategory: 'flood',
    selector: { kinds: ['water'] },
    metric: 'waterLevel',
    floodLevel: 1,
    hysteresis: 0.1,
  },
];

describe('a delivery channel added as one file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-channel-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("receives the engine's events through the contract and stops with delivery", async () => {
    writeFileSync(join(dir, 'file-channel.mjs'), FILE_CHANNEL);
    const { fileChannel } = (await import(pathToFileURL(join(dir, 'file-channel.mjs')).href)) as {
      fileChannel: (file: string) => DeliveryChannel;
    };
    const out = join(dir, 'alerts.ndjson');
    writeFileSync(out, '');
    const h = await startHarness(rules);
    try {
      // the built-ins minus MQTT (no broker here), plus the new one: the registration line, at runtime
      const channels = [...DELIVERY_CHANNELS.filter((c) => c.name !== 'mqtt'), fileChannel(out)];
      const publish = async () => {
        throw new Error('no broker in this test');
      };
      const delivery = startAlertDelivery({
        feed: h.service,
        clock: h.clock,
        logger: silentLogger,
        publish,
        webhooks: [],
        channels,
      });
      expect([...delivery.channels.keys()]).toEqual(['file']);
      h.events.emit('readings', [reading('water-kimlong', { waterLevel: 3.6 }, T0)]);
      await h.service.idle();
      h.events.emit('readings', [reading('water-kimlong', { waterLevel: 0.5 }, T0 + 60_000)]);
      await h.service.idle();
      const lines = () =>
        readFileSync(out, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as object);
      // medium (flood-1) is filtered out by the channel itself; critical fired and resolved, in seq order
      expect(lines()).toEqual([
        expect.objectContaining({ type: 'firing', rule: 'flood-3' }),
        expect.objectContaining({ type: 'resolved', rule: 'flood-3' }),
      ]);
      await delivery.stop();
      h.events.emit('readings', [reading('water-kimlong', { waterLevel: 3.8 }, T0 + 120_000)]);
      await h.service.idle();
      expect(lines()).toHaveLength(2);
      // two channels with one name are refused at start, not left to overwrite each other's metrics
      expect(() =>
        startAlertDelivery({
          feed: h.service,
          clock: h.clock,
          logger: silentLogger,
          publish,
          webhooks: [],
          channels: [fileChannel(out), fileChannel(out)],
        }),
      ).toThrow(/two delivery channels are named "file"/);
    } finally {
      await h.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../alerts/alert-model.ts';
import { eventsOf } from '../alerts/delivery/alert-stream-protocol.ts';
import { publishAcked, type TestPlatform, openAlertStream } from '../test-support/platform-harness.ts';
import { ownedBy, waitFor, watchAlerts, twoClusterNodes } from './cluster-test-kit.ts';

/**
 * An operator whose node goes away reconnects to another node with `?since=<seq>` and gets what it missed,
 * in order, once (api/alerts-stream.ts over the cluster's Redis stream), on a real Redis and InfluxDB.
 */

const seqs = (events: readonly AlertEvent[]) => events.map((e) => `${e.seq}:${e.type}:${e.alert.id}`);

describe('the alert stream resumes on another node', () => {
  let a: TestPlatform;
  let b: TestPlatform;
  twoClusterNodes('streamresume', (na, nb) => {
    a = na;
    b = nb;
  });

  it('an operator of a stopped node gets from the other node every event it missed, in order, once', async () => {
    const witness = await watchAlerts(b);
    const onA = await openAlertStream(a, '');
    const device = await b.connectDevice('water-kimlong');
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 1.3 }));
    const heard = () => onA.frames.flatMap(eventsOf);
    await waitFor('the firing event on node A', () =>
      heard().some((e) => e.alert.sensorId === 'water-kimlong') ? true : undefined,
    );
    const lastSeq = heard().at(-1)!.seq;
    // node A goes away; its operator is offline while the water falls and another station rises
    await a.stop();
    expect(await onA.closed).toBe(1001);
    await ownedBy(b, 1);
    const other = await b.connectDevice('water-phuoc');
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 0.4 }));
    await publishAcked(other, 'ioc/water/water-phuoc/readings', JSON.stringify({ waterLevel: 1.8 }));
    await waitFor('the witness hearing both changes', () =>
      witness.events.some((e) => e.type === 'resolved' && e.alert.sensorId === 'water-kimlong') &&
      witness.events.some((e) => e.alert.sensorId === 'water-phuoc')
        ? true
        : undefined,
    );
    await witness.sync();
    const missed = witness.events.filter((e) => e.seq > lastSeq);
    expect(missed.length).toBeGreaterThanOrEqual(2);

    const resumed = await openAlertStream(b, `&since=${lastSeq}`);
    const first = resumed.frames[0]!;
    expect(first.type).toBe('resume');
    if (first.type !== 'resume') return;
    expect(first.since).toBe(lastSeq);
    expect(seqs(first.events)).toEqual(seqs(missed));
    // the next live event follows the resumed ones, none twice
    await publishAcked(other, 'ioc/water/water-phuoc/readings', JSON.stringify({ waterLevel: 0.3 }));
    await waitFor('a live event after the resume', () => (resumed.frames.length > 1 ? true : undefined));
    const all = resumed.frames.flatMap(eventsOf).map((e) => e.seq);
    expect(all).toEqual([...new Set(all)].sort((x, y) => x - y));
    expect(all[0]).toBe(lastSeq + 1);
    resumed.close();
    witness.close();
  });

  it('a resume point the stream does not hold (newer than any event) gets a snapshot', async () => {
    const ahead = await openAlertStream(b, '&since=999999999');
    expect(ahead.frames[0]!.type).toBe('snapshot');
    ahead.close();
  });
});

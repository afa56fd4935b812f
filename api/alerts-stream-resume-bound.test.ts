import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../alerts/alert-model.ts';
import { eventsOf } from '../alerts/delivery/alert-stream-protocol.ts';
import {
  publishAcked,
  startTestPlatform,
  type TestPlatform,
  openAlertStream,
  type AlertStreamFrames,
} from '../test-support/platform-harness.ts';

/**
 * Review of `?since=` (alerts/delivery/alert-stream-hub.ts resume): every event a client missed went into one
 * frame, each with its alert's whole workflow log (up to 100 notes of 2,000 characters). An operator's notes
 * make each event about 200 kB; the 5,000 events a node keeps then make a string over V8's limit, whose
 * RangeError was thrown in a promise callback nobody handled (the process ends). Bounded now: past
 * `maxBufferedBytes` (1 MiB) or 1,000 events the client gets a snapshot, as when the node no longer has them.
 */

describe('a resume is bounded', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const open = (query: string) => openAlertStream(platform, query);

  const eventsUntil = async (stream: AlertStreamFrames, done: (events: AlertEvent[]) => boolean) => {
    for (let i = 0; i < 400 && !done(stream.frames.flatMap(eventsOf)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return stream.frames.flatMap(eventsOf);
  };

  it('missed events over 1 MiB: a snapshot instead; the last one alone still resumes', async () => {
    const live = await open('');
    const device = await platform.connectDevice('water-kimlong');
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 1.3 }));
    const seen = await eventsUntil(live, (events) => events.some((e) => e.type === 'firing'));
    const fired = seen.find((e) => e.type === 'firing')!;
    const before = seen.at(-1)!.seq;
    // an operator's notes: each workflow event carries the alert with every note so far
    const notes = 40;
    for (let i = 0; i < notes; i++) {
      const res = await platform.request('POST', `/api/alerts/${fired.alert.id}/assign`, {
        token: platform.operatorToken,
        body: { assignee: i % 2 ? 'person-a' : 'person-b', note: `${i} ${'n'.repeat(1990)}` },
      });
      expect(res.status, res.text).toBe(200);
    }
    const all = await eventsUntil(live, (events) => events.filter((e) => e.seq > before).length >= notes);
    const missed = all.filter((e) => e.seq > before);
    expect(missed.length).toBeGreaterThanOrEqual(notes);
    expect(Buffer.byteLength(JSON.stringify(missed))).toBeGreaterThan(1024 * 1024);

    const big = await open(`&since=${before}`);
    expect(big.frames[0]!.type).toBe('snapshot');
    big.close();
    const last = missed.at(-1)!.seq;
    const small = await open(`&since=${last - 1}`);
    expect(small.frames[0]).toMatchObject({ type: 'resume', since: last - 1, seq: last });
    expect(eventsOf(small.frames[0]!).map((e) => e.seq)).toEqual([last]);
    small.close();
    live.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { eventsOf } from '../alerts/delivery/alert-stream-protocol.ts';
import {
  publishAcked,
  startTestPlatform,
  type TestPlatform,
  openAlertStream,
  type AlertStreamFrames,
} from '../test-support/platform-harness.ts';

/**
 * `?since=<seq>` on one node (alerts/delivery/recent-events.ts): a console that lost its connection for a
 * moment gets the events it missed, in order, once, instead of a new snapshot; a point the node does not
 * hold gets a snapshot; a malformed one is refused before the upgrade.
 */

describe('the alert stream resumes from ?since= on one node', () => {
  let platform: TestPlatform;
  let wsUrl: string;
  beforeAll(async () => {
    platform = await startTestPlatform();
    wsUrl = `${platform.httpUrl.replace(/^http/, 'ws')}/api/alerts/stream?token=${platform.operatorToken}`;
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const open = (query: string) => openAlertStream(platform, query);

  const waitForEvents = async (stream: AlertStreamFrames, n: number) => {
    for (let i = 0; i < 200 && stream.frames.flatMap(eventsOf).length < n; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return stream.frames.flatMap(eventsOf);
  };

  it('gets what it missed while offline, then the live events, each once and in order', async () => {
    const first = await open('');
    expect(first.frames[0]!.type).toBe('snapshot');
    const device = await platform.connectDevice('water-kimlong');
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 1.3 }));
    const before = await waitForEvents(first, 1);
    expect(before.length).toBeGreaterThanOrEqual(1);
    const lastSeq = before.at(-1)!.seq;
    first.close();
    // offline: the water falls back below the level
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 0.4 }));
    await platform.alerts.idle();
    const witness = await open(`&since=0`);
    const everything = witness.frames.flatMap(eventsOf);
    witness.close();
    const missed = everything.filter((e) => e.seq > lastSeq);
    expect(missed.some((e) => e.type === 'resolved')).toBe(true);

    const resumed = await open(`&since=${lastSeq}`);
    const frame = resumed.frames[0]!;
    expect(frame).toMatchObject({ type: 'resume', since: lastSeq });
    expect(eventsOf(frame).map((e) => e.seq)).toEqual(missed.map((e) => e.seq));
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 1.4 }));
    const all = (await waitForEvents(resumed, missed.length + 1)).map((e) => e.seq);
    expect(all).toEqual([...new Set(all)].sort((x, y) => x - y));
    expect(all[0]).toBe(lastSeq + 1);
    resumed.close();
  });

  it('a point newer than any event gets a snapshot; a malformed one a 400 before the upgrade', async () => {
    const ahead = await open('&since=999999999');
    expect(ahead.frames[0]!.type).toBe('snapshot');
    ahead.close();
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl}&since=yesterday`);
      ws.on('open', () => reject(new Error('the stream opened')));
      ws.on('error', () => undefined);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
    });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'invalid_since' });
  });
});

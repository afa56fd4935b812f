import { connect as connectTcp } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../config/credentials.ts';
import { parseJson, parseReadingsPayload } from '../ingest/parse-payload.ts';
import { isRejection, parseDeviceTopic } from '../ingest/parse-topic.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { rawConnect, rawPublish } from '../test-support/raw-mqtt.ts';
import { clientIdProblem } from './client-id-policy.ts';
import { mayPublish } from './topic-acl.ts';
import { topicProblem } from './topic-shape.ts';

/**
 * Property tests of what a client controls: CONNECT fields, topics and payloads. Seeds are fixed so a
 * failure in `npm test` is reproducible; the parsers run in-process many times, a smaller number goes
 * through a real socket to the running broker.
 */
const SEED = 20261205;
const bounds = { topicMaxBytes: 256, topicMaxLevels: 8 };
const device: Principal = { role: 'device', name: 'air-ngomon', sensorId: 'air-ngomon' };
const kindOf = (id: string) => (id === 'air-ngomon' ? 'air' : undefined);
const topicLike = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          'ioc',
          'air',
          'air-ngomon',
          'readings',
          'status',
          'events',
          'errors',
          '__proto__',
          'constructor',
          '',
          '+',
          '#',
        ),
        fc.string({ maxLength: 12 }),
      ),
      { maxLength: 10 },
    )
    .map((l) => l.join('/')),
);

describe('property tests, in-process', () => {
  it('topic checks, topic parsing and the ACL never throw, and allow only the device contract', () => {
    fc.assert(
      fc.property(topicLike, fc.boolean(), (topic, retain) => {
        const problem = topicProblem(topic, bounds);
        if (problem === undefined) {
          expect(Buffer.byteLength(topic)).toBeLessThanOrEqual(256);
          // biome-ignore lint/suspicious/noControlCharactersInRegex: the test asserts none got through
          expect(/[\u0000-\u001f\u007f-\u009f\ufffd]/.test(topic)).toBe(false);
        }
        const parsed = parseDeviceTopic(topic);
        if (!isRejection(parsed)) expect(topic).toBe(`ioc/${parsed.kind}/${parsed.sensorId}/${parsed.channel}`);
        const decision = mayPublish(device, topic, retain, kindOf);
        if (decision.action === 'allow') {
          expect(['ioc/air/air-ngomon/readings', 'ioc/air/air-ngomon/status']).toContain(topic);
          if (retain) expect(topic).toBe('ioc/air/air-ngomon/status');
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('a clientId is accepted only when it names the account', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (id) => {
        if (clientIdProblem(device, id, 128) === undefined)
          expect(id === 'air-ngomon' || /^air-ngomon[-:]/.test(id)).toBe(true);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('payload parsing never throws on any bytes or any JSON', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
          fc.json().map((j) => Buffer.from(j)),
        ),
        (payload) => {
          const json = parseJson(payload);
          if (!isRejection(json)) parseReadingsPayload(json, 100);
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });
});

describe('property tests through a real socket', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  /** Sends raw bytes on a fresh socket; resolves with what came back once the broker closes it or goes quiet. */
  const exchange = (bytes: Buffer[]): Promise<Buffer> =>
    new Promise((resolve) => {
      const socket = connectTcp(Number(new URL(p.mqttUrl).port), '127.0.0.1');
      const got: Buffer[] = [];
      const finish = () => {
        socket.destroy();
        resolve(Buffer.concat(got));
      };
      const timer = setTimeout(finish, 300);
      socket.on('data', (b) => got.push(b));
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(got));
      });
      socket.on('error', () => undefined);
      for (const b of bytes) socket.write(b);
    });

  it('random CONNECT fields are refused (accepted only for the real account) and never harm the broker', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 80 }),
        fc.option(fc.uint8Array({ maxLength: 80 })),
        fc.option(fc.uint8Array({ maxLength: 80 })),
        async (clientId, username, password) => {
          const reply = await exchange([
            rawConnect(
              Buffer.from(clientId),
              username ? Buffer.from(username) : undefined,
              password ? Buffer.from(password) : undefined,
            ),
          ]);
          // either no CONNACK (the connection was closed) or a CONNACK that refuses
          if (reply.length >= 4 && reply[0] === 0x20) expect(reply[3]).not.toBe(0);
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
    expect((await p.request('GET', '/api/health', { token: null })).json).toMatchObject({ status: 'ok' });
  });

  it('random topics and payloads of a logged-in device are refused or handled, never harming the broker', async () => {
    const login = rawConnect(
      Buffer.from('air-ngomon-fuzz'),
      Buffer.from('air-ngomon'),
      Buffer.from(p.devicePassword('air-ngomon')),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          topicLike.map((t) => Buffer.from(t)),
          fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)),
        ),
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
          fc.json().map((j) => Buffer.from(j)),
        ),
        async (topic, payload) => {
          await exchange([login, rawPublish(topic, payload, 1)]);
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
    const d = await p.connectDevice('air-ngomon');
    await publishAcked(d, 'ioc/air/air-ngomon/readings', '{"pm25":2}');
    expect((await p.request('GET', '/api/health', { token: null })).json).toMatchObject({ status: 'ok' });
  });
});

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../alerts/alert-model.ts';
import { verifyWebhookSignature } from '../alerts/delivery/webhook-target.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { startWebhookReceiver } from '../test-support/webhook-receiver.ts';
import { publishAcked, type TestPlatform } from '../test-support/platform-harness.ts';
import { trafficJamRule } from '../test-support/rule-fixtures.ts';
import { TEST_CLUSTER_SECRET } from '../test-support/cluster-fixture.ts';
import { canonicalJson } from '../core/entry-diff.ts';
import { secretSeal } from './sealed-secret.ts';
import { sealTargetSecret } from './shared-state.ts';
import { sensorOwnedBy, twoClusterNodes, waitFor, watchAlerts } from './cluster-test-kit.ts';

/**
 * What the alerting around the engine keeps is the cluster's, not one node's (cluster/shared-state.ts), on a real
 * Redis and InfluxDB with two nodes in one process and a real webhook receiver on loopback: a webhook target
 * added on node A is delivered to by node B for the alerts B owns; a silence made on A keeps B from sending
 * the alerts it matches; a provisioning code made on A is claimed on B, once, even when claimed on both at once.
 */
const SECRET = 'bí-mật-ký-webhook-cụm-0123456789';
const logs = captureLogs('info');
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

interface Delivered {
  readonly event: AlertEvent;
}
const deliveredEvents = (r: NonNullable<typeof receiver>) =>
  r.received.map((x) => (JSON.parse(x.body) as Delivered).event);

/** Writes one entry of a shared document as another node's script would: written, counted and published at once. */
async function publishAsNodeX(probe: Redis, keyPrefix: string, doc: string, key: string, text: string): Promise<void> {
  const base = `${keyPrefix}shared:${doc}`;
  const notice = JSON.stringify({ from: 'node-x', changes: [[key, text]] });
  await probe.eval(
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); local v = redis.call('INCR', KEYS[2]); " +
      "redis.call('PUBLISH', KEYS[3], v .. ' ' .. ARGV[3]); return v",
    3,
    base,
    `${base}:version`,
    `${base}:changes`,
    key,
    text,
    notice,
  );
}
/** Waits until each of the two nodes logged each of these shared entries as invalid and skipped. */
async function skippedByBothNodes(...keys: string[]): Promise<void> {
  const skipped = () =>
    logs.lines.filter((l) => l.msg === 'an entry from the cluster is invalid here: skipped').map((l) => l.entry);
  await waitFor(`both nodes skipping ${keys.join(', ')}`, () =>
    keys.every((key) => skipped().filter((k) => k === key).length === 2) ? true : undefined,
  );
}

describe('silences, webhook targets and provisioning codes are the cluster’s', () => {
  let a: TestPlatform;
  let b: TestPlatform;
  twoClusterNodes(
    'sharedalerting',
    (na, nb) => {
      a = na;
      b = nb;
    },
    // the receiver is on loopback: these nodes let the API's targets say allowPrivate
    { logger: logs.logger, overrides: { security: { allowPrivateWebhookTargets: true } } },
  );

  /** a webhook target added through node A's API, once node B delivers to it */
  const targetAddedOnA = async (id: string, url: string) => {
    const added = await a.request('POST', '/api/webhooks/targets', {
      token: a.adminToken,
      body: {
        id,
        url,
        secret: SECRET,
        allowPrivate: true,
        filter: { kind: ['traffic', 'water', 'air'] },
        events: ['firing'],
      },
    });
    expect(added.status, added.text).toBe(201);
    expect(added.text).not.toContain(SECRET);
    await waitFor('node B delivering to the new target', async () => {
      const res = await b.request('GET', '/api/webhooks/deliveries');
      return (res.json as { targets: Array<{ id: string }> }).targets.some((t) => t.id === id) ? true : undefined;
    });
  };

  /** what makes a rule of ours fire, per sensor kind (a metric the shipped rules leave alone where possible) */
  const FIRES: Record<string, { metric: string; above: number; value: number; subCategory: string }> = {
    traffic: { metric: 'occupancy', above: 0.8, value: 0.95, subCategory: 'trafficJam' },
    water: { metric: 'turbidity', above: 500, value: 900, subCategory: 'waterPollution' },
    air: { metric: 'pm25', above: 100, value: 180, subCategory: 'airPollution' },
  };
  /** sensors whose partitions, together, are more than half of the 8: node B owns one of them */
  const NOT_AIR = ['traffic-truongtien', 'traffic-ancuu', 'water-truongtien', 'water-davien', 'rain-kimlong'];
  const AIR = ['air-ngomon', 'air-dongba', 'air-gahue', 'air-benhvien', 'air-thuanan'];

  /** a rule made on node A firing for a reading through node B (the rule's sensor is B's) */
  const fireThroughB = async (ruleId: string, sensorId: string) => {
    const kind = b.city.sensorsById.get(sensorId)!.kind;
    const f = FIRES[kind]!;
    const rule = trafficJamRule(ruleId, sensorId, {
      metric: f.metric,
      above: f.above,
      category: kind === 'traffic' ? 'traffic' : 'environment',
      subCategory: f.subCategory,
    });
    const created = await a.request('POST', '/api/rules', { token: a.adminToken, body: rule });
    expect(created.status, created.text).toBe(201);
    await waitFor('node B knowing the rule', async () =>
      (await b.request('GET', `/api/rules/${ruleId}`)).status === 200 ? true : undefined,
    );
    const device = await b.connectDevice(sensorId);
    await publishAcked(device, `ioc/${kind}/${sensorId}/readings`, JSON.stringify({ [f.metric]: f.value }));
  };

  it('a webhook target added on node A gets, signed, the alerts node B owns; removed on B, A drops it', async () => {
    const r = await startWebhookReceiver();
    receiver = r;
    await targetAddedOnA('kenh-quan-ly-giao-thong', `${r.url}/hook`);
    const sensor = await sensorOwnedBy(b, NOT_AIR);
    const ruleId = `webhook-${sensor}`;
    await fireThroughB(ruleId, sensor);
    const receipt = await waitFor('the delivery', () =>
      r.received.find((x) => (JSON.parse(x.body) as Delivered).event.alert.ruleId === ruleId),
    );
    expect(verifyWebhookSignature(SECRET, receipt.body, receipt.headers['x-ioc-signature'] as string)).toBe(true);
    // node B sent it (it owns the alert): its delivery history has it, node A's does not
    const history = async (node: TestPlatform) =>
      (
        (await node.request('GET', '/api/webhooks/deliveries?target=kenh-quan-ly-giao-thong')).json as {
          deliveries: Array<{ alertId: string; status: string }>;
        }
      ).deliveries;
    const alertId = (JSON.parse(receipt.body) as Delivered).event.alert.id;
    expect((await history(b)).some((d) => d.alertId === alertId && d.status === 'delivered')).toBe(true);
    expect((await history(a)).some((d) => d.alertId === alertId)).toBe(false);
    // B's copy is 0600 (it holds the secret); neither node logged the secret
    expect(statSync(join(b.dataDir, 'webhook-targets.json')).mode & 0o777).toBe(0o600);
    expect(logs.text()).not.toContain(SECRET);
    // in Redis the secret is sealed with the cluster's key: reading Redis does not give it
    const probe = new Redis(a.config.cluster.redis!);
    try {
      const inRedis = await probe.hget(`${a.config.cluster.keyPrefix}shared:webhooks`, 'kenh-quan-ly-giao-thong');
      expect(inRedis).toContain('"secret":"sealed.v1.');
      expect(inRedis).not.toContain(SECRET);
    } finally {
      probe.disconnect();
    }
    const removed = await b.request('DELETE', '/api/webhooks/targets/kenh-quan-ly-giao-thong', {
      token: b.adminToken,
    });
    expect(removed.status, removed.text).toBe(204);
    await waitFor('node A dropping the target', async () => {
      const res = await a.request('GET', '/api/webhooks/targets', { token: a.adminToken });
      return (res.json as { targets: unknown[] }).targets.length === 0 ? true : undefined;
    });
    // one that is not there: 404
    expect((await a.request('DELETE', '/api/webhooks/targets/khong-co', { token: a.adminToken })).status).toBe(404);
  });

  it('a silence by sensor kind made on node A: node B marks its alert silenced, sends it to no webhook', async () => {
    const r = await startWebhookReceiver();
    receiver = r;
    await targetAddedOnA('kenh-im-lang', `${r.url}/silenced`);
    const watch = await watchAlerts(a);
    const made = await a.request('POST', '/api/silences', {
      body: { match: { sensorKind: ['air'] }, reason: 'hiệu chuẩn trạm không khí', endsAt: Date.now() + 3_600_000 },
    });
    expect(made.status, made.text).toBe(201);
    const silenceId = (made.json as { id: string }).id;
    await waitFor('node B holding the silence', async () => {
      const res = await b.request('GET', '/api/silences?active=true');
      return (res.json as { silences: Array<{ id: string }> }).silences.some((s) => s.id === silenceId)
        ? true
        : undefined;
    });
    const air = await sensorOwnedBy(b, AIR);
    const airRule = `silenced-${air}`;
    await fireThroughB(airRule, air);
    const silenced = await waitFor('the silenced alert on the stream', () =>
      watch.events.find((e) => e.alert.ruleId === airRule && e.type === 'firing'),
    );
    expect(silenced.alert.workflow?.silence?.id).toBe(silenceId);
    // another alert of node B, not air, after it is sent: the target's queue is in order, so the air one was
    // never queued
    const other = await sensorOwnedBy(b, NOT_AIR);
    const otherRule = `not-silenced-${other}`;
    await fireThroughB(otherRule, other);
    await waitFor('the other alert delivered', () =>
      deliveredEvents(r).some((e) => e.alert.ruleId === otherRule) ? true : undefined,
    );
    expect(deliveredEvents(r).filter((e) => e.alert.ruleId === airRule)).toEqual([]);
    // ended on node B: ended on node A too
    expect((await b.request('DELETE', `/api/silences/${silenceId}`)).status).toBe(200);
    await waitFor('node A seeing the silence ended', async () => {
      const res = await a.request('GET', '/api/silences?active=false');
      return (res.json as { silences: Array<{ id: string }> }).silences.some((s) => s.id === silenceId)
        ? true
        : undefined;
    });
    watch.close();
  });

  it('a provisioning code made on node A is claimed on node B once; claimed on both at once, one wins', async () => {
    const sensor = 'cam-sanbay';
    const issue = async () => {
      const res = await a.request('POST', `/api/sensors/${sensor}/provisioning-codes`, {
        token: a.adminToken,
        body: { expiresInMinutes: 30 },
      });
      expect(res.status, res.text).toBe(201);
      return (res.json as { code: string }).code;
    };
    const claim = (node: TestPlatform, code: string) =>
      node.request('POST', '/api/provision', { token: null, body: { code } });
    const code = await issue();
    const onB = await claim(b, code);
    expect(onB.status, onB.text).toBe(200);
    expect(onB.json).toMatchObject({ sensorId: sensor });
    // spent everywhere: node A refuses it, as node B does
    expect((await claim(a, code)).status).toBe(403);
    expect((await claim(b, code)).status).toBe(403);
    // the same code on both nodes in the same instant, three times: exactly one 200 each time
    for (let round = 0; round < 3; round++) {
      const raced = await issue();
      const answers = await Promise.all([claim(a, raced), claim(b, raced)]);
      expect(answers.map((x) => x.status).sort()).toEqual([200, 403]);
    }
    // the device's secret is the one the last winner was handed, on both nodes
    await waitFor('one device secret on both nodes', () =>
      JSON.stringify(a.accounts.file.devices[sensor]) === JSON.stringify(b.accounts.file.devices[sensor])
        ? true
        : undefined,
    );
  });

  it('an entry from Redis a node cannot take is skipped and logged by its key, never its value', async () => {
    const { redis: url, keyPrefix } = a.config.cluster;
    const probe = new Redis(url!);
    const leaked = 'bi-mat-cua-muc-sai-0123456789';
    const publish = (doc: string, key: string, value: string) => publishAsNodeX(probe, keyPrefix, doc, key, value);
    try {
      // a target filed under another id than its own, and a silence that is not JSON
      const target = { id: 'muc-that', url: 'https://example.org/x', secret: leaked, filter: {}, timeoutMs: 1000 };
      await publish('webhooks', 'muc-gia', JSON.stringify({ target, createdBy: 'x', createdAt: 1 }));
      await publish('silences', 'im-lang-hong', '{not json');
    } finally {
      probe.disconnect();
    }
    const skipped = () =>
      logs.lines.filter((l) => l.msg === 'an entry from the cluster is invalid here: skipped').map((l) => l.entry);
    await waitFor('both nodes skipping both entries', () =>
      skipped().filter((k) => k === 'muc-gia').length === 2 &&
      skipped().filter((k) => k === 'im-lang-hong').length === 2
        ? true
        : undefined,
    );
    for (const node of [a, b]) {
      const res = await node.request('GET', '/api/webhooks/targets', { token: node.adminToken });
      expect((res.json as { targets: Array<{ id: string }> }).targets.map((t) => t.id)).not.toContain('muc-that');
      expect(node.operations.silences.get('im-lang-hong')).toBeUndefined();
    }
    expect(logs.text()).not.toContain(leaked);
  });

  it('a target planted in Redis without the cluster’s key (plain or foreign-sealed secret) is refused', async () => {
    const { redis: url, keyPrefix } = a.config.cluster;
    const probe = new Redis(url!);
    const stored = (id: string, secret: string) =>
      JSON.stringify({
        target: { id, url: 'https://example.org/x', secret, filter: {}, timeoutMs: 1000, allowPrivate: false },
        createdBy: 'x',
        createdAt: 1,
      });
    const foreign = secretSeal('khoa-cua-mot-cum-khac-0123456789abcdef', 'webhook target secret').seal(SECRET);
    try {
      await publishAsNodeX(probe, keyPrefix, 'webhooks', 'gai-ro', stored('gai-ro', SECRET));
      await publishAsNodeX(probe, keyPrefix, 'webhooks', 'khoa-la', stored('khoa-la', foreign));
    } finally {
      probe.disconnect();
    }
    await skippedByBothNodes('gai-ro', 'khoa-la');
    for (const node of [a, b]) {
      const res = await node.request('GET', '/api/webhooks/targets', { token: node.adminToken });
      const ids = (res.json as { targets: Array<{ id: string }> }).targets.map((t) => t.id);
      expect(ids).not.toContain('gai-ro');
      expect(ids).not.toContain('khoa-la');
    }
  });

  it('a real target’s sealed secret moved into another entry, or its entry changed around it, is refused', async () => {
    const made = await a.request('POST', '/api/webhooks/targets', {
      token: a.adminToken,
      body: { id: 'that-that', url: 'https://example.org/that', secret: SECRET, filter: { kind: ['traffic'] } },
    });
    expect(made.status, made.text).toBe(201);
    const { redis: url, keyPrefix } = a.config.cluster;
    const probe = new Redis(url!);
    try {
      const real = JSON.parse((await probe.hget(`${keyPrefix}shared:webhooks`, 'that-that'))!) as {
        target: Record<string, unknown>;
      };
      const moved = { ...real, target: { ...real.target, id: 'gia-mao', url: 'https://attacker.example/x' } };
      await publishAsNodeX(probe, keyPrefix, 'webhooks', 'gia-mao', JSON.stringify(moved));
      const changed = { ...real, target: { ...real.target, url: 'https://attacker.example/y' } };
      await publishAsNodeX(probe, keyPrefix, 'webhooks', 'that-that', JSON.stringify(changed));
    } finally {
      probe.disconnect();
    }
    await skippedByBothNodes('gia-mao', 'that-that');
    for (const node of [a, b]) {
      const res = await node.request('GET', '/api/webhooks/targets', { token: node.adminToken });
      const targets = (res.json as { targets: Array<{ id: string; url: string }> }).targets;
      expect(targets.map((t) => t.id)).not.toContain('gia-mao');
      expect(targets.find((t) => t.id === 'that-that')?.url).toBe('https://example.org/that');
    }
    expect((await a.request('DELETE', '/api/webhooks/targets/that-that', { token: a.adminToken })).status).toBe(204);
  });

  it('hostile entries from Redis (silence of everything, endless code, URL password) are refused each', async () => {
    const { redis: url, keyPrefix } = a.config.cluster;
    const probe = new Redis(url!);
    const publish = (doc: string, key: string, value: unknown) =>
      publishAsNodeX(probe, keyPrefix, doc, key, JSON.stringify(value));
    const now = Date.now();
    const silence = (id: string, extra: Record<string, unknown>) => ({
      id,
      match: { sensorKind: ['air'] },
      reason: 'x',
      maintenance: false,
      createdBy: 'x',
      createdAt: now,
      startsAt: now,
      endsAt: now + 3_600_000,
      ...extra,
    });
    const hostile = {
      'im-lang-tat-ca': silence('im-lang-tat-ca', { match: {} }),
      'im-lang-mai-mai': silence('im-lang-mai-mai', { endsAt: undefined }),
      'im-lang-muoi-nam': silence('im-lang-muoi-nam', { endsAt: now + 10 * 366 * 86_400_000 }),
      'im-lang-cron-hong': silence('im-lang-cron-hong', {
        startsAt: undefined,
        endsAt: undefined,
        cron: 'x x x x x',
        durationMinutes: 60,
      }),
    };
    // a code whose expiry is not a time: it never expired, so it was claimable for ever
    const code = 'ABCDEFGHJKLM';
    const codeDigest = createHash('sha256').update(code).digest('hex');
    const password = 'mat-khau-trong-url-0123';
    try {
      for (const [id, value] of Object.entries(hostile)) await publish('silences', id, value);
      await publish('provisioning', codeDigest, {
        digest: codeDigest,
        sensorId: 'cam-sanbay',
        createdAt: new Date(now).toISOString(),
        createdBy: 'x',
        expiresAt: 'never',
      });
      // sealed as a node would: refused for its URL, not for its secret
      const target = { id: 'co-mat-khau', url: `https://u:${password}@example.org/x`, secret: SECRET, filter: {} };
      const entry = { target: { ...target, timeoutMs: 1000, allowPrivate: false }, createdBy: 'x', createdAt: now };
      const sealed = sealTargetSecret(canonicalJson(entry), secretSeal(TEST_CLUSTER_SECRET, 'webhook target secret'));
      await publishAsNodeX(probe, keyPrefix, 'webhooks', 'co-mat-khau', sealed);
      // one good silence after them all: once both nodes hold it, they have seen the hostile ones
      await publish('silences', 'im-lang-dung', silence('im-lang-dung', {}));
    } finally {
      probe.disconnect();
    }
    await waitFor('both nodes holding the good silence', () =>
      a.operations.silences.get('im-lang-dung') && b.operations.silences.get('im-lang-dung') ? true : undefined,
    );
    for (const node of [a, b]) {
      for (const id of Object.keys(hostile)) expect(node.operations.silences.get(id), id).toBeUndefined();
      const res = await node.request('GET', '/api/webhooks/targets', { token: node.adminToken });
      expect((res.json as { targets: Array<{ id: string }> }).targets.map((t) => t.id)).not.toContain('co-mat-khau');
      const claimed = await node.request('POST', '/api/provision', { token: null, body: { code } });
      expect(claimed.status, claimed.text).toBe(403);
    }
    expect(logs.text()).not.toContain(password);
    expect(logs.text()).not.toContain(SECRET);
  });
});

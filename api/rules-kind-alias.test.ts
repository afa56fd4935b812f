import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { trafficJamRule } from '../test-support/rule-fixtures.ts';

/** A client written before a rule's `kind` was renamed `type` (docs/names.md, docs/alerts-api.md). */
const rule = (id: string, names: Record<string, unknown>) => {
  const { type: _type, ...base } = trafficJamRule(id, 'traffic-phubai', { metric: 'intensity', above: 100 });
  return { ...base, ...names };
};

describe("the rules API and a rule's deprecated `kind`", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });
  const admin = () => ({ token: platform.adminToken });

  it('accepts `kind` as `type` and says in the answer that it is deprecated', async () => {
    const created = await platform.request('POST', '/api/rules', {
      ...admin(),
      body: rule('old-client', { kind: 'threshold' }),
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: 'old-client', type: 'threshold' });
    expect(created.json).not.toHaveProperty('kind');
    expect(created.headers.get('deprecation')).toBe('true');
    expect(created.headers.get('warning')).toMatch(/^299 - "kind is deprecated for a rule: use type/);

    const replaced = await platform.request('PUT', '/api/rules/old-client', {
      ...admin(),
      body: rule('old-client', { kind: 'threshold', severity: 'medium' }),
    });
    expect(replaced.status).toBe(200);
    expect(replaced.headers.get('deprecation')).toBe('true');

    const read = await platform.request('GET', '/api/rules/old-client');
    expect(read.json).toMatchObject({ type: 'threshold' });
    expect(read.json).not.toHaveProperty('kind');
  });

  it('says nothing of deprecation when the client sends `type`', async () => {
    const created = await platform.request('POST', '/api/rules', {
      ...admin(),
      body: rule('new-client', { type: 'threshold' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('deprecation')).toBeNull();
    expect(created.headers.get('warning')).toBeNull();
  });

  it('refuses `kind` and `type` that disagree with a clear error, and changes nothing', async () => {
    const refused = await platform.request('POST', '/api/rules', {
      ...admin(),
      body: rule('both-names', { kind: 'threshold', type: 'noData' }),
    });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ code: 'rule_invalid' });
    expect((refused.json as { message: string }).message).toContain(
      'kind: kind (deprecated) "threshold" and type "noData" disagree: keep only type',
    );
    expect((await platform.request('GET', '/api/rules/both-names')).status).toBe(404);
  });

  it('documents `type` in the OpenAPI document, with no `kind` in the Rule schema', async () => {
    type Schema = { properties?: Record<string, unknown>; oneOf?: Schema[]; anyOf?: Schema[] };
    const doc = (await platform.request('GET', '/api/openapi.json')).json as {
      paths: Record<string, { get: { responses: { 200: { content: { 'application/json': { schema: Schema } } } } } }>;
    };
    const schema = doc.paths['/api/rules/{id}']!.get.responses[200].content['application/json'].schema;
    const members = schema.oneOf ?? schema.anyOf ?? [schema];
    expect(members.length).toBeGreaterThanOrEqual(6);
    for (const member of members) {
      expect(member.properties).toHaveProperty('type');
      expect(member.properties).not.toHaveProperty('kind');
    }
  });
});

import pino from 'pino';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { hueCity, reading, startHarness, T0, type Harness } from './alert-test-kit.ts';
import { trafficJamRule, withDeprecatedKind } from '../test-support/rule-fixtures.ts';
import { parseRuleFile } from './load-rules.ts';

/** A rule file written before `kind` was renamed `type` (docs/names.md). */
const newRule = (id: string) => trafficJamRule(id, 'traffic-phuxuan');
const oldRule = (id: string, extra: Record<string, unknown> = {}) => ({ ...withDeprecatedKind(newRule(id)), ...extra });

describe("a rule's deprecated `kind`", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('loads as `type`, with one warning per file that names the file and its rules', () => {
    const text = stringify([oldRule('jam-a'), oldRule('jam-b'), newRule('jam-c')]);
    const { rules, issues, warnings } = parseRuleFile(text, 'rules/old.yaml', hueCity());
    expect(issues).toEqual([]);
    expect(rules.map((r) => [r.id, r.type])).toEqual([
      ['jam-a', 'threshold'],
      ['jam-b', 'threshold'],
      ['jam-c', 'threshold'],
    ]);
    expect(rules.some((r) => 'kind' in r)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ file: 'rules/old.yaml', field: 'kind' });
    expect(warnings[0]!.message).toContain('use type');
    expect(warnings[0]!.message).toContain('"jam-a" (#1), "jam-b" (#2)');
    expect(warnings[0]!.message).not.toContain('jam-c');
  });

  it('gives no warning when a file uses `type` only', () => {
    const { warnings, issues } = parseRuleFile(stringify([newRule('jam')]), 'rules/new.yaml', hueCity());
    expect({ warnings, issues }).toEqual({ warnings: [], issues: [] });
  });

  it('refuses `kind` and `type` that disagree, naming the field', () => {
    const { rules, issues } = parseRuleFile(
      stringify([oldRule('jam', { type: 'noData' })]),
      'rules/both.yaml',
      hueCity(),
    );
    expect(rules).toEqual([]);
    expect(issues).toEqual([
      expect.objectContaining({
        file: 'rules/both.yaml',
        ruleId: 'jam',
        field: 'kind',
        message: 'kind (deprecated) "threshold" and type "noData" disagree: keep only type',
      }),
    ]);
    // the same value under both names is not a conflict
    const same = parseRuleFile(stringify([oldRule('jam', { type: 'threshold' })]), 'rules/same.yaml', hueCity());
    expect(same.issues).toEqual([]);
    expect(same.rules).toHaveLength(1);
  });

  it('an old rule file still raises alerts, and the service logs its warning once at start', async () => {
    const lines: Array<{ level: number; msg: string; file?: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    h = await startHarness([oldRule('jam')], { logger });
    const warnings = lines.filter((l) => l.msg.includes('kind is deprecated'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, file: 'rules/test.yaml' });
    expect(warnings[0]!.msg).toContain('"jam" (#1)');
    h.events.emit('readings', [reading('traffic-phuxuan', { occupancy: 0.7 }, T0)]);
    await h.service.idle();
    expect(h.service.open().map((a) => a.ruleId)).toEqual(['jam']);
  });
});

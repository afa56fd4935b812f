import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { reading, startHarness, T0 } from './alert-test-kit.ts';
import { parseRuleFile } from './load-rules.ts';
import type { RuleTypeDefinition } from './rule-type.ts';
import { BUILTIN_RULE_TYPES, RuleTypes } from './rule-types.ts';

/**
 * The rule-kind contract's promise: a new kind is one file and one line in the list. The file below is
 * written to a temporary folder, outside the code base, and imports only the contract; nothing else in the
 * platform learns about it, yet its rules load, validate against the city, fire and resolve with its own
 * Vietnamese and English text.
 */
const here = (file: string) => JSON.stringify(pathToFileURL(join(import.meta.dirname, file)).href);
const FLATLINE_KIND = `
import { z } from 'zod';
import { advanceCondition, INACTIVE } from ${here('condition.ts')};
import { commonRuleFields, metricName, selectorSchema } from ${here('rule-fields.ts')};
import { defineRuleType, tickFor, unchanged } from ${here('rule-type.ts')};
import { selectSensors } from ${here('rule-targets.ts')};

/** A gauge stuck on one value: the same reading \`repeats\` times in a row. */
const schema = z.object({
  ...commonRuleFields,
  type: z.literal('flatline'),
  selector: selectorSchema,
  metric: metricName,
  repeats: z.number().int().min(2),
}).strict();

export const flatlineType = defineRuleType({
  type: 'flatline',
  schema,
  messages: {
    stuck: {
      vi: '{metric} tại {sensor} đứng yên ở {value} {unit} qua {threshold} lần đo',
      en: '{metric} at {sensor} stuck at {value} {unit} for {threshold} readings',
    },
  },
  targets: (rule, city) => selectSensors(city, rule.selector),
  check(rule, _city, checks) {
    checks.selector('selector', rule.selector);
    checks.metric('metric', 'selector', rule.selector, rule.metric);
  },
  initialState: () => ({ cond: INACTIVE, last: undefined, count: 0 }),
  evaluate(rule, target, state, input, now) {
    if (input.type === 'tick') return tickFor(rule, state, now);
    if (input.type !== 'reading' || input.reading.sensorId !== target.id) return unchanged(state);
    const value = input.reading.values[rule.metric];
    if (value === undefined) return unchanged(state);
    const count = value === state.last ? state.count + 1 : 1;
    const { cond, transition } = advanceCondition(
      state.cond,
      { holds: count >= rule.repeats, value, threshold: rule.repeats },
      now,
      0,
    );
    return { state: { cond, last: value, count }, transition };
  },
  describe: (rule) => ({ messageKey: 'stuck', metric: rule.metric }),
});
`;

describe('a rule type added as one file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-rule-kind-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const kindsWithFlatline = async () => {
    writeFileSync(join(dir, 'flatline-rule.ts'), FLATLINE_KIND);
    const mod = (await import(pathToFileURL(join(dir, 'flatline-rule.ts')).href)) as {
      flatlineType: RuleTypeDefinition<never, never>;
    };
    // the one line of registration
    return new RuleTypes([...BUILTIN_RULE_TYPES, mod.flatlineType] as unknown as ReadonlyArray<
      RuleTypeDefinition<never, never>
    >);
  };
  const rule = {
    id: 'kimlong-stuck',
    type: 'flatline',
    severity: 'low',
    category: 'naturalDisaster',
    subCategory: 'deviceFault',
    selector: { sensorIds: ['water-kimlong'] },
    metric: 'waterLevel',
    repeats: 3,
  };

  it('loads, fires and resolves with its own text, through the real alert service and store', async () => {
    const h = await startHarness([rule], { ruleTypes: await kindsWithFlatline() });
    try {
      for (const [i, value] of [1.2, 1.2, 1.2, 1.3].entries()) {
        h.clock.set(T0 + i * 60_000);
        h.events.emit('readings', [reading('water-kimlong', { waterLevel: value }, T0 + i * 60_000)]);
      }
      await h.settle();
      expect(h.seen.map((e) => e.type)).toEqual(['firing', 'resolved']);
      const fired = h.seen[0]!.alert;
      expect(fired.message.vi).toBe('Mực nước tại Trạm thủy văn Kim Long (sông Hương) đứng yên ở 1,2 m qua 3 lần đo');
      expect(fired.message.en).toBe('Water level at Trạm thủy văn Kim Long (sông Hương) stuck at 1.2 m for 3 readings');
    } finally {
      await h.close();
    }
  });

  it('is checked like a built-in: its schema and its city checks name the field', async () => {
    const kinds = await kindsWithFlatline();
    const city = (await import('./alert-test-kit.ts')).hueCity();
    const bad = parseRuleFile(
      JSON.stringify([
        { ...rule, repeats: 1 },
        { ...rule, id: 'b', metric: 'pm25' },
      ]),
      'x.yaml',
      city,
      kinds,
    );
    expect(bad.issues.map((i) => `${i.ruleId}: ${i.field}`)).toEqual(['kimlong-stuck: repeats', 'b: metric']);
    // without the registration line it is an unknown kind, and the message lists the kinds there are
    const unknown = parseRuleFile(JSON.stringify([rule]), 'x.yaml', city);
    expect(unknown.issues[0]?.message).toBe(
      'expected one of threshold, rateOfChange, noData, cameraEvent, compound, device-health, got "flatline"',
    );
  });
});

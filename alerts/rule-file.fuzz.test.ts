import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadCity } from '../config/city-config.ts';
import { fuzzParameters } from '../test-support/fuzz.ts';
import { parseRuleFile } from './load-rules.ts';
import { ruleSchema } from './rule-schema.ts';

/**
 * Rule files come from engineers and from the rules API: whatever they hold, parsing answers with rules
 * and issues and never throws (a throw here would stop the platform at start or answer 500).
 */
const city = loadCity(
  fileURLToPath(new URL('../config/cities/hue/city.yaml', import.meta.url)),
  fileURLToPath(new URL('../config/kinds', import.meta.url)),
);
const params = fuzzParameters(300);
const PROTO_NAMES = [...Object.getOwnPropertyNames(Object.prototype), '__proto__'];

const valid = {
  id: 'pm25-high',
  type: 'threshold',
  selector: { kinds: ['air'] },
  metric: 'pm25',
  above: 50,
  clearBelow: 40,
  for: '5m',
  severity: 'high',
  category: 'environment',
  subCategory: 'airPollution',
  message: { vi: 'PM2.5 tại {sensor} là {value}', en: 'PM2.5 at {sensor} is {value}' },
};
const FIELDS = [
  ...Object.keys(valid),
  'tags',
  'sensorIds',
  'districts',
  'eventTypes',
  'conditions',
  'alertSensor',
  'floodLevel',
  'window',
];

/** Any JSON-ish value, with the names that have broken lookups before among its keys and strings. */
const hostile = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.constantFrom(...PROTO_NAMES),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...PROTO_NAMES, ...FIELDS)), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** A valid rule with some fields replaced by anything. */
const mutatedRule = fc
  .record({
    replace: fc.dictionary(fc.constantFrom(...FIELDS, ...PROTO_NAMES), hostile, { maxKeys: 4 }),
    drop: fc.subarray(Object.keys(valid)),
  })
  .map(({ replace, drop }) => {
    const rule: Record<string, unknown> = { ...valid };
    for (const key of drop) delete rule[key];
    for (const [key, value] of Object.entries(replace))
      Object.defineProperty(rule, key, { value, enumerable: true, writable: true, configurable: true });
    return rule;
  });

function checkResult(text: string): void {
  const { rules, issues } = parseRuleFile(text, 'fuzz.yaml', city);
  for (const issue of issues) {
    expect(typeof issue.field).toBe('string');
    expect(typeof issue.message).toBe('string');
  }
  // whatever is accepted is a rule the engine can run
  for (const rule of rules) expect(ruleSchema.safeParse(rule).success).toBe(true);
}

describe('rule files, fuzzed', () => {
  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        checkResult(text);
      }),
      params,
    );
  });

  it('never throws on a valid rule with fields replaced by anything, prototype names included', () => {
    fc.assert(
      fc.property(fc.array(mutatedRule, { minLength: 1, maxLength: 3 }), (list) => {
        let text: string;
        try {
          text = stringify(list);
        } catch {
          return; // not representable as YAML: nothing an engineer could write
        }
        checkResult(text);
      }),
      params,
    );
  });

  it('accepts the unmutated rule (the generator starts from something valid)', () => {
    const { rules, issues } = parseRuleFile(stringify([valid]), 'fuzz.yaml', city);
    expect(issues).toEqual([]);
    expect(rules).toHaveLength(1);
  });
});

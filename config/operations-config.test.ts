import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { hueCity } from '../alerts/alert-test-kit.ts';
import { makeAlert } from '../alerts/delivery/alert-fixtures.ts';
import type { RuleBase } from '../alerts/rule-fields.ts';
import { routeAlert } from '../alerts/workflow/routing.ts';
import { HUE_DIR } from '../alerts/workflow/workflow-test-kit.ts';
import { checkSopPair } from './sop-config.ts';
import { loadOperations, parseOperations } from './operations-config.ts';

const noSops = { vi: {}, en: {} };
const agency = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: { vi: id, en: id }, ...extra });

describe('operations config', () => {
  it("loads Huế's agencies, routing, targets and SOPs", () => {
    const ops = loadOperations(HUE_DIR, hueCity());
    expect(ops.dutyDesk).toBe('ioc-duty');
    expect(ops.agenciesById.get('ubnd-kim-long')).toMatchObject({ district: 'Kim Long', escalatesTo: 'bch-pctt' });
    expect(ops.escalation.critical).toEqual({ acknowledge: 5 * 60_000, resolve: 60 * 60_000 });
    expect(ops.sops.vi.flood!.steps.map((s) => s.id)).toEqual(ops.sops.en.flood!.steps.map((s) => s.id));
    expect(Object.isFrozen(ops.agencies)).toBe(true);
  });

  it('names the field of every mistake', () => {
    const bad = {
      dutyDesk: 'nobody',
      agencies: [
        agency('a', { escalatesTo: 'ghost', district: 'Atlantis', hours: { from: '18:00', to: '08:00' } }),
        agency('a'),
      ],
      routing: [{ id: 'r', match: { sensorKind: ['submarine'], severity: ['dire'] }, to: 'ghost' }],
      escalation: { critical: { acknowledge: 'soon', resolve: '1h' } },
    };
    const schemaError = () => parseOperations(bad, hueCity(), noSops, 'ops.yaml');
    expect(schemaError).toThrow(/routing\.0\.match\.severity/);
    expect(schemaError).toThrow(/escalation\.critical\.acknowledge: "soon" is not a duration/);
    const { escalation: _e, routing: _r, ...rest } = bad;
    const cross = () =>
      parseOperations(
        { ...rest, routing: [{ id: 'r', match: { sensorKind: ['submarine'] }, to: 'ghost' }] },
        hueCity(),
        noSops,
        'ops.yaml',
      );
    for (const message of [
      /dutyDesk: no agency "nobody"/,
      /agencies\.1\.id: agency "a" is defined twice/,
      /agencies\.0\.escalatesTo: no agency "ghost"/,
      /agencies\.0\.district: no sensor of the city is in "Atlantis"/,
      /agencies\.0\.hours: from \(18:00\) must be before to \(08:00\)/,
      /routing\.0\.to: no agency "ghost"/,
      /routing\.0\.match\.sensorKind: unknown kind "submarine"/,
    ])
      expect(cross).toThrow(message);
  });

  it('wants the same procedure steps in both languages', () => {
    const step = (id: string) => ({ id, text: id, who: 'x', links: [], phones: [] });
    expect(
      checkSopPair(
        { flood: { title: 't', steps: [step('a'), step('b')] } },
        { flood: { title: 't', steps: [step('a')] }, fire: { title: 't', steps: [step('a')] } },
      ),
    ).toEqual([
      'flood: steps differ between vi.yaml (a,b) and en.yaml (a)',
      'fire: in en.yaml only; write it in both languages',
    ]);
  });

  describe("a route's rule type: ruleType, and ruleKind (its name before the rename) with a warning", () => {
    const hueFile = () =>
      parseYaml(readFileSync(join(HUE_DIR, 'operations.yaml'), 'utf8')) as {
        routing: Array<{ id: string; match: Record<string, unknown> }>;
      };
    /** Huế's file as written before the rename: every route's ruleType under its old name */
    const oldFile = () => {
      const file = hueFile();
      for (const r of file.routing) {
        if (!('ruleType' in r.match)) continue;
        const { ruleType, ...rest } = r.match;
        r.match = { ...rest, ruleKind: ruleType };
      }
      return file;
    };
    const healthTask = makeAlert({ ruleId: 'gauge-flatline', subCategory: 'deviceHealth', severity: 'medium' });
    const healthRule = { id: 'gauge-flatline', type: 'device-health' } as RuleBase;

    it("routes by ruleType in Huế's file, with no warning", () => {
      const ops = loadOperations(HUE_DIR, hueCity());
      expect(ops.deprecations).toEqual([]);
      expect(ops.routing.find((r) => r.id === 'device-health')!.match).toEqual({ ruleType: ['device-health'] });
      expect(routeAlert(ops, healthTask, healthRule)).toEqual({ agencyId: 'ioc-ky-thuat', route: 'device-health' });
      // a flood alert of another rule type is not the technical team's
      expect(routeAlert(ops, makeAlert(), { ...healthRule, type: 'threshold' }).agencyId).toBe('bch-pctt');
    });

    it('reads ruleKind as ruleType, one warning for the file naming its routes; the input is left as it was', () => {
      const raw = oldFile();
      const before = JSON.stringify(raw);
      const ops = parseOperations(raw, hueCity(), noSops, 'old/operations.yaml');
      expect(JSON.stringify(raw)).toBe(before);
      expect(ops.routing).toEqual(loadOperations(HUE_DIR, hueCity()).routing);
      expect(routeAlert(ops, healthTask, healthRule)).toEqual({ agencyId: 'ioc-ky-thuat', route: 'device-health' });
      expect(ops.deprecations).toHaveLength(1);
      expect(ops.deprecations[0]).toMatch(/^old\/operations\.yaml: routing match ruleKind is deprecated: use ruleType/);
      expect(ops.deprecations[0]).toContain('routes using it: "device-health", "camera-crowd"');
    });

    it('refuses both names with different values, naming the route', () => {
      const raw = hueFile();
      raw.routing[0]!.match = { ruleType: ['device-health'], ruleKind: ['noData'] };
      expect(() => parseOperations(raw, hueCity(), noSops, 'ops.yaml')).toThrow(
        'routing.0.match: ruleKind (deprecated) ["noData"] and ruleType ["device-health"] disagree: ' +
          'keep only ruleType',
      );
      // the same value under both names is taken, with the warning
      raw.routing[0]!.match = { ruleType: ['device-health'], ruleKind: ['device-health'] };
      expect(parseOperations(raw, hueCity(), noSops, 'ops.yaml').deprecations).toHaveLength(1);
    });
  });
});

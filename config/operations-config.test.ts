import { describe, expect, it } from 'vitest';
import { hueCity } from '../alerts/alert-test-kit.ts';
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
});

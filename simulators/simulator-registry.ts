import { readdirSync } from 'node:fs';
import { projectPath } from '../core/project-root.ts';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SensorKind } from '../config/city-config.ts';
import { ConfigError } from '../config/config-error.ts';
import type { AnySimulator } from './simulator-contract.ts';

// found from the project root: built, this module is part of dist/main.js
export const SIMULATORS_DIR = projectPath('simulators');
const FILE_PATTERN = /^[a-z0-9-]+-simulator\.ts$/;

function isSimulator(value: unknown): value is AnySimulator {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.kind === 'string' &&
    Array.isArray(v.metrics) &&
    typeof v.drivers === 'object' &&
    typeof v.createState === 'function' &&
    typeof v.generate === 'function'
  );
}

/**
 * Imports every `*-simulator.ts` in the folder: adding a sensor kind's simulator is adding one file.
 * Each file exports its simulator as `default` or as `simulator`.
 */
export async function loadSimulators(dir: string = SIMULATORS_DIR): Promise<Map<string, AnySimulator>> {
  const files = readdirSync(dir)
    .filter((f) => FILE_PATTERN.test(f))
    .sort();
  const simulators = new Map<string, AnySimulator>();
  const errors: string[] = [];
  for (const file of files) {
    let mod: Record<string, unknown>;
    try {
      // this folder's through a template literal esbuild can follow: the build (dist/) carries them all, as
      // they were when it was made
      mod = (
        dir === SIMULATORS_DIR
          ? await import(`./${file.slice(0, -'-simulator.ts'.length)}-simulator.ts`)
          : await import(pathToFileURL(join(dir, file)).href)
      ) as Record<string, unknown>;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      errors.push(`${file}: cannot be loaded (${reason}); a simulator added since the last build needs npm run build`);
      continue;
    }
    const sim = mod.default ?? mod.simulator;
    if (!isSimulator(sim)) {
      errors.push(
        `${file}: exports no simulator (default export or "simulator" ` +
          'with kind, metrics, drivers, createState, generate)',
      );
      continue;
    }
    if (simulators.has(sim.kind)) errors.push(`${file}: a simulator for kind "${sim.kind}" is already defined`);
    simulators.set(sim.kind, sim);
  }
  if (errors.length) throw new ConfigError(`invalid simulators in ${dir}:\n  - ${errors.join('\n  - ')}`);
  return simulators;
}

/** A simulator may only report metrics its kind declares: the platform would reject anything else. */
export function checkSimulatorsAgainstKinds(
  simulators: ReadonlyMap<string, AnySimulator>,
  kinds: ReadonlyMap<string, SensorKind>,
): void {
  const errors: string[] = [];
  for (const sim of simulators.values()) {
    const kind = kinds.get(sim.kind);
    if (!kind) continue; // a simulator for a kind this city does not use is harmless
    for (const metric of sim.metrics) {
      if (!kind.metrics[metric]) errors.push(`${sim.kind}: metric "${metric}" is not in config/kinds/${sim.kind}.yaml`);
    }
  }
  if (errors.length) throw new ConfigError(`simulators do not match their kinds:\n  - ${errors.join('\n  - ')}`);
}

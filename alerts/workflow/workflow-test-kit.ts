import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { parse } from 'yaml';
import { AuditLog } from '../../audit/audit-log.ts';
import { loadOperations, type Operations } from '../../config/operations-config.ts';
import type { AlertEvent } from '../alert-model.ts';
import { CONFIG_DIR, hueCity, reading, startHarness, type Harness } from '../alert-test-kit.ts';
import { createAlertOperations, type AlertOperations } from './alert-operations.ts';

/**
 * The alerts harness (real embedded store, simulated time) with the city's real operations config and
 * the workflow around the engine, plus a real audit log and the MQTT notices captured as published.
 * `restart()` rebuilds engine and workflow over the same files, as a process restart would.
 */
export interface WorkflowHarness {
  readonly h: Harness;
  readonly ops: Operations;
  readonly operations: AlertOperations;
  readonly audit: AuditLog;
  readonly published: Array<{
    topic: string;
    payload: {
      agencyId: string;
      reason: string;
      level?: number;
      offHours?: boolean;
      onBehalfOf?: string;
      event: AlertEvent;
    };
  }>;
  /** publishes water levels for a sensor and waits for the events */
  waterLevel(sensorId: string, value: number): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const HUE_DIR = join(CONFIG_DIR, 'cities/hue');

export function hueRules(file: string): unknown[] {
  return parse(readFileSync(join(HUE_DIR, 'rules', file), 'utf8')) as unknown[];
}

export async function startWorkflowHarness(
  rules: unknown[],
  /** logger: where the workflow logs (default: silent), e.g. test-support/log-capture.ts */
  options: { ops?: Operations; start?: number; logger?: Logger } = {},
): Promise<WorkflowHarness> {
  const h = await startHarness(rules, { start: options.start });
  const ops = options.ops ?? loadOperations(HUE_DIR, hueCity());
  const audit = AuditLog.open({
    dir: join(h.dataDir, 'audit'),
    clock: h.clock,
    logger: pino({ level: 'silent' }),
    maxFileBytes: 1 << 20,
  });
  const published: WorkflowHarness['published'] = [];
  const build = (): AlertOperations => {
    const built = createAlertOperations({
      ops,
      alerts: h.service,
      clock: h.clock,
      dataDir: h.dataDir,
      logger: options.logger ?? pino({ level: 'silent' }),
      audit,
      sensorKinds: [...hueCity().kinds.keys()],
      publish: async (topic, payload) => {
        published.push({ topic, payload: JSON.parse(payload.toString()) });
      },
    });
    built.start();
    return built;
  };
  const w: WorkflowHarness = {
    h,
    ops,
    audit,
    published,
    operations: build(),
    async waterLevel(sensorId, value) {
      h.events.emit('readings', [reading(sensorId, { waterLevel: value }, h.clock.now())]);
      await h.settle();
    },
    async restart() {
      await w.operations.stop();
      await h.restart();
      (w as { operations: AlertOperations }).operations = build();
    },
    async close() {
      await w.operations.stop();
      await audit.close();
      await h.close();
    },
  };
  return w;
}

export const duty = { name: 'ioc.truc', iocDuty: true } as const;
export const person = (name: string) => ({ name, iocDuty: false });

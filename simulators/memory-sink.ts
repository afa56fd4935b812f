import type { Sensor } from '../config/city-config.ts';
import type { SimStep, SimulationSink, SinkStats } from './simulation-sink.ts';

export interface MemorySink extends SimulationSink {
  /** every step per sensor id, in order */
  readonly steps: ReadonlyMap<string, readonly SimStep[]>;
  /** the readings of one sensor as (ts, values) pairs */
  readingsOf(sensorId: string): Array<{ ts: number; values: Readonly<Record<string, number>> }>;
}

/** Keeps everything in memory: for tests of simulators and scenarios without a broker. */
export function createMemorySink(): MemorySink {
  const steps = new Map<string, SimStep[]>();
  let readings = 0;
  let events = 0;
  let connected = 0;
  return {
    steps,
    readingsOf: (id) => (steps.get(id) ?? []).flatMap((s) => (s.values ? [{ ts: s.ts, values: s.values }] : [])),
    async open(sensors: readonly Sensor[]) {
      connected = sensors.length;
      for (const s of sensors) steps.set(s.id, []);
    },
    write(sensor, step) {
      steps.get(sensor.id)?.push(step) ?? steps.set(sensor.id, [step]);
      if (step.values) readings++;
      events += step.events?.length ?? 0;
    },
    endTick() {},
    isBusy: () => false,
    async drain() {},
    async close() {
      connected = 0;
    },
    stats: (): SinkStats => ({ readings, acknowledged: readings, rejected: 0, failed: 0, events, connected }),
  };
}

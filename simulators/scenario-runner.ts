import type { City, Sensor } from '../config/city-config.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { createLocalTimeFn } from './local-time.ts';
import { driversAt, type ResolvedScenario } from './scenario-loader.ts';
import { createRandom, hashSeed, type Random } from './seeded-random.ts';
import type { AnySimulator } from './simulator-contract.ts';
import type { SimulationSink, SinkStats } from './simulation-sink.ts';

/**
 * Plays a resolved scenario: advances simulated time with a Clock at a speed factor, calls each device's
 * generator at its reading times and hands the output to a sink. A device's reading times are fixed
 * (start + its phase + k * interval) whatever the real scheduling, so a seed gives the same readings on a
 * slow machine as on a fast one; a device whose sink is busy simply catches up on the next tick.
 */
export interface RunOptions {
  readonly resolved: ResolvedScenario;
  readonly city: City;
  readonly simulators: ReadonlyMap<string, AnySimulator>;
  readonly sink: SimulationSink;
  readonly clock: Clock;
  /** simulated ms per real ms (default: the scenario's speed) */
  readonly speed?: number;
  /** simulated ms between a device's readings (default: the scenario's interval) */
  readonly interval?: number;
  /** simulated start, epoch ms (default: from the scenario, see scenario-schema `start`) */
  readonly start?: number;
  /** the devices to play (default: every sensor the scenario selects) */
  readonly sensors?: readonly Sensor[];
  readonly seed?: number;
  /** real ms between ticks (default: a quarter of a device's real interval, 20-500 ms) */
  readonly tickMs?: number;
  /** cap simulated time at the wall clock, since the platform rejects readings from the future (default true) */
  readonly noFuture?: boolean;
}

export interface RunProgress {
  readonly phase: 'replay' | 'live' | 'done';
  readonly simNow: number;
  readonly simStart: number;
  readonly simEnd: number;
  readonly devices: number;
  readonly sink: SinkStats;
}

export interface ScenarioRun {
  readonly simStart: number;
  readonly simEnd: number;
  progress(): RunProgress;
  /** stops (in the live phase, or early), drains the sink and closes it */
  stop(): Promise<RunProgress>;
  /** settles when the run ends by itself (then: stop) or is stopped */
  readonly done: Promise<RunProgress>;
}

interface Device {
  readonly sensor: Sensor;
  readonly simulator: AnySimulator;
  readonly rng: Random;
  readonly state: unknown;
  readonly effects: ReturnType<ResolvedScenario['effectsFor']>;
  readonly phase: number;
  nextDue: number;
  lastTs: number;
}

const MAX_STEPS_PER_TICK = 500;

/** Where simulated time begins for a scenario started at `realNow` (see scenario-schema `start`). */
export function resolveSimStart(
  scenario: { start?: string; startLocalTime?: string; duration: number },
  speed: number,
  realNow: number,
  timezone: string,
): number {
  const { start, startLocalTime, duration } = scenario;
  const offset = start ? /^-(\d+(?:\.\d+)?)([smhd])$/.exec(start) : null;
  if (offset)
    return (
      realNow -
      Number(offset[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[offset[2] as 's' | 'm' | 'h' | 'd']
    );
  if (start) {
    const at = Date.parse(start);
    if (Number.isNaN(at))
      throw new RangeError(`start "${start}" is neither an ISO-8601 instant nor an offset like -6h`);
    return at;
  }
  // The latest start from which the run, at this speed, never gets ahead of the wall clock.
  const latest = realNow - duration * (1 - 1 / Math.max(1, speed));
  if (!startLocalTime) return latest;
  const [h, m] = startLocalTime.split(':').map(Number) as [number, number];
  const localHour = createLocalTimeFn(timezone)(latest).hour;
  const back = (((localHour - (h + m / 60)) % 24) + 24) % 24;
  return Math.round((latest - back * 3_600_000) / 60_000) * 60_000;
}

export async function startScenarioRun(options: RunOptions): Promise<ScenarioRun> {
  const { resolved, city, simulators, sink, clock } = options;
  const scenario = resolved.scenario;
  const speed = options.speed ?? scenario.speed;
  const interval = options.interval ?? scenario.interval;
  const seed = options.seed ?? scenario.seed;
  const noFuture = options.noFuture ?? true;
  const sensors = options.sensors ?? resolved.sensors;
  const unplayable = sensors.find((s) => !simulators.has(s.kind));
  if (unplayable) throw new RangeError(`no simulator for kind "${unplayable.kind}" (sensor ${unplayable.id})`);
  // Connecting a large fleet takes a while: time starts once the devices can publish.
  await sink.open(sensors);
  const realStart = clock.now();
  const simStart = options.start ?? resolveSimStart(scenario, speed, realStart, city.timezone);
  const simEnd = simStart + scenario.duration;
  const localTime = createLocalTimeFn(city.timezone);

  const devices: Device[] = sensors.map((sensor) => {
    const simulator = simulators.get(sensor.kind);
    if (!simulator) throw new RangeError(`no simulator for kind "${sensor.kind}" (sensor ${sensor.id})`);
    const rng = createRandom(hashSeed(seed, sensor.id));
    const phase = Math.floor(rng.next() * interval);
    const state = simulator.createState(sensor, rng);
    return {
      sensor,
      simulator,
      rng,
      state,
      effects: resolved.effectsFor(sensor.id),
      phase,
      nextDue: simStart + phase,
      lastTs: simStart + phase - interval,
    };
  });

  let phase: RunProgress['phase'] = 'replay';
  let simNow = simStart;
  let timer: TimerHandle | undefined;
  let settle!: (p: RunProgress) => void;
  const done = new Promise<RunProgress>((resolve) => {
    settle = resolve;
  });
  const progress = (): RunProgress => ({
    phase,
    simNow,
    simStart,
    simEnd,
    devices: devices.length,
    sink: sink.stats(),
  });

  const emit = (device: Device, ts: number): void => {
    const kind = city.kinds.get(device.sensor.kind)!;
    const out = device.simulator.generate(device.state, ts, {
      rng: device.rng,
      local: localTime(ts),
      stepMs: ts - device.lastTs,
      drivers: driversAt(device.simulator, device.effects, ts - simStart),
      kind,
    });
    device.lastTs = ts;
    if (out.values || out.events?.length || out.status) sink.write(device.sensor, { ts, ...out });
  };

  const goLive = (): void => {
    phase = 'live';
    const now = clock.now();
    for (const d of devices) d.nextDue = Math.max(d.lastTs + 1, now + (d.phase % scenario.liveInterval));
  };

  const finish = async (): Promise<RunProgress> => {
    if (phase === 'done') return done;
    timer?.cancel();
    phase = 'done';
    sink.endTick();
    await sink.drain();
    await sink.close();
    const last = progress();
    settle(last);
    return last;
  };

  const tick = (): void => {
    if (phase === 'done') return;
    const real = clock.now();
    if (phase === 'replay') {
      simNow = Math.min(simEnd, simStart + (real - realStart) * speed);
      if (noFuture) simNow = Math.min(simNow, real);
    } else {
      simNow = real;
    }
    const step = phase === 'live' ? scenario.liveInterval : interval;
    const limit = phase === 'live' ? simNow : Math.min(simNow, simEnd);
    let pending = false;
    for (const d of devices) {
      for (let n = 0; d.nextDue <= limit && n < MAX_STEPS_PER_TICK && !sink.isBusy(d.sensor.id); n++) {
        emit(d, d.nextDue);
        d.nextDue += step;
      }
      if (phase === 'replay' && d.nextDue <= simEnd) pending = true;
    }
    sink.endTick();
    if (phase === 'replay' && !pending && simNow >= simEnd) {
      if (scenario.then === 'live') goLive();
      else void finish();
    }
  };

  const realInterval = phase === 'replay' ? interval / speed : scenario.liveInterval;
  const tickMs = options.tickMs ?? Math.min(500, Math.max(20, realInterval / 4));
  timer = clock.setInterval(tick, tickMs);
  tick();

  return { simStart, simEnd, progress, stop: finish, done };
}

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCity, type Sensor } from '../../config/city-config.ts';
import { systemClock } from '../../core/clock.ts';
import { readCredentialsFile } from '../../config/credentials.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import { formatDuration, parseDuration } from '../../core/duration.ts';

/** progress shows whole seconds of simulated time */
const wholeSeconds = (ms: number) => Math.max(0, Math.round(ms / 1000) * 1000);
import { writeFleetCity } from '../../simulators/fleet-city.ts';
import { createMqttFleetSink, type DeviceLogin } from '../../simulators/mqtt-fleet-sink.ts';
import { listScenarios, loadScenario, resolveScenario } from '../../simulators/scenario-loader.ts';
import { startScenarioRun, type RunProgress } from '../../simulators/scenario-runner.ts';
import { loadSimulators } from '../../simulators/simulator-registry.ts';
import type { CliCommand, CliIo } from '../cli-command.ts';

const USAGE = `usage: ioc simulate --scenario NAME [options]
  --scenario NAME|FILE   a scenario in simulators/scenarios/ (${listScenarios().join(', ')}) or a YAML file
  --devices N            play the first N sensors the scenario selects (default: all of them)
  --rate R               readings per second across the fleet (default: the scenario's interval / speed)
  --speed X              simulated seconds per real second (default: the scenario's)
  --broker URL           mqtt://host:port or ws://host:port/mqtt (default mqtt://127.0.0.1:<mqtt.port>)
  --credentials FILE     device logins (default <dataDir>/credentials.json of the platform config)
  --password P           one password for every device (username = sensor id) instead of the file
  --insecure             connect without credentials (a broker in insecure mode)
  --operator-token T     count rejections with one operator subscription (default: the file's operator)
  --city FILE            the city whose sensors to play (default: the platform config's)
  --seed S, --start T    override the scenario's seed, or its start (ISO-8601 or -6h)
  --interval D           simulated time between a device's readings (e.g. 30s, 10m)
  --concurrency C        connections opened at once (default 200)
  --config FILE          platform config file (default config/default.yaml or IOC_CONFIG)
  ioc simulate --write-fleet-city DIR --devices N   write a city of N devices for sizing runs
Exit status: 0 when every reading was acknowledged, 1 when the platform rejected or lost any, 2 on usage errors.`;

const OPTIONS = {
  scenario: { type: 'string' },
  devices: { type: 'string' },
  rate: { type: 'string' },
  speed: { type: 'string' },
  broker: { type: 'string' },
  credentials: { type: 'string' },
  password: { type: 'string' },
  insecure: { type: 'boolean' },
  'operator-token': { type: 'string' },
  city: { type: 'string' },
  seed: { type: 'string' },
  start: { type: 'string' },
  interval: { type: 'string' },
  concurrency: { type: 'string' },
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  'write-fleet-city': { type: 'string' },
  help: { type: 'boolean' },
} as const;

class UsageError extends Error {}

function positive(name: string, raw: string | undefined, integer = false): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  return value;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Times as the city's people read them: in its zone, e.g. "2026-11-12 07:00 (Asia/Ho_Chi_Minh)". */
function cityTime(timezone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, dateStyle: 'short', timeStyle: 'short' });
  return (ms) => `${format.format(ms)} (${timezone})`;
}

function describe(p: RunProgress, rate: number, at: (ms: number) => string): string {
  const s = p.sink;
  const sim = at(p.simNow);
  const done =
    p.phase === 'live'
      ? 'live'
      : `${formatDuration(wholeSeconds(p.simNow - p.simStart))}/${formatDuration(wholeSeconds(p.simEnd - p.simStart))}`;
  return (
    `sent ${fmt(s.readings)} · ${fmt(rate)}/s · acked ${fmt(s.acknowledged)} · rejected ${fmt(s.rejected)} · ` +
    `failed ${fmt(s.failed)} · online ${fmt(s.connected)}/${fmt(p.devices)} · sim ${sim} ${done}`
  );
}

export const simulateCommand: CliCommand = {
  name: 'simulate',
  summary: 'play a scenario with a simulated fleet of MQTT devices',
  usage: USAGE,
  async run(args, io) {
    try {
      return await simulate(args, io);
    } catch (err) {
      if (err instanceof UsageError) {
        io.err(`ioc simulate: ${err.message}\n${USAGE}`);
        return 2;
      }
      throw err;
    }
  },
};

async function simulate(args: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    io.out(USAGE);
    return 0;
  }
  const config = loadPlatformConfig({ env: { ...process.env, ...(v.config ? { IOC_CONFIG: v.config } : {}) } });
  const cityFile = v.city ? resolve(v.city) : config.cityFile;
  const city = loadCity(cityFile, config.kindsDir);
  const at = cityTime(city.timezone);
  const devicesWanted = positive('devices', v.devices, true);

  if (v['write-fleet-city']) {
    if (!devicesWanted) throw new UsageError('--write-fleet-city needs --devices N');
    const file = writeFleetCity(resolve(v['write-fleet-city']), city, cityFile, devicesWanted);
    io.out(
      `wrote ${file} with ${devicesWanted} sensors. Start the platform on a fresh data directory with ` +
        `IOC_CITY=${file},\nthen: ioc simulate --city ${file} ` +
        `--scenario pollution-episode --devices ${devicesWanted}`,
    );
    return 0;
  }
  if (!v.scenario) throw new UsageError('--scenario is required');

  const simulators = await loadSimulators();
  const scenario = loadScenario(v.scenario);
  const resolved = resolveScenario(scenario, city, simulators);
  if (devicesWanted && devicesWanted > resolved.sensors.length) {
    throw new UsageError(
      `scenario "${scenario.name}" selects ${resolved.sensors.length} sensors of city ${city.id}; ` +
        `for ${devicesWanted} devices write a fleet city: ioc ` +
        `simulate --write-fleet-city DIR --devices ${devicesWanted}`,
    );
  }
  const sensors: readonly Sensor[] = resolved.sensors.slice(0, devicesWanted ?? resolved.sensors.length);
  const speed = positive('speed', v.speed) ?? scenario.speed;
  const rate = positive('rate', v.rate);
  let interval = v.interval !== undefined ? parseDuration(v.interval) : undefined;
  if (v.interval !== undefined && !interval)
    throw new UsageError(`--interval "${v.interval}" is not a duration (e.g. 30s, 10m)`);
  if (rate) interval = Math.max(1, Math.round((speed * sensors.length * 1000) / rate));
  const seed = v.seed === undefined ? undefined : Number(v.seed);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff))
    throw new UsageError('--seed must be an integer 0..4294967295');
  let start: number | undefined;
  if (v.start !== undefined) {
    const offset = parseDuration(v.start.replace(/^-/, ''));
    start = v.start.startsWith('-') && offset !== undefined ? Date.now() - offset : Date.parse(v.start);
    if (Number.isNaN(start)) throw new UsageError(`--start "${v.start}" is neither ISO-8601 nor an offset like -6h`);
  }

  const { loginOf, operator } = logins(v, config.dataDir, sensors);
  const broker = v.broker ?? `mqtt://127.0.0.1:${config.mqtt.port}`;
  const sink = createMqttFleetSink({
    url: broker,
    loginOf,
    operator,
    connectConcurrency: positive('concurrency', v.concurrency, true),
    logger: { info: (m) => io.err(m), warn: (m) => io.err(`warning: ${m}`) },
  });
  const realInterval = (interval ?? scenario.interval) / speed;
  io.err(
    `${scenario.name}: ${sensors.length} devices -> ${broker}, ${formatDuration(scenario.duration)} simulated ` +
      `at ${speed}x, a reading every ${formatDuration(interval ?? scenario.interval)} simulated ` +
      `(${(realInterval / 1000).toFixed(2)} s real) per device`,
  );

  const startedAt = Date.now();
  const run = await startScenarioRun({
    resolved,
    city,
    simulators,
    sink,
    clock: systemClock,
    speed,
    interval,
    start,
    seed,
    sensors,
  });
  const tty = Boolean(process.stderr.isTTY);
  let lastAcked = 0;
  let lastAt = Date.now();
  let lastPrinted = 0;
  const ticker = setInterval(() => {
    const p = run.progress();
    const now = Date.now();
    const perSecond = ((p.sink.acknowledged - lastAcked) * 1000) / Math.max(1, now - lastAt);
    lastAcked = p.sink.acknowledged;
    lastAt = now;
    if (tty) process.stderr.write(`\r\x1b[2K${describe(p, perSecond, at)}`);
    else if (now - lastPrinted >= 10_000) {
      lastPrinted = now;
      io.err(describe(p, perSecond, at));
    }
  }, 1000);
  const onSignal = () => void run.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const final = await run.done;
  clearInterval(ticker);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (tty) process.stderr.write('\r\x1b[2K');

  const s = final.sink;
  const seconds = (Date.now() - startedAt) / 1000;
  const failures = sink.connectFailures();
  io.out(
    `${scenario.name}: ${fmt(s.readings)} readings sent in ${seconds.toFixed(1)} s ` +
      `(${fmt(s.acknowledged / Math.max(0.001, seconds))}/s): ` +
      `${fmt(s.acknowledged)} acknowledged, ${fmt(s.rejected)} rejected, ${fmt(s.failed)} not ` +
      `acknowledged; ${fmt(s.events)} camera events; ` +
      `${sensors.length - failures.count}/${sensors.length} devices connected; ` +
      `simulated ${at(final.simStart)} to ${at(final.simNow)}`,
  );
  if (s.rejected > 0)
    io.err(
      `the platform rejected ${fmt(s.rejected)} readings: its reasons are on ioc/{kind}/{sensorId}/errors ` +
        `(e.g. mosquitto_sub -t 'ioc/+/+/errors')`,
    );
  return s.rejected > 0 || s.failed > 0 || failures.count > 0 ? 1 : 0;
}

function logins(
  v: { password?: string; insecure?: boolean; credentials?: string; 'data-dir'?: string; 'operator-token'?: string },
  dataDir: string,
  sensors: readonly Sensor[],
): { loginOf: (id: string) => DeviceLogin | undefined; operator?: DeviceLogin } {
  const operatorFromOption = v['operator-token'] ? { username: 'operator', password: v['operator-token'] } : undefined;
  if (v.insecure) return { loginOf: () => undefined, operator: operatorFromOption };
  if (v.password) return { loginOf: (id) => ({ username: id, password: v.password! }), operator: operatorFromOption };
  const file = v.credentials
    ? resolve(v.credentials)
    : join(v['data-dir'] ? resolve(v['data-dir']) : dataDir, 'credentials.json');
  if (!existsSync(file))
    throw new UsageError(`no credentials file at ${file}: pass --credentials FILE, --password P or --insecure`);
  const creds = readCredentialsFile(file);
  const byId = new Map(creds.devices.map((d) => [d.sensorId, { username: d.username, password: d.password }]));
  const missing = sensors.filter((s) => !byId.has(s.id)).map((s) => s.id);
  if (missing.length)
    throw new UsageError(
      `${missing.length} devices have no login in ${file} (${missing.slice(0, 5).join(', ')}` +
        `${missing.length > 5 ? ', ...' : ''})`,
    );
  return {
    loginOf: (id) => byId.get(id),
    operator: operatorFromOption ?? { username: creds.operator.username, password: creds.operator.token },
  };
}

import type { City } from '../config/city-config.ts';
import type { Clock } from '../core/clock.ts';
import type { CredentialsFile } from '../config/credentials.ts';
import { createMqttFleetSink } from './mqtt-fleet-sink.ts';
import { loadScenario, resolveScenario } from './scenario-loader.ts';
import { startScenarioRun } from './scenario-runner.ts';
import { loadSimulators } from './simulator-registry.ts';

/**
 * The fleet `npm start` runs in-process when the profile is demo and demo.enabled: every sensor of the
 * city as its own MQTT client against the platform's broker, playing the `demo` scenario (flood alarm
 * levels and a pollution spike within the first minute, then real-time background readings). It uses
 * the same device logins a real fleet would, so it exercises authentication, ingest and alerts for real.
 */
export interface DemoFleetLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface DemoFleetOptions {
  readonly mqttUrl: string;
  readonly credentials: CredentialsFile;
  readonly city: City;
  readonly clock: Clock;
  readonly logger: DemoFleetLogger;
  /** a scenario name or file (default `demo`) */
  readonly scenario?: string;
}

export interface DemoFleet {
  stop(): Promise<void>;
}

export async function startDemoFleet(options: DemoFleetOptions): Promise<DemoFleet> {
  const { credentials, city, clock, logger } = options;
  const simulators = await loadSimulators();
  const resolved = resolveScenario(loadScenario(options.scenario ?? 'demo'), city, simulators);
  const logins = new Map(credentials.devices.map((d) => [d.sensorId, { username: d.username, password: d.password }]));
  const sensors = resolved.sensors.filter((s) => logins.has(s.id));
  if (sensors.length < resolved.sensors.length)
    logger.warn(`demo fleet: ${resolved.sensors.length - sensors.length} sensors have no credentials and stay silent`);
  const sink = createMqttFleetSink({
    url: options.mqttUrl,
    loginOf: (id) => logins.get(id),
    operator: { username: credentials.operator.username, password: credentials.operator.token },
    logger,
  });
  const run = await startScenarioRun({ resolved, city, simulators, sink, clock, sensors });
  const { scenario } = resolved;
  logger.info(
    `demo fleet: ${sensors.length} simulated devices playing "${scenario.name}" (${scenario.title.en}); set ` +
      'demo.enabled: false (IOC_DEMO=0) to turn it off',
  );
  let stopping: Promise<void> | undefined;
  return {
    stop: () => (stopping ??= run.stop().then(() => undefined)),
  };
}

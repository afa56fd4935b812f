import type { Logger } from 'pino';
import type { City } from './config/city-config.ts';
import type { CredentialsFile } from './config/credentials.ts';
import type { PlatformConfig } from './config/platform-config.ts';
import type { Clock } from './core/clock.ts';
import type { DemoFleet } from './simulators/demo-fleet.ts';

/**
 * The demo fleet plays the default city in-process so a fresh clone shows data and alerts at once; a
 * production profile never runs it, and demo.enabled: false (IOC_DEMO=0) turns it off. A fleet that
 * cannot start is a warning, never a failed start.
 */
export async function startDemoIfEnabled(deps: {
  config: PlatformConfig;
  credentials: CredentialsFile | undefined;
  mqttUrl: string;
  city: City;
  clock: Clock;
  logger: Logger;
}): Promise<DemoFleet | undefined> {
  const { config, credentials, mqttUrl, city, clock, logger } = deps;
  if (config.profile !== 'demo' || !config.demo.enabled || !credentials) return undefined;
  // loaded only here: the fleet pulls in the MQTT client and the simulators, which a production start never needs
  const { startDemoFleet } = await import('./simulators/demo-fleet.ts');
  return startDemoFleet({ mqttUrl, credentials, city, clock, logger: logger.child({ module: 'demo' }) }).catch(
    (err: Error) => {
      logger.warn({ err: err.message }, 'the demo fleet could not start');
      return undefined;
    },
  );
}
